//! `customer-importer check --mapping auto` on every handed export, every
//! hard case and the unseen layouts under `tests/unseen/`, compared with
//! their `.expected.jsonl` files row by row.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// One entry of a `manifest.json`.
#[derive(Debug, serde::Deserialize)]
struct Entry {
    file: String,
    expected: Option<String>,
    default_country: Option<String>,
    sheet: Option<String>,
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn manifest(folder: &str) -> Vec<Entry> {
    let path = tests_dir().join(folder).join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Runs `check --mapping auto --json -` with an empty config folder.
fn run_check(file: &Path, default_country: Option<&str>, sheet: Option<&str>) -> Output {
    let home = tempfile::tempdir().expect("temporary folder");
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-importer"));
    command
        .env("CUSTOMER_IMPORTER_HOME", home.path())
        .arg("check")
        .arg(file)
        .args(["--mapping", "auto", "--json", "-"]);
    if let Some(country) = default_country {
        command.args(["--default-country", country]);
    }
    if let Some(sheet) = sheet {
        command.args(["--sheet", sheet]);
    }
    command.output().expect("the binary runs")
}

fn parse_lines(text: &str, label: &str) -> Result<BTreeMap<u64, Value>, String> {
    let mut rows = BTreeMap::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let value: Value = serde_json::from_str(line)
            .map_err(|error| format!("{label}: bad JSON line {line:?}: {error}"))?;
        let row = value["row"]
            .as_u64()
            .ok_or_else(|| format!("{label}: line without a row: {line}"))?;
        rows.insert(row, value);
    }
    Ok(rows)
}

/// Returns a JSON value with every list turned into a sorted list, so
/// lists compare as sets, and `permissionToContact: null` removed from the
/// expected side (it is not compared).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            items.sort_by_key(|item| item.to_string());
            items.dedup();
            Value::Array(items)
        }
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, field)| !field.is_null())
                .map(|(key, field)| (key.clone(), canonical(field)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Describes how the customer of one row differs, attribute by attribute.
fn customer_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let expected = canonical(expected);
    let mut actual = canonical(actual);
    let empty = serde_json::Map::new();
    let expected_fields = expected.as_object().unwrap_or(&empty);
    if expected_fields.get("permissionToContact").is_none()
        && let Some(fields) = actual.as_object_mut()
    {
        fields.remove("permissionToContact");
    }
    let actual_fields = actual.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = expected_fields.keys().chain(actual_fields.keys()).collect();
    keys.into_iter()
        .filter(|key| expected_fields.get(*key) != actual_fields.get(*key))
        .map(|key| {
            format!(
                "{key}: expected {}, got {}",
                expected_fields
                    .get(key)
                    .map_or("nothing".to_string(), Value::to_string),
                actual_fields
                    .get(key)
                    .map_or("nothing".to_string(), Value::to_string)
            )
        })
        .collect()
}

/// Compares the rows of one file. Returns one line per difference.
fn compare_rows(expected: &BTreeMap<u64, Value>, actual: &BTreeMap<u64, Value>) -> Vec<String> {
    let mut differences = Vec::new();
    let rows: BTreeSet<&u64> = expected.keys().chain(actual.keys()).collect();
    for row in rows {
        let (Some(want), Some(got)) = (expected.get(row), actual.get(row)) else {
            let side = if expected.contains_key(row) {
                "missing from the output"
            } else {
                "not expected"
            };
            differences.push(format!(
                "row {row}: {side}: {}",
                expected
                    .get(row)
                    .or(actual.get(row))
                    .unwrap_or(&Value::Null)
            ));
            continue;
        };
        if want["status"] != got["status"] {
            differences.push(format!(
                "row {row}: status {} expected, got {} ({})",
                want["status"], got["status"], got
            ));
            continue;
        }
        if canonical(&want["errors"]) != canonical(&got["errors"]) {
            differences.push(format!(
                "row {row}: errors {} expected, got {}",
                want["errors"], got["errors"]
            ));
        }
        for difference in customer_differences(&want["customer"], &got["customer"]) {
            differences.push(format!("row {row}: {difference}"));
        }
    }
    differences
}

/// Checks every entry of a manifest that has an expected file, and fails
/// with one section per file that differs.
fn check_folder(folder: &str) {
    let mut report = Vec::new();
    let entries = manifest(folder);
    for entry in entries.iter().filter(|entry| entry.expected.is_some()) {
        let dir = tests_dir().join(folder);
        let expected_path = dir.join(entry.expected.as_deref().unwrap_or_default());
        let output = run_check(
            &dir.join(&entry.file),
            entry.default_country.as_deref(),
            entry.sheet.as_deref(),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            report.push(format!(
                "{folder}/{}: exit {:?}: {stderr}",
                entry.file,
                output.status.code()
            ));
            continue;
        }
        let expected_text = std::fs::read_to_string(&expected_path).unwrap_or_default();
        let differences = match (
            parse_lines(&expected_text, "expected"),
            parse_lines(&String::from_utf8_lossy(&output.stdout), "output"),
        ) {
            (Ok(expected), Ok(actual)) => compare_rows(&expected, &actual),
            (Err(error), _) | (_, Err(error)) => vec![error],
        };
        if !differences.is_empty() {
            report.push(format!(
                "{folder}/{} ({} rows differ):\n  {}\n  summary:\n{stderr}",
                entry.file,
                differences.len(),
                differences.join("\n  ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} file(s) differ:\n\n{}",
        report.len(),
        report.join("\n\n")
    );
}

#[test]
fn handed_exports_match_expected() {
    check_folder("fixtures");
}

#[test]
fn hard_cases_match_expected() {
    check_folder("cases");
}

#[test]
fn unseen_layouts_match_expected() {
    check_folder("unseen");
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn header_only_file_reports_no_rows() {
    let output = run_check(&tests_dir().join("cases/header-only.csv"), Some("US"), None);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert!(
        stderr_of(&output)
            .contains("No customer rows found below the header (row 1) of header-only.csv."),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn file_level_errors_exit_2_with_message() {
    let cases = [
        (
            "empty.csv",
            "The file is empty (0 bytes): nothing to import.",
        ),
        (
            "binary-renamed.csv",
            "This file is not a spreadsheet or text file (it holds a PNG image); export the customer list again as CSV or Excel.",
        ),
        (
            "truncated.xlsx",
            "The workbook is damaged or incomplete and cannot be opened; open it in Excel, save it again and retry.",
        ),
    ];
    for (file, message) in cases {
        let path = tests_dir().join("cases").join(file);
        let output = run_check(&path, Some("US"), None);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.starts_with("error: "), "{file}: {stderr}");
        assert!(stderr.contains(file), "{file}: {stderr}");
        assert!(stderr.contains(message), "{file}: {stderr}");
    }
}

#[test]
fn unknown_preset_exits_2() {
    let home = tempfile::tempdir().expect("temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_customer-importer"))
        .env("CUSTOMER_IMPORTER_HOME", home.path())
        .arg("check")
        .arg(tests_dir().join("cases/phone-extensions.csv"))
        .args(["--preset", "Nowhere"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("no preset named \"Nowhere\""),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn preset_from_config_folder_is_applied() {
    use customer_importer::fields::{Mapping, Target};
    use customer_importer::paths::AppPaths;
    use customer_importer::preset::{Preset, PresetStore};

    let home = tempfile::tempdir().expect("temporary folder");
    let headers: Vec<String> = ["Name", "Email", "Phone"]
        .iter()
        .map(|header| header.to_string())
        .collect();
    // Only the phone is mapped, so the output must hold no email.
    let mapping = Mapping {
        targets: vec![Target::FullName, Target::Ignore, Target::Phone],
    };
    let store = PresetStore::new(AppPaths::under(home.path().to_path_buf()).presets_dir());
    store
        .save(&Preset::from_mapping(
            "Phones only",
            &headers,
            &mapping,
            Some("US".to_string()),
        ))
        .expect("preset saved");

    let output = Command::new(env!("CARGO_BIN_EXE_customer-importer"))
        .env("CUSTOMER_IMPORTER_HOME", home.path())
        .arg("check")
        .arg(tests_dir().join("cases/phone-extensions.csv"))
        .args(["--preset", "phones only", "--json", "-"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let rows = parse_lines(&String::from_utf8_lossy(&output.stdout), "output").expect("JSON lines");
    assert_eq!(rows.len(), 4);
    assert!(
        rows.values()
            .all(|row| row["customer"]["emailAddresses"].is_null())
    );
    assert_eq!(rows[&2]["customer"]["phoneNumbers"][0], "+13135550101");
}

#[test]
fn bad_default_country_exits_2() {
    let output = run_check(
        &tests_dir().join("cases/phone-extensions.csv"),
        Some("ZZ"),
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("--default-country"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn long_cells_are_errors_with_short_messages() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let file = folder.path().join("long-cells.csv");
    let long_name = "A".repeat(100_000);
    let long_email = format!("{}@example.com", "b".repeat(100_000));
    let text = format!(
        "First Name,Last Name,Email,Phone\n\
         {long_name},Smith,ana@example.com,\n\
         Bo,Lee,{long_email},313-555-0101\n\
         Cy,Diaz,cy@example.com,313-555-0102\n"
    );
    std::fs::write(&file, text).expect("file written");

    let output = run_check(&file, Some("US"), None);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let rows = parse_lines(&String::from_utf8_lossy(&output.stdout), "output").expect("JSON lines");
    assert_eq!(rows[&2]["status"], "invalid");
    assert_eq!(rows[&2]["errors"], serde_json::json!(["givenName"]));
    assert_eq!(rows[&3]["status"], "invalid");
    assert_eq!(rows[&3]["errors"], serde_json::json!(["emailAddresses"]));
    assert_eq!(rows[&4]["status"], "ready");
    let longest = stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 400, "a line of {longest} bytes: {stderr:.600}");
    assert!(stderr.contains("(100000 characters)"), "{stderr:.2000}");
    assert!(stderr.contains("(100012 characters)"), "{stderr:.2000}");
}
