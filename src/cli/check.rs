//! `customer-importer check`: reads, maps and validates a file offline,
//! writes one JSON line per data row and prints a summary on stderr.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::CheckArgs;
use super::mapping::mapping_and_options;
use crate::check::{Attribute, CheckOptions, RowCheck, Severity, check_table};
use crate::fields::{Mapping, Target};
use crate::progress::Progress;
use crate::source::{self, ReadOptions};
use crate::table::{SourceFormat, Table};

/// Exit code of a file-level error (unreadable file, unknown preset).
const EXIT_FILE_ERROR: u8 = 2;

/// Row problems listed on stderr before the list is cut short.
const MAX_LISTED_ISSUES: usize = 20;

/// A file-level failure: the message follows `error: FILE: `.
struct Failure(String);

/// Runs the command and returns its exit code: 0 when the file was
/// checked (whatever its rows hold), 2 when it could not be.
pub fn run(args: CheckArgs) -> ExitCode {
    let file = args.read.file.display().to_string();
    match check_file(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            let mut stderr = std::io::stderr().lock();
            writeln!(stderr, "error: {file}: {message}").ok();
            ExitCode::from(EXIT_FILE_ERROR)
        }
    }
}

fn check_file(args: &CheckArgs) -> Result<(), Failure> {
    let read = &args.read;
    let read_options = ReadOptions {
        sheet: read.sheet.clone(),
    };
    let table = source::read(&read.file, &read_options, &Progress::new())
        .map_err(|error| Failure(error.user_message()))?;
    let (mapping, options) = mapping_and_options(read, &table).map_err(Failure)?;
    let rows = check_table(&table, &mapping, &options, &Progress::new());

    if let Some(out) = &args.json {
        write_json_lines(out, &rows)
            .map_err(|error| Failure(format!("cannot write {}: {error}", out.display())))?;
    }
    print_summary(&table, &mapping, &rows, &options)
        .map_err(|error| Failure(format!("cannot write the summary: {error}")))
}

/// Returns the JSON line of one row: its status, and the customer when it
/// is ready or the sorted attribute names of its errors when it is not.
pub fn row_json(row: &RowCheck) -> Value {
    if row.is_ready() {
        return json!({"row": row.row, "status": "ready", "customer": row.customer});
    }
    let mut errors: Vec<String> = row
        .issues
        .iter()
        .filter(|issue| issue.severity == Severity::Error)
        .map(|issue| attribute_name(issue.attribute))
        .collect();
    errors.sort();
    errors.dedup();
    json!({"row": row.row, "status": "invalid", "errors": errors})
}

fn attribute_name(attribute: Attribute) -> String {
    serde_json::to_value(attribute)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn write_json_lines(out: &Path, rows: &[RowCheck]) -> std::io::Result<()> {
    let mut text = String::new();
    for row in rows {
        text.push_str(&row_json(row).to_string());
        text.push('\n');
    }
    if out == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        return stdout.flush();
    }
    std::fs::write(out, text)
}

fn print_summary(
    table: &Table,
    mapping: &Mapping,
    rows: &[RowCheck],
    options: &CheckOptions,
) -> std::io::Result<()> {
    let mut stderr = std::io::stderr().lock();
    let file = table.source.file_name();
    writeln!(
        stderr,
        "{file}: {}, header on row {}",
        describe_format(table),
        table.header_row
    )?;
    if rows.is_empty() {
        writeln!(
            stderr,
            "No customer rows found below the header (row {}) of {file}.",
            table.header_row
        )?;
    }
    let ready = rows.iter().filter(|row| row.is_ready()).count();
    let warned = rows.iter().filter(|row| row.has_warnings()).count();
    writeln!(
        stderr,
        "rows: {}, ready: {ready}, invalid: {}, warned: {warned}, default country: {}",
        rows.len(),
        rows.len() - ready,
        options.default_country.as_deref().unwrap_or("none"),
    )?;
    writeln!(stderr, "mapping:")?;
    for (column, header) in table.headers.iter().enumerate() {
        let target = mapping.target(column);
        if target != Target::Ignore {
            writeln!(stderr, "  {header} -> {}", describe_target(target))?;
        }
    }
    print_issues(&mut stderr, table, rows)
}

fn print_issues(out: &mut impl Write, table: &Table, rows: &[RowCheck]) -> std::io::Result<()> {
    let issues: Vec<(u32, &crate::check::Issue)> = rows
        .iter()
        .flat_map(|row| row.issues.iter().map(move |issue| (row.row, issue)))
        .collect();
    for (row, issue) in issues.iter().take(MAX_LISTED_ISSUES) {
        let level = match issue.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let column = issue
            .column
            .and_then(|column| table.headers.get(column))
            .map(|header| format!(", column {header:?}"))
            .unwrap_or_default();
        writeln!(out, "  row {row}{column}: {level}: {}", issue.message)?;
    }
    if issues.len() > MAX_LISTED_ISSUES {
        writeln!(
            out,
            "  ... and {} more; see the JSON output",
            issues.len() - MAX_LISTED_ISSUES
        )?;
    }
    Ok(())
}

fn describe_format(table: &Table) -> String {
    match &table.source.format {
        SourceFormat::Csv {
            encoding,
            delimiter,
        } => {
            let delimiter = match delimiter {
                b'\t' => "tab".to_string(),
                other => format!("{:?}", char::from(*other)),
            };
            format!("delimited text, {encoding}, delimiter {delimiter}")
        }
        SourceFormat::Xlsx | SourceFormat::Xls | SourceFormat::Ods => {
            let kind = format!("{:?}", table.source.format).to_uppercase();
            let sheet = table.source.sheet.as_deref().unwrap_or("?");
            format!(
                "{kind} workbook, sheet {sheet:?} of {}",
                table.source.sheets.len()
            )
        }
    }
}

/// Names a target for the summary, such as `city (address 2)`.
pub fn describe_target(target: Target) -> String {
    let grouped = |part: &str, group: u8| format!("{part} (address {group})");
    match target {
        Target::Ignore => "ignored".to_string(),
        Target::GivenName => "given name".to_string(),
        Target::FamilyName => "family name".to_string(),
        Target::FullName => "full name".to_string(),
        Target::Street1 { group } => grouped("street line 1", group),
        Target::Street2 { group } => grouped("street line 2", group),
        Target::City { group } => grouped("city", group),
        Target::Region { group } => grouped("region", group),
        Target::Country { group } => grouped("country", group),
        Target::Address { group } => grouped("whole address", group),
        Target::Phone => "phone".to_string(),
        Target::Email => "email".to_string(),
        Target::Tags => "tags".to_string(),
        Target::Consent => "permission to contact".to_string(),
        Target::Location => "business location".to_string(),
    }
}
