//! Benchmark of opening a big customer file, from the path to checked
//! rows: `source::read` followed by `check::check_table`, on the
//! 100,000-row CSV and XLSX that `benches/make_big_case.py` writes.
//!
//! Run with `cargo bench --bench open`. The files are generated once into
//! `target/bench-data/` (the XLSX needs Python's `openpyxl`; without it
//! only the CSV is measured). Each run happens in a child process (this
//! binary again, with `--child`), so the peak resident memory it reports
//! (`VmHWM` from `/proc/self/status`, Linux only) belongs to that one run.
//! The share of it that is pages of the program file (`RssFile`, mostly
//! code and static data of the dependencies) is printed as well, because
//! it is a fixed cost that does not grow with the rows. The median CPU
//! time (user + system, from `/proc/self/stat`) is printed too, because on
//! a loaded machine it varies far less than the wall time.
//! Results are printed, never asserted; docs/benchmarks.md records them.

#![allow(
    clippy::print_stdout,
    reason = "the printed table is the benchmark's output"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use customer_importer::check::{self, CheckOptions};
use customer_importer::fields::{Mapping, Target};
use customer_importer::progress::Progress;
use customer_importer::source::{self, ReadOptions};

/// Runs per file; the median time and the highest peak memory are shown.
const RUNS: usize = 5;

/// Rows in the generated files.
const ROWS: usize = 100_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(index) = args.iter().position(|arg| arg == "--child") {
        let path = args.get(index + 1).context("--child needs a file path")?;
        return child(Path::new(path));
    }
    parent()
}

/// Measures one file in this process and prints one line of
/// `key=value` pairs for the parent.
fn child(path: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let table = source::read(path, &ReadOptions::default(), &Progress::new())
        .with_context(|| format!("reading {}", path.display()))?;
    let read_secs = start.elapsed().as_secs_f64();
    let read_peak_kib = status_kib("VmHWM:")?;
    let mapping = big_case_mapping(&table.headers);
    let options = CheckOptions {
        default_country: Some("US".to_owned()),
    };
    let checked = check::check_table(&table, &mapping, &options, &Progress::new());
    let total_secs = start.elapsed().as_secs_f64();
    println!(
        "read_secs={read_secs} total_secs={total_secs} cpu_secs={} records={} checked={} \
         read_peak_kib={read_peak_kib} peak_kib={} file_kib={}",
        cpu_secs()?,
        table.records.len(),
        checked.len(),
        status_kib("VmHWM:")?,
        status_kib("RssFile:")?
    );
    Ok(())
}

/// Returns the mapping that the header guess gives the generated file's
/// columns, written out so the benchmark does not depend on the guess.
fn big_case_mapping(headers: &[String]) -> Mapping {
    let targets = headers
        .iter()
        .map(|header| match header.as_str() {
            "First Name" => Target::GivenName,
            "Last Name" => Target::FamilyName,
            "Email" => Target::Email,
            "Phone" => Target::Phone,
            "Street" => Target::Street1 { group: 0 },
            "City" => Target::City { group: 0 },
            "State" => Target::Region { group: 0 },
            "Country" => Target::Country { group: 0 },
            "Tags" => Target::Tags,
            _ => Target::Ignore,
        })
        .collect();
    Mapping { targets }
}

/// Reads one memory figure of this process from `/proc/self/status`, in
/// KiB: `VmHWM:` is the peak resident set size, `RssFile:` the resident
/// pages mapped from files.
fn status_kib(key: &str) -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with(key))
        .with_context(|| format!("no {key} line in /proc/self/status"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .with_context(|| format!("{key} has no value"))?
        .parse()?;
    Ok(kib)
}

/// Reads the CPU time (user + system) of all threads of this process
/// so far, in seconds, from fields 14 and 15 of `/proc/self/stat`.
fn cpu_secs() -> anyhow::Result<f64> {
    // Linux reports these fields in USER_HZ ticks, which are 1/100 s on
    // x86 and Arm.
    const TICKS_PER_SEC: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The program name (field 2) is in parentheses and may contain
    // spaces, so the count starts after its closing parenthesis, at field 3.
    let (_, after_name) = stat
        .rsplit_once(')')
        .context("no program name in /proc/self/stat")?;
    let mut fields = after_name.split_whitespace().skip(14 - 3);
    let mut next_ticks = |name: &str| -> anyhow::Result<f64> {
        let field = fields
            .next()
            .with_context(|| format!("no {name} in /proc/self/stat"))?;
        Ok(field.parse::<u64>()? as f64)
    };
    let user = next_ticks("utime")?;
    let system = next_ticks("stime")?;
    Ok((user + system) / TICKS_PER_SEC)
}

/// One child run's figures.
#[derive(Debug, Clone, Copy)]
struct Run {
    read_secs: f64,
    total_secs: f64,
    /// CPU time of the whole run, process start included.
    cpu_secs: f64,
    records: u64,
    checked: u64,
    /// Peak resident memory after `source::read`, before the check.
    read_peak_kib: u64,
    peak_kib: u64,
    /// Resident pages mapped from files after the check.
    file_kib: u64,
}

fn parent() -> anyhow::Result<()> {
    let data = data_dir();
    let xlsx_ready = generate(&data)?;
    let mut files = vec![("CSV", data.join("big-100k.csv"), 1.0)];
    if xlsx_ready {
        files.push(("XLSX", data.join("big-100k.xlsx"), 3.0));
    }
    println!(
        "file  size       read      read+check            CPU       \
         peak RSS after read, after check (of it file pages)  budget      rows"
    );
    for (label, path, target_secs) in files {
        let runs = (0..RUNS)
            .map(|_| run_child(&path))
            .collect::<anyhow::Result<Vec<Run>>>()?;
        report(label, &path, target_secs, &runs)?;
    }
    Ok(())
}

fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("bench-data")
}

/// Writes the big files if they are missing. Returns whether the XLSX is
/// there.
fn generate(data: &Path) -> anyhow::Result<bool> {
    let csv = data.join("big-100k.csv");
    let xlsx = data.join("big-100k.xlsx");
    if csv.exists() && xlsx.exists() {
        return Ok(true);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/make_big_case.py");
    let python = ["python3", "/usr/bin/python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import openpyxl"])
            .output()
            .is_ok_and(|output| output.status.success())
    });
    let mut command = Command::new(python.unwrap_or("python3"));
    command.arg(&script).arg("--out").arg(data);
    command.args(["--rows", &ROWS.to_string()]);
    if python.is_some() {
        command.arg("--xlsx");
    } else {
        println!("openpyxl not found for python3: measuring the CSV only");
    }
    let status = command.status().context("running make_big_case.py")?;
    if !status.success() {
        bail!("make_big_case.py failed with {status}");
    }
    Ok(xlsx.exists())
}

fn run_child(path: &Path) -> anyhow::Result<Run> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg(path)
        .output()
        .context("starting the child run")?;
    if !output.status.success() {
        bail!(
            "child run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |key: &str| -> anyhow::Result<&str> {
        text.split_whitespace()
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .with_context(|| format!("child output has no {key}: {text}"))
    };
    Ok(Run {
        read_secs: field("read_secs")?.parse()?,
        total_secs: field("total_secs")?.parse()?,
        cpu_secs: field("cpu_secs")?.parse()?,
        records: field("records")?.parse()?,
        checked: field("checked")?.parse()?,
        read_peak_kib: field("read_peak_kib")?.parse()?,
        peak_kib: field("peak_kib")?.parse()?,
        file_kib: field("file_kib")?.parse()?,
    })
}

fn report(label: &str, path: &Path, target_secs: f64, runs: &[Run]) -> anyhow::Result<()> {
    let size = std::fs::metadata(path)?.len();
    let median = |pick: fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let max_mib = |pick: fn(&Run) -> u64| runs.iter().map(pick).max().unwrap_or(0) as f64 / 1024.0;
    let (read_peak_mib, peak_mib, file_mib) = (
        max_mib(|run| run.read_peak_kib),
        max_mib(|run| run.peak_kib),
        max_mib(|run| run.file_kib),
    );
    let size_mib = size as f64 / (1024.0 * 1024.0);
    let budget_mib = 3.0 * size_mib + 80.0;
    let (read, total) = (median(|run| run.read_secs), median(|run| run.total_secs));
    let cpu = median(|run| run.cpu_secs);
    let last = runs.last().context("no runs")?;
    println!(
        "{label:<5} {size_mib:>5.1} MiB  {read:>6.3} s  {total:>6.3} s (target {target_secs} s)  \
         {cpu:>6.3} s  \
         {read_peak_mib:>6.1} MiB  {peak_mib:>6.1} MiB ({file_mib:>4.1} MiB file)  \
         {budget_mib:>6.1} MiB  {} read, {} checked",
        last.records, last.checked
    );
    Ok(())
}
