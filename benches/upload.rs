//! Benchmark of the upload runner against the sandbox on loopback.
//!
//! - Latency: the sandbox responds to every request after 50 ms; the runner's
//!   rows per second are compared with the ideal `concurrency / latency`
//!   (160 rows/s at the default concurrency of 8).
//! - Rate limit: the sandbox serves R requests per second (a token bucket
//!   with one second of requests) and rejects the rest with `429` and
//!   `Retry-After: 1`; the rate reached is compared with R, and the share of
//!   requests answered `429` is reported. The bucket starts full, so the
//!   first R requests pass at once; the last column leaves them out.
//!
//! Run with `cargo bench --bench upload`, or pick one scenario:
//! `cargo bench --bench upload -- --rows 3000 --latency-ms 50 --rate-limit 100`.
//! Rows are synthetic (unique email and phone each), so the file reader
//! and checker are not part of the measure; the run journal is a real
//! SQLite file in a temporary folder. Results are printed, never asserted;
//! docs/benchmarks.md records them.

#![allow(
    clippy::print_stdout,
    reason = "the printed table is the benchmark's output"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use customer_importer::check::{CheckOptions, RowCheck};
use customer_importer::customer::Customer;
use customer_importer::environment::Environment;
use customer_importer::fields::Mapping;
use customer_importer::sandbox::{FaultConfig, RunningSandbox, Sandbox, SandboxConfig};
use customer_importer::secret::Secret;
use customer_importer::table::{Record, SourceFormat, SourceInfo, Table};
use customer_importer::upload::{SessionSettings, Target, UploadEvent, UploadPlan, Uploader};

/// One measured situation.
#[derive(Debug, Clone)]
struct Scenario {
    rows: u32,
    latency: Duration,
    rate_limit: Option<u32>,
    max_concurrency: usize,
}

/// Results of one scenario.
#[derive(Debug)]
struct Measure {
    elapsed: Duration,
    created: u64,
    requests: u64,
    rate_limited: u64,
}

fn main() -> anyhow::Result<()> {
    let scenarios = scenarios_from_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    println!(
        "scenario | rows | elapsed s | rows/s | target rows/s | share of target | 429 share \
         | share of target after the first second's burst"
    );
    for scenario in scenarios {
        let measure = runtime.block_on(measure(&scenario))?;
        print_line(&scenario, &measure);
    }
    Ok(())
}

/// Returns the scenario named by the arguments, or the default set.
fn scenarios_from_args() -> anyhow::Result<Vec<Scenario>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    let value = |name: &str| -> anyhow::Result<Option<u64>> {
        let Some(index) = args.iter().position(|arg| arg == name) else {
            return Ok(None);
        };
        let text = args
            .get(index + 1)
            .with_context(|| format!("{name} needs a number"))?;
        Ok(Some(text.parse().with_context(|| {
            format!("{name} {text} is not a number")
        })?))
    };
    let rows = value("--rows")?;
    let latency_ms = value("--latency-ms")?;
    let rate_limit = value("--rate-limit")?;
    let max_concurrency = value("--max-concurrency")?;
    if rows.is_none() && latency_ms.is_none() && rate_limit.is_none() && max_concurrency.is_none() {
        return Ok(default_scenarios());
    }
    let Ok(rows) = u32::try_from(rows.unwrap_or(3_000)) else {
        bail!("--rows is too large");
    };
    Ok(vec![Scenario {
        rows,
        latency: Duration::from_millis(latency_ms.unwrap_or(50)),
        rate_limit: rate_limit.map(|rate| u32::try_from(rate).unwrap_or(u32::MAX)),
        max_concurrency: usize::try_from(max_concurrency.unwrap_or(8)).unwrap_or(8),
    }])
}

fn default_scenarios() -> Vec<Scenario> {
    let latency = Duration::from_millis(50);
    vec![
        Scenario {
            rows: 3_000,
            latency,
            rate_limit: None,
            max_concurrency: 8,
        },
        Scenario {
            rows: 3_000,
            latency,
            rate_limit: None,
            max_concurrency: 32,
        },
        Scenario {
            rows: 3_000,
            latency,
            rate_limit: Some(100),
            max_concurrency: 8,
        },
        Scenario {
            rows: 1_500,
            latency,
            rate_limit: Some(50),
            max_concurrency: 8,
        },
        Scenario {
            rows: 3_000,
            latency,
            rate_limit: Some(100),
            max_concurrency: 32,
        },
    ]
}

async fn measure(scenario: &Scenario) -> anyhow::Result<Measure> {
    let sandbox = Sandbox::start(SandboxConfig {
        faults: FaultConfig {
            latency: scenario.latency,
            rate_limit: scenario.rate_limit,
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .context("starting the sandbox")?;
    let home = std::env::temp_dir().join(format!("upload-bench-{}", uuid::Uuid::new_v4()));
    let settings = SessionSettings {
        max_concurrency: scenario.max_concurrency,
        ..SessionSettings::default()
    };
    let uploader = Uploader::new(
        tokio::runtime::Handle::current(),
        home.join("journal.sqlite3"),
        settings,
    );
    let plan = plan(&sandbox, scenario.rows);

    let started = Instant::now();
    let mut session = uploader.start(plan, Secret::new("bench-token"));
    let mut created = 0;
    while let Some(event) = session.next_event().await {
        match event {
            UploadEvent::Finished(end) => created = end.counts.created,
            UploadEvent::Failed { message, .. } => bail!("the upload failed: {message}"),
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    let stats = sandbox.stats();
    std::fs::remove_dir_all(&home).ok();
    Ok(Measure {
        elapsed,
        created,
        requests: stats.requests,
        rate_limited: stats.rate_limited,
    })
}

fn plan(sandbox: &RunningSandbox, rows: u32) -> UploadPlan {
    let (table, checks) = synthetic_rows(rows);
    let target = Target {
        environment: Environment::Custom(sandbox.base_url()),
        base_url: sandbox.base_url(),
        location: sandbox.location().to_owned(),
    };
    UploadPlan::new(
        &table,
        checks,
        Mapping::default(),
        CheckOptions::default(),
        target,
    )
}

/// Returns a one-column table of `rows` rows and their checked customers,
/// each with its own email and phone.
fn synthetic_rows(rows: u32) -> (Table, Vec<RowCheck>) {
    let mut records = Vec::new();
    let mut checks = Vec::new();
    for row in 2..rows + 2 {
        let customer = Customer {
            given_name: Some("Bench".into()),
            family_name: Some(compact_str::format_compact!("Row{row}")),
            email_addresses: vec![compact_str::format_compact!("bench{row}@example.com")],
            phone_numbers: vec![compact_str::format_compact!(
                "+1{}",
                3_130_000_000_u64 + u64::from(row)
            )],
            ..Customer::default()
        };
        records.push(Record::new(row, &customer.email_addresses[..1]));
        checks.push(RowCheck {
            row,
            customer,
            location: None,
            issues: Vec::new(),
        });
    }
    let table = Table {
        source: SourceInfo {
            path: PathBuf::from("bench.csv"),
            format: SourceFormat::Csv {
                encoding: "UTF-8".to_owned(),
                delimiter: b',',
            },
            sheet: None,
            sheets: Vec::new(),
            fingerprint: uuid::Uuid::new_v4().to_string(),
        },
        headers: vec!["Email".to_owned()],
        header_row: 1,
        records,
        notes: Vec::new(),
    };
    (table, checks)
}

fn print_line(scenario: &Scenario, measure: &Measure) {
    let seconds = measure.elapsed.as_secs_f64();
    let rate = measure.created as f64 / seconds;
    let (name, target) = match scenario.rate_limit {
        Some(limit) => (
            format!(
                "rate limit {limit}/s, {} ms, max {}",
                scenario.latency.as_millis(),
                scenario.max_concurrency
            ),
            f64::from(limit),
        ),
        None => (
            format!(
                "latency {} ms, max {}",
                scenario.latency.as_millis(),
                scenario.max_concurrency
            ),
            scenario.max_concurrency as f64 / scenario.latency.as_secs_f64(),
        ),
    };
    let share_429 = if measure.requests == 0 {
        0.0
    } else {
        measure.rate_limited as f64 / measure.requests as f64
    };
    // The sandbox's token bucket starts with one second of requests.
    let burst = scenario.rate_limit.map_or(0.0, f64::from);
    let steady_rate = (measure.created as f64 - burst) / seconds;
    println!(
        "{name} | {} | {seconds:.1} | {rate:.1} | {target:.0} | {:.1} % | {:.2} % | {:.1} %",
        measure.created,
        rate / target * 100.0,
        share_429 * 100.0,
        steady_rate / target * 100.0
    );
}
