//! The upload runner against the sandbox on loopback: faults, retries and
//! settled ambiguous creates, token expiry, cancel and resume, foreseen
//! conflicts, several locations, merge and undo, reports, and secrets kept
//! out of every file a run writes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use compact_str::{CompactString, format_compact};
use customer_importer::check::{CheckOptions, RowCheck, check_table};
use customer_importer::customer::Customer;
use customer_importer::environment::Environment;
use customer_importer::fields::Mapping;
use customer_importer::guess::guess_mapping;
use customer_importer::progress::Progress;
use customer_importer::report::{self, ReportKind, escape_cell};
use customer_importer::sandbox::{FailRule, FaultConfig, RunningSandbox, Sandbox, SandboxConfig};
use customer_importer::secret::Secret;
use customer_importer::source::{self, ReadOptions};
use customer_importer::table::{Record, SourceFormat, SourceInfo, Table};
use customer_importer::upload::journal::Journal;
use customer_importer::upload::{
    PauseReason, Resolution, RetryPolicy, RowSelection, RowState, RunOptions, Session, SessionEnd,
    SessionSettings, Target, UndoState, UploadEvent, UploadPlan, Uploader,
};

/// Upper bound on any one session of these tests; they end far sooner.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(300);

pub const TOKEN: &str = "test-token-7f3a9c";

/// Returns the synthetic customer of row `row`: unique email and phone.
pub fn person(row: u32) -> Customer {
    Customer {
        given_name: Some("Person".into()),
        family_name: Some(format_compact!("Number{row}")),
        email_addresses: vec![format_compact!("person{row}@example.com")],
        phone_numbers: vec![format_compact!("+1{}", 3_130_000_000_u64 + u64::from(row))],
        permission_to_contact: Some(false),
        ..Customer::default()
    }
}

/// Returns a table of `count` synthetic rows (from row 2) and their checks.
pub fn synthetic_rows(count: u32) -> (Table, Vec<RowCheck>) {
    let headers = ["First Name", "Last Name", "Email", "Phone"].map(str::to_owned);
    let mut records = Vec::new();
    let mut checks = Vec::new();
    for row in 2..count + 2 {
        let customer = person(row);
        let cells = [
            customer.given_name.clone().unwrap_or_default(),
            customer.family_name.clone().unwrap_or_default(),
            customer.email_addresses[0].clone(),
            customer.phone_numbers[0].clone(),
        ];
        records.push(Record::new(row, &cells));
        checks.push(RowCheck {
            row,
            customer,
            location: None,
            issues: Vec::new(),
        });
    }
    let table = Table {
        source: SourceInfo {
            path: PathBuf::from("/tmp/synthetic.csv"),
            format: SourceFormat::Csv {
                encoding: "UTF-8".to_owned(),
                delimiter: b',',
            },
            sheet: None,
            sheets: Vec::new(),
            fingerprint: format!("synthetic-{count}-{}", uuid::Uuid::new_v4()),
        },
        headers: headers.to_vec(),
        header_row: 1,
        records,
        notes: Vec::new(),
    };
    (table, checks)
}

pub fn plan(sandbox: &RunningSandbox, table: &Table, checks: Vec<RowCheck>) -> UploadPlan {
    let target = Target {
        environment: Environment::Custom(sandbox.base_url()),
        base_url: sandbox.base_url(),
        location: sandbox.location().to_owned(),
    };
    UploadPlan::new(
        table,
        checks,
        Mapping::default(),
        CheckOptions::default(),
        target,
    )
}

/// Settings for tests: short timeouts and back-off, so faults cost little.
pub fn settings(timeout: Duration) -> SessionSettings {
    let mut settings = SessionSettings::default();
    settings.client.timeout = timeout;
    settings.client.connect_timeout = timeout;
    settings.retry = RetryPolicy {
        max_attempts: 12,
        max_elapsed: Duration::from_secs(120),
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(500),
    };
    settings
}

pub fn uploader(home: &Path, settings: SessionSettings) -> Uploader {
    Uploader::new(
        tokio::runtime::Handle::current(),
        home.join("journal.sqlite3"),
        settings,
    )
}

/// Follows a session to its end, handing every other event to `on_event`;
/// panics on `Failed` or when the session outlasts [`SESSION_TIMEOUT`].
pub async fn finish(session: &mut Session, mut on_event: impl FnMut(&UploadEvent)) -> SessionEnd {
    let follow = async {
        while let Some(event) = session.next_event().await {
            match event {
                UploadEvent::Finished(end) => return end,
                UploadEvent::Failed { message, .. } => panic!("session failed: {message}"),
                other => on_event(&other),
            }
        }
        panic!("session ended without a last event");
    };
    tokio::time::timeout(SESSION_TIMEOUT, follow)
        .await
        .expect("session within the time limit")
}

/// Asserts that the sandbox contains each of `rows` exactly once.
pub fn assert_each_once(sandbox: &RunningSandbox, location: &str, rows: &[u32]) {
    let customers = sandbox.customers(location);
    let mut seen: HashMap<CompactString, usize> = HashMap::new();
    for record in &customers {
        for email in &record.customer.email_addresses {
            *seen.entry(email.clone()).or_default() += 1;
        }
    }
    for row in rows {
        let email = &person(*row).email_addresses[0];
        assert_eq!(
            seen.get(email),
            Some(&1),
            "row {row} ({email}) on the server"
        );
    }
    assert_eq!(customers.len(), rows.len(), "customers on the server");
}

fn journal_rows(home: &Path, run_id: &str) -> Vec<customer_importer::upload::journal::JournalRow> {
    Journal::open(&home.join("journal.sqlite3"))
        .expect("journal")
        .rows(run_id)
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_leave_each_row_once() {
    let faults = FaultConfig {
        fail: vec![
            FailRule {
                status: 500,
                fraction: 0.05,
            },
            FailRule {
                status: 429,
                fraction: 0.02,
            },
        ],
        drop_after_commit: 0.01,
        stall: 0.01,
        stall_duration: Duration::from_secs(30),
        ..FaultConfig::default()
    };
    let sandbox = Sandbox::start(SandboxConfig {
        faults,
        seed: Some(7),
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(10_000);
    let uploader = uploader(home.path(), settings(Duration::from_millis(600)));

    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;

    let journal = journal_rows(home.path(), session.run_id());
    let failed: Vec<String> = journal
        .iter()
        .filter(|row| matches!(row.state, RowState::Failed { .. }))
        .map(|row| format!("row {}: {:?}", row.row, row.state))
        .collect();
    assert!(failed.is_empty(), "failed rows: {failed:?}");
    let rows: Vec<u32> = (2..10_002).collect();
    assert_each_once(&sandbox, sandbox.location(), &rows);
    assert!(!end.cancelled);
    assert_eq!(end.counts.created, 10_000);
    assert_eq!(end.counts.total(), 10_000);
    assert_eq!(end.counts.unfinished(), 0);
    assert!(
        journal
            .iter()
            .all(|row| matches!(row.state, RowState::Created { .. }))
    );
    let ids: HashSet<String> = journal
        .iter()
        .filter_map(|row| match &row.state {
            RowState::Created { customer_id } => Some(customer_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 10_000, "distinct customer ids");

    let stats = sandbox.stats();
    assert!(
        stats.dropped_after_commit > 0,
        "drops after commit happened"
    );
    assert!(stats.stalled > 0, "stalls happened");
    assert!(stats.injected_failures > 0, "failures were injected");
    assert!(
        stats.conflicts > 0,
        "retries of dropped creates met their own customer"
    );
    assert!(journal.iter().any(|row| row.ambiguous));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_pauses_until_new_one() {
    let first = Secret::new("first-token-aa11");
    let sandbox = Sandbox::start(SandboxConfig {
        tokens: vec![first.clone()],
        token_ttl: Some(Duration::from_millis(600)),
        faults: FaultConfig {
            // 300 rows, 4 at a time, 20 ms each: at least 1.5 s, so the
            // first token expires part way.
            latency: Duration::from_millis(20),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(300);
    let mut settings = settings(Duration::from_secs(5));
    settings.max_concurrency = 4;
    let uploader = uploader(home.path(), settings);

    let mut session = uploader.start(plan(&sandbox, &table, checks), first);
    let control = session.control();
    let mut pauses = 0;
    let mut tokens_given = 0;
    let end = finish(&mut session, |event| match event {
        UploadEvent::Paused(PauseReason::TokenRejected) => pauses += 1,
        UploadEvent::TokenRequired { message } => {
            assert!(message.contains("Paste a new token"), "{message}");
            tokens_given += 1;
            let next = Secret::new(format!("next-token-{tokens_given}-bb22"));
            sandbox.add_token(next.clone());
            control.set_token(next);
        }
        _ => {}
    })
    .await;

    assert!(pauses >= 1, "the run paused for a token");
    assert_eq!(pauses, tokens_given);
    assert_eq!(end.counts.failed, 0);
    assert_eq!(end.counts.created, 300);
    assert!(sandbox.stats().unauthorized > 0);
    let rows: Vec<u32> = (2..302).collect();
    assert_each_once(&sandbox, sandbox.location(), &rows);
}

/// Hands out a new token accepted by the sandbox on each refresh, as the
/// service-account sign-in does.
struct SandboxRefresher {
    sandbox: std::sync::Arc<RunningSandbox>,
    refreshes: std::sync::atomic::AtomicUsize,
}

impl customer_importer::upload::TokenRefresher for SandboxRefresher {
    fn refresh(&self) -> customer_importer::upload::RefreshFuture<'_> {
        Box::pin(async move {
            let count = self
                .refreshes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let token = Secret::new(format!("refreshed-token-{count}-cc33"));
            self.sandbox.add_token(token.clone());
            Ok(token)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresher_replaces_expired_token() {
    let first = Secret::new("first-token-dd44");
    let sandbox = std::sync::Arc::new(
        Sandbox::start(SandboxConfig {
            tokens: vec![first.clone()],
            token_ttl: Some(Duration::from_millis(600)),
            faults: FaultConfig {
                latency: Duration::from_millis(20),
                ..FaultConfig::default()
            },
            ..SandboxConfig::default()
        })
        .expect("sandbox"),
    );
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(300);
    let refresher = std::sync::Arc::new(SandboxRefresher {
        sandbox: sandbox.clone(),
        refreshes: std::sync::atomic::AtomicUsize::new(0),
    });
    let mut settings = settings(Duration::from_secs(5));
    settings.max_concurrency = 4;
    settings.refresher = Some(refresher.clone());
    let uploader = uploader(home.path(), settings);

    let mut session = uploader.start(plan(&sandbox, &table, checks), first);
    let mut user_prompted = false;
    let end = finish(&mut session, |event| {
        user_prompted |= matches!(event, UploadEvent::TokenRequired { .. });
    })
    .await;

    assert!(!user_prompted, "the refresher answered, not the user");
    assert!(
        refresher
            .refreshes
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
    assert_eq!(end.counts.failed, 0);
    assert_eq!(end.counts.created, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_then_resume_finishes_run() {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            latency: Duration::from_millis(5),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(400);
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));

    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let control = session.control();
    let end = finish(&mut session, |event| {
        if let UploadEvent::RowFinished { .. } = event {
            control.cancel();
        }
    })
    .await;
    assert!(end.cancelled);
    assert!(end.counts.unfinished() > 0, "rows left after cancel");
    assert_eq!(end.counts.unfinished() + end.counts.created, 400);

    let unfinished = uploader.unfinished_runs().await.expect("runs");
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].info.id, session.run_id());

    let mut resumed = uploader.resume(session.run_id(), Secret::new(TOKEN));
    let end = finish(&mut resumed, |_| {}).await;
    assert!(!end.cancelled);
    assert_eq!(end.counts.created, 400);
    let rows: Vec<u32> = (2..402).collect();
    assert_each_once(&sandbox, sandbox.location(), &rows);
    assert!(uploader.unfinished_runs().await.expect("runs").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_sending_until_resume() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(200);
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));

    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let control = session.control();
    control.pause();
    let mut paused_at = None;
    let end = finish(&mut session, |event| match event {
        UploadEvent::Paused(PauseReason::User) => {
            paused_at = Some(sandbox.stats().created);
            control.resume();
        }
        UploadEvent::Resumed => {
            // Nothing was sent between the pause and the resume.
            assert_eq!(Some(sandbox.stats().created), paused_at);
        }
        _ => {}
    })
    .await;
    assert!(paused_at.is_some());
    assert_eq!(end.counts.created, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreseen_conflicts_are_not_sent() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let location = sandbox.location().to_owned();
    let mut existing = person(5);
    existing.given_name = Some("Already".into());
    existing.phone_numbers.clear();
    let existing_id = sandbox.seed_customer(&location, existing).expect("seed");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(20);
    let mut plan = plan(&sandbox, &table, checks);
    plan.options = RunOptions {
        check_existing: true,
        on_conflict: None,
    };
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));

    let mut session = uploader.start(plan, Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;

    assert_eq!(end.counts.created, 19);
    assert_eq!(end.counts.conflict, 1);
    assert_eq!(
        sandbox.stats().conflicts,
        0,
        "the conflict row was never sent"
    );
    let rows = journal_rows(home.path(), session.run_id());
    let Some(RowState::Conflict { conflict, note }) =
        rows.iter().find(|row| row.row == 5).map(|row| &row.state)
    else {
        panic!("row 5 is a conflict");
    };
    assert_eq!(conflict.existing_id, existing_id);
    assert_eq!(conflict.field, "emailAddresses");
    assert!(
        note.as_deref()
            .is_some_and(|note| note.contains("found before sending"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_column_overrides_run_location() {
    let sandbox = Sandbox::start(SandboxConfig {
        locations: vec!["AG-FIRST".to_owned(), "AG-SECOND".to_owned()],
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (mut table, mut checks) = synthetic_rows(6);
    // Rows 5 to 7 go to the second location; row 7 repeats row 2's email,
    // which conflicts nowhere because duplicates are per location.
    for check in checks.iter_mut().filter(|check| check.row >= 5) {
        check.location = Some("AG-SECOND".to_owned());
    }
    checks[5].customer.email_addresses = person(2).email_addresses;
    let row = table.records[5].row;
    table.records[5] = Record::new(row, ["Person", "Number7", "person2@example.com", ""]);
    let mut plan = plan(&sandbox, &table, checks);
    plan.target.location = "AG-FIRST".to_owned();
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));

    let mut session = uploader.start(plan, Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;

    assert_eq!(end.counts.created, 6);
    assert_eq!(sandbox.customers("AG-FIRST").len(), 3);
    assert_eq!(sandbox.customers("AG-SECOND").len(), 3);
    let info = Journal::open(&home.path().join("journal.sqlite3"))
        .expect("journal")
        .run(session.run_id())
        .expect("run");
    assert_eq!(info.locations, vec!["AG-FIRST", "AG-SECOND"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rows_fail_without_retry() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, mut checks) = synthetic_rows(3);
    // The sandbox rejects a phone that is not E.164 with 422.
    checks[1].customer.phone_numbers = vec!["555-0100".into()];
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));

    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;

    assert_eq!(end.counts.created, 2);
    assert_eq!(end.counts.failed, 1);
    let rows = journal_rows(home.path(), session.run_id());
    let failed = rows.iter().find(|row| row.row == 3).expect("row 3");
    assert!(
        matches!(
            failed.state,
            RowState::Failed {
                status: Some(422),
                ..
            }
        ),
        "{:?}",
        failed.state
    );
    assert_eq!(failed.attempts, 1, "a 422 is final");
}

/// Reads and checks a copied fixture as the importer would.
pub fn read_fixture(
    path: &Path,
    default_country: &str,
) -> (Table, Mapping, CheckOptions, Vec<RowCheck>) {
    let table =
        source::read(path, &ReadOptions::default(), &Progress::new()).expect("fixture reads");
    let mapping = guess_mapping(&table);
    let options = CheckOptions {
        default_country: Some(default_country.to_owned()),
    };
    let checks = check_table(&table, &mapping, &options, &Progress::new());
    (table, mapping, options, checks)
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_conflicts_merge_and_undo() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let location = sandbox.location().to_owned();
    let (table, mapping, options, checks) = read_fixture(&fixture("shopify-customers.csv"), "US");
    let ready: Vec<&RowCheck> = checks.iter().filter(|check| check.is_ready()).collect();
    let with_email: Vec<&&RowCheck> = ready
        .iter()
        .filter(|check| !check.customer.email_addresses.is_empty())
        .collect();
    // Two customers already on file: one with the email only (the merge
    // fills it in), one complete.
    let sparse = &with_email[0].customer;
    let seeded_sparse = Customer {
        email_addresses: sparse.email_addresses.clone(),
        ..Customer::default()
    };
    let sparse_id = sandbox
        .seed_customer(&location, seeded_sparse.clone())
        .expect("seed");
    sandbox
        .seed_customer(&location, with_email[1].customer.clone())
        .expect("seed");
    let merge_row = with_email[0].row;

    let home = tempfile::tempdir().expect("home");
    let target = Target {
        environment: Environment::Custom(sandbox.base_url()),
        base_url: sandbox.base_url(),
        location: location.clone(),
    };
    let plan = UploadPlan::new(&table, checks.clone(), mapping, options, target);
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));
    let mut session = uploader.start(plan, Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;

    let duplicates_in_file = ready.len() - distinct_people(&ready);
    assert_eq!(end.counts.conflict as usize, 2 + duplicates_in_file);
    assert_eq!(
        end.counts.created as usize,
        ready.len() - 2 - duplicates_in_file
    );
    assert_eq!(end.counts.failed, 0);
    assert_eq!(
        end.counts.skipped as usize,
        checks.len() - ready.len(),
        "invalid rows are skipped"
    );
    assert_eq!(
        sandbox.customers(&location).len(),
        end.counts.created as usize + 2
    );

    let mut merge = uploader.resolve(
        session.run_id(),
        RowSelection::Rows(vec![merge_row]),
        Resolution::Merge,
        Secret::new(TOKEN),
    );
    let merged = finish(&mut merge, |_| {}).await;
    assert_eq!(merged.counts.merged, 1);
    let record = sandbox.customer(&sparse_id).expect("merged customer");
    assert_eq!(record.customer.given_name, sparse.given_name);
    assert_eq!(record.customer.family_name, sparse.family_name);
    assert_eq!(record.customer.address, sparse.address);
    for phone in &sparse.phone_numbers {
        assert!(record.customer.phone_numbers.contains(phone));
    }
    let tag = customer_importer::upload::default_batch_tag();
    assert!(
        record.customer.tags.iter().any(|merged| *merged == tag),
        "batch tag merged in"
    );

    let plan = uploader.undo_plan(session.run_id()).await.expect("plan");
    assert_eq!(plan.deletes, end.counts.created);
    assert_eq!(plan.restores, 1);
    let mut undo = uploader.undo(session.run_id(), Secret::new(TOKEN));
    let undone = finish(&mut undo, |_| {}).await;
    assert_eq!(undone.counts.deleted, end.counts.created);
    assert_eq!(undone.counts.restored, 1);
    assert_eq!(
        sandbox.customers(&location).len(),
        2,
        "only the seeded customers remain"
    );
    let restored = sandbox.customer(&sparse_id).expect("restored customer");
    assert_eq!(restored.customer.given_name, None);
    assert_eq!(restored.customer.address, None);
    assert_eq!(
        restored.customer.email_addresses,
        seeded_sparse.email_addresses
    );
    assert!(restored.customer.phone_numbers.is_empty());
    assert!(restored.customer.tags.is_empty());
    assert!(
        uploader
            .undo_plan(session.run_id())
            .await
            .expect("plan")
            .is_empty()
    );
    let rows = journal_rows(home.path(), session.run_id());
    assert!(rows.iter().any(|row| row.undo == Some(UndoState::Restored)));
}

/// Counts rows that would not meet an earlier row of the file: rows that
/// share an email or phone with an earlier one get a 409.
fn distinct_people(rows: &[&RowCheck]) -> usize {
    let mut seen: HashSet<String> = HashSet::new();
    let mut distinct = 0;
    for row in rows {
        let keys: Vec<String> = row
            .customer
            .email_addresses
            .iter()
            .map(|email| customer_importer::api::email_key(email))
            .chain(row.customer.phone_numbers.iter().map(ToString::to_string))
            .collect();
        if keys.iter().all(|key| !seen.contains(key)) {
            distinct += 1;
        }
        seen.extend(keys);
    }
    distinct
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_report_escapes_and_reopens() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let (table, mapping, options, checks) =
        read_fixture(&fixture("../cases/formula-looking-cells.csv"), "US");
    let home = tempfile::tempdir().expect("home");
    let target = Target {
        environment: Environment::Custom(sandbox.base_url()),
        base_url: sandbox.base_url(),
        location: sandbox.location().to_owned(),
    };
    let mut plan = UploadPlan::new(&table, checks, mapping.clone(), options, target);
    // Leave one row out and make one fail, so every report has rows.
    plan.rows[0].excluded = Some("left out for the test".to_owned());
    plan.rows[1].check.customer.phone_numbers = vec!["not-a-phone".into()];
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));
    let mut session = uploader.start(plan, Secret::new(TOKEN));
    finish(&mut session, |_| {}).await;

    let reports_dir = home.path().join("reports");
    let journal = Journal::open(&home.path().join("journal.sqlite3")).expect("journal");
    let files = report::write_reports(&journal, session.run_id(), &reports_dir).expect("reports");
    let failed = files
        .iter()
        .find(|file| file.kind == ReportKind::Failed)
        .expect("a failed report");
    assert!(files.iter().any(|file| file.kind == ReportKind::Skipped));

    let text = std::fs::read_to_string(&failed.path).expect("report text");
    for record in &table.records {
        for cell in record.cells() {
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.contains(cell) {
                assert!(
                    text.contains(&escape_cell(cell)),
                    "{cell:?} escaped in the report"
                );
            }
        }
    }
    assert!(
        !text.contains(",="),
        "no cell after the first starts a formula"
    );
    assert!(!text.contains("\n="), "no first cell starts a formula");

    let reopened = source::read(&failed.path, &ReadOptions::default(), &Progress::new())
        .expect("report reads");
    assert_eq!(&reopened.headers[..table.headers.len()], &table.headers[..]);
    assert_eq!(
        reopened.headers[table.headers.len()],
        report::OUTCOME_HEADER
    );
    let preset =
        customer_importer::preset::Preset::from_mapping("test", &table.headers, &mapping, None);
    let remapped = preset.apply(&reopened.headers);
    for column in 0..table.headers.len() {
        assert_eq!(
            remapped.target(column),
            mapping.target(column),
            "column {column}"
        );
    }
    let store = customer_importer::preset::PresetStore::new(home.path().join("presets"));
    store.save(&preset).expect("preset saved");
    let proposed = store
        .find_matching(&reopened.headers)
        .expect("presets listed")
        .expect("the report's preset is proposed");
    assert_eq!(proposed.preset.name, "test");
    assert_eq!(proposed.score, 1.0);
}

/// Returns every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_in_no_file_or_log() {
    const SECRET_TOKEN: &str = "zz-recognisable-token-5e1f0c";
    let sandbox = Sandbox::start(SandboxConfig {
        tokens: vec![Secret::new(SECRET_TOKEN)],
        faults: FaultConfig {
            fail: vec![FailRule {
                status: 500,
                fraction: 0.1,
            }],
            drop_after_commit: 0.05,
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let reports = home.path().join("reports");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"))
        .arg("import")
        .arg(fixture("shopify-customers.csv"))
        .args([
            "--location",
            sandbox.location(),
            "--env",
            &sandbox.base_url(),
        ])
        .arg("--report-dir")
        .arg(&reports)
        .env("CUSTOMER_IMPORTER_HOME", home.path())
        .env("VENDASTA_TOKEN", SECRET_TOKEN)
        .env("RUST_LOG", "trace")
        .output()
        .await
        .expect("importer runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Import finished"), "{stderr}");
    assert!(!stderr.contains(SECRET_TOKEN), "token in the log output");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(SECRET_TOKEN));
    assert!(
        stderr.contains("TRACE") && stderr.contains("API request"),
        "the log output is at trace level"
    );
    let (table, mapping, _, checks) = read_fixture(&fixture("shopify-customers.csv"), "US");
    for value in personal_values(&table, &mapping, &checks) {
        assert!(
            !contains_word(&stderr, &value),
            "the customer detail {value:?} is in the log output: {}",
            stderr
                .lines()
                .find(|line| contains_word(line, &value))
                .unwrap_or_default()
        );
    }

    let files = files_under(home.path());
    assert!(files.iter().any(|file| file.ends_with("journal.sqlite3")));
    assert!(files.iter().any(|file| file.starts_with(&reports)));
    for file in files {
        let bytes = std::fs::read(&file).expect("file reads");
        let found = bytes
            .windows(SECRET_TOKEN.len())
            .any(|window| window == SECRET_TOKEN.as_bytes());
        assert!(!found, "token in {}", file.display());
    }
}

/// Returns the emails, phones and names of a file's rows, as the file has
/// them and as the importer would send them.
fn personal_values(table: &Table, mapping: &Mapping, checks: &[RowCheck]) -> Vec<String> {
    use customer_importer::fields::Target as Column;
    let mut values: HashSet<String> = HashSet::new();
    for record in &table.records {
        for (column, cell) in record.cells().enumerate() {
            let personal = matches!(
                mapping.target(column),
                Column::Email | Column::Phone | Column::GivenName | Column::FamilyName
            );
            if personal {
                values.insert(cell.trim().to_owned());
            }
        }
    }
    for check in checks {
        let customer = &check.customer;
        values.extend(customer.email_addresses.iter().map(ToString::to_string));
        values.extend(customer.phone_numbers.iter().map(ToString::to_string));
        values.extend(customer.given_name.iter().map(ToString::to_string));
        values.extend(customer.family_name.iter().map(ToString::to_string));
    }
    // Two-letter names such as "Al" are too short to tell apart from text.
    values.retain(|value| value.chars().count() >= 3);
    values.into_iter().collect()
}

/// Returns whether `word` occurs in `text` with no letter or digit right
/// before or after it.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(start, found)| {
        let before = text[..start].chars().next_back();
        let after = text[start + found.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_not_running_is_explained() {
    let home = tempfile::tempdir().expect("home");
    // Bind a port and free it again, so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("address")
        .port();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"))
        .arg("import")
        .arg(fixture("shopify-customers.csv"))
        .args(["--location", "AG-SANDBOX", "--env"])
        .arg(format!("http://127.0.0.1:{port}/business"))
        .env("CUSTOMER_IMPORTER_HOME", home.path())
        .env("VENDASTA_TOKEN", TOKEN)
        .output()
        .await
        .expect("importer runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no server is listening at http://127.0.0.1:{port}/business"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("customer-importer sandbox"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_command_deletes_created() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let run = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"));
        command
            .arg("import")
            .arg(fixture("shopify-customers.csv"))
            .args([
                "--location",
                sandbox.location(),
                "--env",
                &sandbox.base_url(),
            ])
            .args(extra)
            .arg("--report-dir")
            .arg(home.path().join("reports"))
            .env("CUSTOMER_IMPORTER_HOME", home.path())
            .env("VENDASTA_TOKEN", TOKEN);
        command
    };

    let output = run(&[]).output().await.expect("import runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Import finished"), "{stderr}");
    assert!(
        stderr.contains("rows have errors and are not sent"),
        "{stderr}"
    );
    assert!(
        stderr.contains(" 0 failed"),
        "invalid rows are not failures: {stderr}"
    );
    assert!(
        output.status.success(),
        "invalid rows and conflicts do not fail the import: {stderr}"
    );
    assert!(!sandbox.customers(sandbox.location()).is_empty());
    let run_id = stderr
        .lines()
        .find_map(|line| line.strip_prefix("Run id: "))
        .expect("the run id is printed")
        .trim()
        .to_owned();

    let output = run(&["--undo", &run_id]).output().await.expect("undo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("Undo finished"), "{stderr}");
    assert!(
        sandbox.customers(sandbox.location()).is_empty(),
        "every created customer deleted"
    );

    let output = run(&["--undo", &run_id]).output().await.expect("undo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("nothing left to undo"), "{stderr}");
}

/// Starts a sandbox holding a customer with the email of each of `rows`
/// (no phone, no name), and returns it with the ids by row.
fn sandbox_with_existing(rows: &[u32]) -> (RunningSandbox, HashMap<u32, String>) {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let location = sandbox.location().to_owned();
    let mut ids = HashMap::new();
    for row in rows {
        let existing = Customer {
            email_addresses: person(*row).email_addresses,
            ..Customer::default()
        };
        ids.insert(
            *row,
            sandbox.seed_customer(&location, existing).expect("seed"),
        );
    }
    (sandbox, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_policy_skips_or_merges() {
    for (resolution, check_existing) in [
        (Resolution::Skip, false),
        (Resolution::Merge, false),
        (Resolution::Merge, true),
    ] {
        let (sandbox, ids) = sandbox_with_existing(&[3, 5]);
        let home = tempfile::tempdir().expect("home");
        let (table, checks) = synthetic_rows(6);
        let mut plan = plan(&sandbox, &table, checks);
        plan.options = RunOptions {
            check_existing,
            on_conflict: Some(resolution),
        };
        let uploader = uploader(home.path(), settings(Duration::from_secs(5)));
        let mut session = uploader.start(plan, Secret::new(TOKEN));
        let end = finish(&mut session, |_| {}).await;

        let case = format!("{resolution:?}, check existing {check_existing}");
        assert_eq!(end.counts.created, 4, "{case}");
        assert_eq!(end.counts.conflict, 0, "{case}");
        assert_eq!(end.counts.unfinished(), 0, "{case}");
        let existing = sandbox.customer(&ids[&3]).expect("existing customer");
        match resolution {
            Resolution::Skip => {
                assert_eq!(end.counts.skipped, 2, "{case}");
                assert_eq!(existing.customer.given_name, None, "{case}");
            }
            Resolution::Merge => {
                assert_eq!(end.counts.merged, 2, "{case}");
                assert_eq!(existing.customer.given_name, person(3).given_name, "{case}");
                assert_eq!(
                    existing.customer.phone_numbers,
                    person(3).phone_numbers,
                    "{case}"
                );
            }
        }
        let sent_conflicts = sandbox.stats().conflicts;
        if check_existing {
            assert_eq!(sent_conflicts, 0, "{case}: foreseen rows are not sent");
        } else {
            assert_eq!(sent_conflicts, 2, "{case}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_merge_stays_conflict() {
    let (sandbox, ids) = sandbox_with_existing(&[3]);
    // A third customer has row 3's phone, so adding it to the customer
    // with row 3's email is rejected with 409.
    let phone_owner = Customer {
        phone_numbers: person(3).phone_numbers,
        ..Customer::default()
    };
    sandbox
        .seed_customer(sandbox.location(), phone_owner)
        .expect("seed");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(3);
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));
    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;
    assert_eq!(end.counts.conflict, 1);

    let mut merge = uploader.resolve(
        session.run_id(),
        RowSelection::All,
        Resolution::Merge,
        Secret::new(TOKEN),
    );
    let end = finish(&mut merge, |_| {}).await;

    assert_eq!(end.counts.merged, 0);
    assert_eq!(end.counts.conflict, 1);
    let rows = journal_rows(home.path(), session.run_id());
    let row = rows.iter().find(|row| row.row == 3).expect("row 3");
    let RowState::Conflict { note, .. } = &row.state else {
        panic!("row 3 is {:?}", row.state);
    };
    assert!(
        note.as_deref()
            .is_some_and(|note| note.starts_with("Merge failed.")),
        "{note:?}"
    );
    assert_eq!(
        row.merge, None,
        "no patch is kept for a merge never applied"
    );
    let existing = sandbox.customer(&ids[&3]).expect("existing customer");
    assert!(existing.customer.phone_numbers.is_empty());
    assert!(
        uploader
            .undo_plan(session.run_id())
            .await
            .expect("plan")
            .restores
            == 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_merge_resumes() {
    let (sandbox, ids) = sandbox_with_existing(&[3, 4, 5]);
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(5);
    let mut settings = settings(Duration::from_secs(5));
    settings.max_concurrency = 1;
    let uploader = uploader(home.path(), settings);
    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;
    assert_eq!(end.counts.conflict, 3);

    let mut merge = uploader.resolve(
        session.run_id(),
        RowSelection::All,
        Resolution::Merge,
        Secret::new(TOKEN),
    );
    merge.control().cancel();
    let end = finish(&mut merge, |_| {}).await;
    assert!(end.cancelled);
    assert!(end.counts.merging > 0, "merges left when cancelled");
    let unfinished = uploader.unfinished_runs().await.expect("runs");
    assert_eq!(unfinished.len(), 1, "a run with merges left can be resumed");

    let mut resumed = uploader.resume(session.run_id(), Secret::new(TOKEN));
    let end = finish(&mut resumed, |_| {}).await;
    assert_eq!(end.counts.merged, 3);
    assert_eq!(end.counts.unfinished(), 0);
    for row in [3, 4, 5] {
        let existing = sandbox.customer(&ids[&row]).expect("existing customer");
        assert_eq!(
            existing.customer.phone_numbers,
            person(row).phone_numbers,
            "row {row}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_import_never_claims_first() {
    // A third of the responses are lost after the server acted, so many
    // rows of both runs retry a create whose outcome they never saw.
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            drop_after_commit: 0.3,
            ..FaultConfig::default()
        },
        seed: Some(11),
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(60);
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));

    let mut first = uploader.start(plan(&sandbox, &table, checks.clone()), Secret::new(TOKEN));
    let first_end = finish(&mut first, |_| {}).await;
    assert_eq!(first_end.counts.created, 60);

    let mut second = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let second_end = finish(&mut second, |_| {}).await;
    assert_eq!(second_end.counts.created, 0, "the first run created them");
    assert_eq!(second_end.counts.conflict, 60);
    let rows = journal_rows(home.path(), second.run_id());
    assert!(
        rows.iter().any(|row| row.ambiguous),
        "some rows lost a response"
    );

    let plan = uploader.undo_plan(second.run_id()).await.expect("plan");
    assert_eq!(plan.deletes, 0, "undoing the second run deletes nothing");
    let rows: Vec<u32> = (2..62).collect();
    assert_each_once(&sandbox, sandbox.location(), &rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_rows_skipped_with_first_error() {
    use customer_importer::check::{Attribute, Issue, Severity};
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, mut checks) = synthetic_rows(3);
    for message in ["The email is missing a domain.", "The phone is too short."] {
        checks[1].issues.push(Issue {
            severity: Severity::Error,
            attribute: Attribute::EmailAddresses,
            column: Some(2),
            message: message.into(),
        });
    }
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));
    let mut session = uploader.start(plan(&sandbox, &table, checks), Secret::new(TOKEN));
    let mut started_counts = None;
    let end = finish(&mut session, |event| {
        if let UploadEvent::Started { counts, .. } = event {
            started_counts = Some(*counts);
        }
    })
    .await;

    assert_eq!(end.counts.created, 2);
    assert_eq!(end.counts.skipped, 1);
    assert_eq!(end.counts.failed, 0);
    assert_eq!(started_counts.map(|counts| counts.skipped), Some(1));
    let rows = journal_rows(home.path(), session.run_id());
    let invalid = rows.iter().find(|row| row.row == 3).expect("row 3");
    assert_eq!(
        invalid.state,
        RowState::Skipped {
            reason: "The email is missing a domain.".to_owned()
        }
    );
    assert_eq!(invalid.attempts, 0, "an invalid row is never sent");
    assert_eq!(sandbox.customers(sandbox.location()).len(), 2);

    let journal = Journal::open(&home.path().join("journal.sqlite3")).expect("journal");
    let files = report::write_reports(&journal, session.run_id(), &home.path().join("reports"))
        .expect("reports");
    assert!(files.iter().all(|file| file.kind != ReportKind::Failed));
    let skipped = files
        .iter()
        .find(|file| file.kind == ReportKind::Skipped)
        .expect("a skipped report");
    let text = std::fs::read_to_string(&skipped.path).expect("report text");
    assert!(text.contains("person3@example.com"), "{text}");
    assert!(
        text.contains("skipped,The email is missing a domain."),
        "{text}"
    );
}

/// Writes a CSV of `rows` synthetic customers (rows 2 on) into `dir`,
/// without their phones, which are not real numbers.
fn write_people(dir: &Path, rows: u32) -> PathBuf {
    let path = dir.join("people.csv");
    let mut text = String::from("First Name,Last Name,Email\n");
    for row in 2..rows + 2 {
        let person = person(row);
        text.push_str(&format!(
            "Person,Number{row},{}\n",
            person.email_addresses[0]
        ));
    }
    std::fs::write(&path, text).expect("write people");
    path
}

/// Returns `import FILE` against the sandbox with the importer's folders
/// under `home`.
fn import_command(file: &Path, home: &Path, sandbox: &RunningSandbox) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"));
    command
        .arg("import")
        .arg(file)
        .args([
            "--location",
            sandbox.location(),
            "--env",
            &sandbox.base_url(),
        ])
        .arg("--report-dir")
        .arg(home.join("reports"))
        .env("CUSTOMER_IMPORTER_HOME", home)
        .env("VENDASTA_TOKEN", TOKEN);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_run_blocks_new_import() {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            latency: Duration::from_millis(10),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let file = write_people(home.path(), 40);
    let paths = customer_importer::paths::AppPaths::under(home.path().to_path_buf());

    // A run of the same file and location, cancelled part way, as the
    // command line would record it.
    let (table, mapping, options, checks) = read_fixture(&file, "US");
    let target = Target {
        environment: Environment::Custom(sandbox.base_url()),
        base_url: sandbox.base_url(),
        location: sandbox.location().to_owned(),
    };
    let first_plan = UploadPlan::new(&table, checks, mapping, options, target);
    let mut settings = settings(Duration::from_secs(5));
    settings.max_concurrency = 2;
    let uploader = Uploader::new(
        tokio::runtime::Handle::current(),
        paths.journal_file(),
        settings,
    );
    let mut first = uploader.start(first_plan, Secret::new(TOKEN));
    let control = first.control();
    let end = finish(&mut first, |event| {
        if let UploadEvent::RowFinished { .. } = event {
            control.cancel();
        }
    })
    .await;
    assert!(end.counts.unfinished() > 0, "rows left to send");
    let sent_before = sandbox.stats().requests;

    let output = import_command(&file, home.path(), &sandbox)
        .output()
        .await
        .expect("import runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("run {}", first.run_id())),
        "{stderr}"
    );
    assert!(stderr.contains("people.csv"), "{stderr}");
    assert!(stderr.contains(", started 20"), "{stderr}");
    assert!(stderr.contains("not sent yet"), "{stderr}");
    assert!(stderr.contains("add --resume"), "{stderr}");
    assert!(stderr.contains("--discard-unfinished"), "{stderr}");
    assert_eq!(sandbox.stats().requests, sent_before, "nothing was sent");

    let output = import_command(&file, home.path(), &sandbox)
        .arg("--discard-unfinished")
        .output()
        .await
        .expect("import runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("marked abandoned"), "{stderr}");
    let journal = Journal::open(&paths.journal_file()).expect("journal");
    let runs = journal.runs().expect("runs");
    assert_eq!(runs.len(), 2);
    let abandoned = runs
        .iter()
        .find(|run| run.info.id == first.run_id())
        .expect("the first run");
    assert!(abandoned.abandoned_at.is_some());
    assert_eq!(abandoned.counts, end.counts, "its rows keep their outcomes");
    assert!(journal.unfinished_runs().expect("runs").is_empty());
    let second = runs
        .iter()
        .find(|run| run.info.id != first.run_id())
        .expect("the second run");
    assert_eq!(second.counts.conflict, end.counts.created);
    assert_eq!(second.counts.created + second.counts.conflict, 40);
    let rows: Vec<u32> = (2..42).collect();
    assert_each_once(&sandbox, sandbox.location(), &rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_identical_customer_not_claimed() {
    // Half of the creates lose their connection before the server acts, so
    // their rows retry a create whose outcome they never saw.
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            drop_before_commit: 0.5,
            ..FaultConfig::default()
        },
        seed: Some(5),
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, checks) = synthetic_rows(30);
    let plan = plan(&sandbox, &table, checks);
    let tag = plan.batch_tag.clone().expect("a batch tag");
    // Every row is already on file, exactly as the row would be sent, but
    // entered an hour before the import.
    let an_hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    for row in 2..32 {
        let mut existing = person(row);
        existing.tags = vec![tag.clone().into()];
        sandbox
            .seed_customer_created_at(sandbox.location(), existing, an_hour_ago)
            .expect("seed");
    }
    let uploader = uploader(home.path(), settings(Duration::from_secs(5)));
    let mut session = uploader.start(plan, Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;

    assert_eq!(
        end.counts.created, 0,
        "no row claims a customer it did not create"
    );
    assert_eq!(end.counts.conflict, 30);
    let rows = journal_rows(home.path(), session.run_id());
    assert!(
        rows.iter().any(|row| row.ambiguous),
        "some rows lost a response and checked the customer on file"
    );
    assert!(rows.iter().all(|row| row.first_sent_at.is_some()));
    assert_eq!(sandbox.customers(sandbox.location()).len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_of_merge_into_created_customer() {
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let home = tempfile::tempdir().expect("home");
    let (table, mut checks) = synthetic_rows(2);
    // Row 3 has row 2's email and a phone of its own: it meets the
    // customer row 2 created and is merged into it.
    checks[1].customer.email_addresses = person(2).email_addresses;
    let mut plan = plan(&sandbox, &table, checks);
    plan.options.on_conflict = Some(Resolution::Merge);
    let mut settings = settings(Duration::from_secs(5));
    // One request at a time: undo deletes row 2's customer before it
    // would restore row 3's merge, in row order.
    settings.max_concurrency = 1;
    let uploader = uploader(home.path(), settings);
    let mut session = uploader.start(plan, Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;
    assert_eq!(end.counts.created, 1);
    assert_eq!(end.counts.merged, 1);
    let created = &sandbox.customers(sandbox.location())[0];
    assert_eq!(
        created.customer.phone_numbers.len(),
        2,
        "the merge added a phone"
    );

    let undo_plan = uploader.undo_plan(session.run_id()).await.expect("plan");
    assert_eq!(undo_plan.deletes, 1);
    assert_eq!(undo_plan.restores, 1);
    let updates_before = sandbox.stats().updated;
    let mut undo = uploader.undo(session.run_id(), Secret::new(TOKEN));
    let undone = finish(&mut undo, |_| {}).await;
    assert_eq!(undone.counts.undo_failed, 0, "undo ends cleanly");
    assert_eq!(undone.counts.deleted, 1);
    assert_eq!(undone.counts.restored, 1);
    assert!(sandbox.customers(sandbox.location()).is_empty());
    assert_eq!(
        sandbox.stats().updated,
        updates_before,
        "nothing is restored into a deleted customer"
    );
    assert!(
        uploader
            .undo_plan(session.run_id())
            .await
            .expect("plan")
            .is_empty()
    );
}

/// Runs the three rows of `sandbox_with_existing(&[3])`, then merges the
/// conflict of row 3 while `faults` hit every update, and returns the
/// uploader, the run id and the end of the merge.
async fn merge_under_faults(
    sandbox: &RunningSandbox,
    home: &Path,
    faults: FaultConfig,
) -> (Uploader, String, SessionEnd) {
    let (table, checks) = synthetic_rows(3);
    let mut settings = settings(Duration::from_secs(5));
    settings.retry.max_attempts = 3;
    let uploader = uploader(home, settings);
    let mut session = uploader.start(plan(sandbox, &table, checks), Secret::new(TOKEN));
    let end = finish(&mut session, |_| {}).await;
    assert_eq!(end.counts.conflict, 1);

    sandbox.set_faults(faults).expect("faults");
    let mut merge = uploader.resolve(
        session.run_id(),
        RowSelection::All,
        Resolution::Merge,
        Secret::new(TOKEN),
    );
    let end = finish(&mut merge, |_| {}).await;
    sandbox.set_faults(FaultConfig::default()).expect("faults");
    (uploader, session.run_id().to_owned(), end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_in_doubt_not_applied_fails() {
    let (sandbox, ids) = sandbox_with_existing(&[3]);
    let home = tempfile::tempdir().expect("home");
    // Every PATCH loses its connection before the server acts.
    let faults = FaultConfig {
        drop_before_commit: 1.0,
        include_updates: true,
        ..FaultConfig::default()
    };
    let (uploader, run_id, end) = merge_under_faults(&sandbox, home.path(), faults).await;

    assert_eq!(end.counts.merging, 0, "no merge is left in doubt");
    assert_eq!(end.counts.unfinished(), 0);
    assert_eq!(end.counts.failed, 1);
    let rows = journal_rows(home.path(), &run_id);
    let row = rows.iter().find(|row| row.row == 3).expect("row 3");
    let RowState::Failed { message, .. } = &row.state else {
        panic!("row 3 is {:?}", row.state);
    };
    assert!(
        message.contains("may or may not have been applied"),
        "{message}"
    );
    assert!(row.merge.is_some(), "the inverse is kept for undo");
    assert!(uploader.unfinished_runs().await.expect("runs").is_empty());
    let existing = sandbox.customer(&ids[&3]).expect("existing customer");
    assert!(existing.customer.phone_numbers.is_empty());

    let undo_plan = uploader.undo_plan(&run_id).await.expect("plan");
    assert_eq!(undo_plan.restores, 1, "undo covers a merge in doubt");
    let mut undo = uploader.undo(&run_id, Secret::new(TOKEN));
    let undone = finish(&mut undo, |_| {}).await;
    assert_eq!(undone.counts.restored, 1);
    assert_eq!(undone.counts.undo_failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_in_doubt_applied_is_merged() {
    let (sandbox, ids) = sandbox_with_existing(&[3]);
    let home = tempfile::tempdir().expect("home");
    // Every PATCH is applied, then its response is lost.
    let faults = FaultConfig {
        drop_after_commit: 1.0,
        include_updates: true,
        ..FaultConfig::default()
    };
    let (uploader, run_id, end) = merge_under_faults(&sandbox, home.path(), faults).await;

    assert_eq!(end.counts.merging, 0, "no merge is left in doubt");
    assert_eq!(end.counts.merged, 1);
    assert_eq!(end.counts.failed, 0);
    let merged = sandbox.customer(&ids[&3]).expect("existing customer");
    assert_eq!(merged.customer.phone_numbers, person(3).phone_numbers);

    let mut undo = uploader.undo(&run_id, Secret::new(TOKEN));
    let undone = finish(&mut undo, |_| {}).await;
    assert_eq!(undone.counts.restored, 1);
    let restored = sandbox.customer(&ids[&3]).expect("existing customer");
    assert!(restored.customer.phone_numbers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_run_resumes_after_restart() {
    let home = tempfile::tempdir().expect("home");
    let state_file = home.path().join("sandbox.json");
    let config = || SandboxConfig {
        state_file: Some(state_file.clone()),
        faults: FaultConfig {
            latency: Duration::from_millis(5),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    };
    let first = Sandbox::start(config()).expect("sandbox");
    let (table, checks) = synthetic_rows(100);
    let target = Target {
        environment: Environment::Sandbox,
        base_url: first.base_url(),
        location: first.location().to_owned(),
    };
    let plan = UploadPlan::new(
        &table,
        checks,
        Mapping::default(),
        CheckOptions::default(),
        target,
    );
    let mut first_settings = settings(Duration::from_secs(5));
    first_settings.sandbox_base_url = Some(first.base_url());
    let mut session = uploader(home.path(), first_settings).start(plan, Secret::new(TOKEN));
    let control = session.control();
    let end = finish(&mut session, |event| {
        if let UploadEvent::RowFinished { .. } = event {
            control.cancel();
        }
    })
    .await;
    assert!(end.counts.unfinished() > 0, "rows left to send");
    let created_first = first.customers(first.location());
    assert_eq!(created_first.len() as u64, end.counts.created);
    let old_url = first.base_url();
    first.stop().await;

    // The app starts again: a new sandbox on another port, same state file.
    let second = Sandbox::start(config()).expect("sandbox");
    assert_eq!(second.customers(second.location()), created_first);
    let mut second_settings = settings(Duration::from_secs(5));
    second_settings.sandbox_base_url = Some(second.base_url());
    let uploader = uploader(home.path(), second_settings);
    let unfinished = uploader.unfinished_runs().await.expect("runs");
    assert_eq!(unfinished.len(), 1);
    assert_eq!(
        customer_importer::upload::run_base_url(&unfinished[0].info, Some(&second.base_url())),
        second.base_url()
    );
    assert_ne!(unfinished[0].info.base_url, second.base_url(), "{old_url}");

    let mut resumed = uploader.resume(session.run_id(), Secret::new(TOKEN));
    let end = finish(&mut resumed, |_| {}).await;
    assert_eq!(end.counts.created, 100);
    assert_eq!(end.counts.failed, 0);
    let rows: Vec<u32> = (2..102).collect();
    assert_each_once(&second, second.location(), &rows);

    let mut undo = uploader.undo(session.run_id(), Secret::new(TOKEN));
    let undone = finish(&mut undo, |_| {}).await;
    assert_eq!(undone.counts.deleted, 100);
    assert!(second.customers(second.location()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_errors_come_before_connecting() {
    let home = tempfile::tempdir().expect("home");
    let file = write_people(home.path(), 2);
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("address")
        .port();
    let import = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"));
        command
            .arg("import")
            .arg(&file)
            .args(["--location", "AG-SANDBOX", "--env"])
            .arg(format!("http://127.0.0.1:{port}/business"))
            .args(extra)
            .env("CUSTOMER_IMPORTER_HOME", home.path())
            .env("VENDASTA_TOKEN", TOKEN);
        command
    };
    let check = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"));
        command
            .arg("check")
            .arg(&file)
            .args(extra)
            .env("CUSTOMER_IMPORTER_HOME", home.path());
        command
    };
    for (extra, expected) in [
        (
            &["--mapping", "manual"][..],
            "unknown mapping mode \"manual\"; use --mapping auto or --preset NAME",
        ),
        (
            &["--default-country", "Atlantis"][..],
            "\"Atlantis\" is not a country; give --default-country a two-letter ISO 3166-1 code \
             such as US",
        ),
        (&["--preset", "Nowhere"][..], "no preset named \"Nowhere\""),
    ] {
        let output = import(extra).output().await.expect("import runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "import {extra:?}: {stderr}");
        let output = check(extra).output().await.expect("check runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "check {extra:?}: {stderr}");
    }
}
