//! The real `import` command killed with SIGKILL at random moments of a
//! 5,000-row upload and resumed each time: the sandbox must end with each
//! row exactly once and the journal with every row created.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rand::Rng as _;
use tokio::process::{Child, Command};

use customer_importer::sandbox::{FaultConfig, RunningSandbox, Sandbox, SandboxConfig};
use customer_importer::upload::journal::Journal;

const ROWS: u32 = 5_000;
const KILLS: usize = 20;
/// Kills that happen a short random time after start, which can land
/// while the file is read or the run is recorded, before any request.
const EARLY_KILLS: usize = 4;
/// Upper bound on waiting for the importer to reach a kill point or to
/// finish.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);
const TOKEN: &str = "resume-test-token-41b7";

fn write_customers(dir: &Path) -> PathBuf {
    let path = dir.join("customers.csv");
    let mut text = String::from("First Name,Last Name,Email\r\n");
    for index in 0..ROWS {
        text.push_str(&format!(
            "Resume,Person{index},resume{index}@example.com\r\n"
        ));
    }
    std::fs::write(&path, text).expect("write customers");
    path
}

fn start_import(file: &Path, home: &Path, sandbox: &RunningSandbox, resume: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-importer"));
    command
        .arg("import")
        .arg(file)
        .args([
            "--location",
            sandbox.location(),
            "--env",
            &sandbox.base_url(),
        ])
        .args(["--timeout-secs", "5"])
        .arg("--report-dir")
        .arg(home.join("reports"))
        .env("CUSTOMER_IMPORTER_HOME", home)
        .env("VENDASTA_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if resume {
        command.arg("--resume");
    }
    command.spawn().expect("importer starts")
}

/// Returns whether the journal contains a run to resume; `None` when its
/// run has nothing left to send.
fn has_unfinished_run(home: &Path) -> Option<bool> {
    let path = home.join("data").join("journal.sqlite3");
    if !path.exists() {
        return Some(false);
    }
    let journal = Journal::open(&path).expect("journal opens after a kill");
    let runs = journal.runs().expect("runs");
    match runs.first() {
        None => Some(false),
        Some(run) if run.is_unfinished() => Some(true),
        Some(_) => None,
    }
}

/// Waits until the sandbox has received `requests` customers requests or
/// the importer has exited; returns whether it is still running.
async fn wait_for_requests(child: &mut Child, sandbox: &RunningSandbox, requests: u64) -> bool {
    let wait = async {
        loop {
            if child.try_wait().expect("child status").is_some() {
                return false;
            }
            if sandbox.stats().requests >= requests {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::time::timeout(STEP_TIMEOUT, wait)
        .await
        .expect("importer made progress in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_resume_loses_nothing() {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            // Keeps a few requests on the wire at every moment.
            latency: Duration::from_millis(2),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let file = write_customers(home.path());
    let mut random = rand::rng();

    let mut kills = 0;
    while kills < KILLS {
        let Some(resume) = has_unfinished_run(home.path()) else {
            break;
        };
        let mut child = start_import(&file, home.path(), &sandbox, resume);
        let running = if kills < EARLY_KILLS {
            let delay = Duration::from_millis(random.random_range(0..400));
            tokio::time::sleep(delay).await;
            true
        } else {
            let share = u64::from(ROWS) / KILLS as u64;
            let target = sandbox.stats().requests + random.random_range(1..share);
            wait_for_requests(&mut child, &sandbox, target).await
        };
        if running {
            child.start_kill().expect("SIGKILL");
        }
        child.wait().await.expect("importer exits");
        kills += 1;
    }

    if let Some(resume) = has_unfinished_run(home.path()) {
        let mut child = start_import(&file, home.path(), &sandbox, resume);
        let status = tokio::time::timeout(STEP_TIMEOUT, child.wait())
            .await
            .expect("last run finishes in time")
            .expect("importer exits");
        assert!(status.success(), "last run exit status {status}");
    }

    let mut on_server: HashMap<String, usize> = HashMap::new();
    for record in sandbox.customers(sandbox.location()) {
        for email in record.customer.email_addresses {
            *on_server.entry(email.to_string()).or_default() += 1;
        }
    }
    for index in 0..ROWS {
        let email = format!("resume{index}@example.com");
        assert_eq!(on_server.get(&email), Some(&1), "{email} on the server");
    }
    assert_eq!(on_server.len(), ROWS as usize);

    let journal =
        Journal::open(&home.path().join("data").join("journal.sqlite3")).expect("journal");
    let runs = journal.runs().expect("runs");
    assert_eq!(
        runs.len(),
        1,
        "every start after the first resumed the same run"
    );
    assert_eq!(runs[0].counts.created, u64::from(ROWS));
    assert_eq!(runs[0].counts.total(), u64::from(ROWS));
    assert!(
        kills >= EARLY_KILLS,
        "the importer was killed {kills} times"
    );
}

/// Writes a CSV of `rows` customers with unique emails.
fn write_small_customers(dir: &Path, rows: u32) -> PathBuf {
    let path = dir.join("small.csv");
    let mut text = String::from("First Name,Last Name,Email\n");
    for index in 0..rows {
        text.push_str(&format!("Small,Person{index},small{index}@example.com\n"));
    }
    std::fs::write(&path, text).expect("write customers");
    path
}

fn import_command(file: &Path, home: &Path, sandbox: &RunningSandbox, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-importer"));
    command
        .arg("import")
        .arg(file)
        .args([
            "--location",
            sandbox.location(),
            "--env",
            &sandbox.base_url(),
        ])
        .args(["--max-concurrency", "4"])
        .arg("--report-dir")
        .arg(home.join("reports"))
        .env("CUSTOMER_IMPORTER_HOME", home)
        .env("VENDASTA_TOKEN", token)
        .kill_on_drop(true);
    command
}

fn assert_small_rows_once(sandbox: &RunningSandbox, rows: u32) {
    let customers = sandbox.customers(sandbox.location());
    assert_eq!(customers.len(), rows as usize, "customers on the server");
    let emails: std::collections::HashSet<compact_str::CompactString> = customers
        .into_iter()
        .flat_map(|record| record.customer.email_addresses)
        .collect();
    assert_eq!(emails.len(), rows as usize, "distinct emails on the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_run_resumes_with_new_token() {
    const ROWS: u32 = 600;
    let sandbox = Sandbox::start(SandboxConfig {
        tokens: vec![customer_importer::secret::Secret::new("token-0-aa")],
        token_ttl: Some(Duration::from_secs(2)),
        faults: FaultConfig {
            // 600 rows, 4 at a time, 30 ms each: 4.5 s at least, longer
            // than one token lives.
            latency: Duration::from_millis(30),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let file = write_small_customers(home.path(), ROWS);

    let mut runs = 0;
    let mut token = "token-0-aa".to_owned();
    loop {
        let mut command = import_command(&file, home.path(), &sandbox, &token);
        if runs > 0 {
            command.arg("--resume");
        }
        let output = tokio::time::timeout(STEP_TIMEOUT, command.output())
            .await
            .expect("import ends in time")
            .expect("importer runs");
        runs += 1;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            assert!(stderr.contains("0 failed"), "{stderr}");
            break;
        }
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("API token was not accepted"), "{stderr}");
        assert!(stderr.contains("--resume"), "{stderr}");
        assert!(runs < 10, "a new token lets the run go on");
        token = format!("token-{runs}-aa");
        sandbox.add_token(customer_importer::secret::Secret::new(token.clone()));
    }

    assert!(runs >= 2, "the first token expired part way");
    assert_small_rows_once(&sandbox, ROWS);
    let journal =
        Journal::open(&home.path().join("data").join("journal.sqlite3")).expect("journal");
    let runs = journal.runs().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].counts.failed, 0);
    assert_eq!(runs[0].counts.created, u64::from(ROWS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_and_run_resumes() {
    const ROWS: u32 = 400;
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            latency: Duration::from_millis(20),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let file = write_small_customers(home.path(), ROWS);

    let mut command = import_command(&file, home.path(), &sandbox, "ctrl-c-token");
    command.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = command.spawn().expect("importer starts");
    assert!(
        wait_for_requests(&mut child, &sandbox, 40).await,
        "importer still running"
    );
    let pid = child.id().expect("child pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = tokio::time::timeout(STEP_TIMEOUT, child.wait_with_output())
        .await
        .expect("importer stops in time")
        .expect("importer exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Import cancelled"), "{stderr}");
    assert!(stderr.contains("not sent yet"), "{stderr}");
    assert_eq!(has_unfinished_run(home.path()), Some(true));

    let mut resume = import_command(&file, home.path(), &sandbox, "ctrl-c-token");
    resume.arg("--resume");
    let output = tokio::time::timeout(STEP_TIMEOUT, resume.output())
        .await
        .expect("resume ends in time")
        .expect("importer runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_small_rows_once(&sandbox, ROWS);
}
