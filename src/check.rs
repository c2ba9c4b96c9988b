//! Turns records into customers as they would be sent, with every problem
//! found on the way, and flags rows that repeat an email or phone of an
//! earlier row.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::customer::Customer;
use crate::fields::Mapping;
use crate::normalize::record::{ColumnPlan, normalize_options, read_record};
use crate::progress::Progress;
use crate::table::{ReadNote, Record, Table};

/// Settings that change how values are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// ISO 3166-1 alpha-2 code used for phone numbers and addresses of rows
    /// that name no country.
    #[serde(default)]
    pub default_country: Option<String>,
}

/// How serious an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The row cannot be sent until it is fixed.
    Error,
    /// The row can be sent, but something was changed or looks wrong.
    Warning,
}

/// The part of a customer an [`Issue`] is about. The serialized names are
/// the API attribute names, plus `contact` (no email and no phone), `location`
/// and `row` (the row as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Attribute {
    GivenName,
    FamilyName,
    Address,
    PhoneNumbers,
    EmailAddresses,
    Tags,
    PermissionToContact,
    Contact,
    Location,
    Row,
}

/// One problem found in a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub severity: Severity,
    pub attribute: Attribute,
    /// Source column the problem sits in, when one cell is at fault.
    pub column: Option<usize>,
    /// Sentence for the user: what is wrong with which value and what to do.
    pub message: String,
}

/// A record after normalisation and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCheck {
    /// Spreadsheet row number of the record.
    pub row: u32,
    pub customer: Customer,
    /// Business location id from a [`crate::fields::Target::Location`]
    /// column, if the mapping has one.
    pub location: Option<String>,
    pub issues: Vec<Issue>,
}

impl RowCheck {
    /// Returns whether the row can be sent: it has no error.
    pub fn is_ready(&self) -> bool {
        !self.has_errors()
    }

    pub fn has_errors(&self) -> bool {
        self.issues
            .iter()
            .any(|issue| issue.severity == Severity::Error)
    }

    pub fn has_warnings(&self) -> bool {
        self.issues
            .iter()
            .any(|issue| issue.severity == Severity::Warning)
    }
}

/// Number of records checked between two looks at the cancel flag and two
/// progress updates, large enough that every rayon worker gets many rows.
const CHUNK_ROWS: usize = 2048;

/// Checks every record of a table, in parallel, then adds a warning to each
/// row that shares an email or phone with an earlier row. Rows come back in
/// table order. Stops early, returning the rows checked so far, when
/// `progress` is cancelled.
///
/// Notes the reader left on a row (such as extra cells past the last
/// header) become warnings on that row.
pub fn check_table(
    table: &Table,
    mapping: &Mapping,
    options: &CheckOptions,
    progress: &Progress,
) -> Vec<RowCheck> {
    let plan = ColumnPlan::new(mapping);
    let options = &normalize_options(options);
    progress.set_total(table.records.len() as u64);
    let mut rows = Vec::with_capacity(table.records.len());
    for chunk in table.records.chunks(CHUNK_ROWS) {
        if progress.is_cancelled() {
            tracing::debug!(checked = rows.len(), "row check cancelled");
            break;
        }
        let checked: Vec<RowCheck> = chunk
            .par_iter()
            .map(|record| read_record(record, &plan, options))
            .collect();
        rows.extend(checked);
        progress.add_done(chunk.len() as u64);
    }
    add_read_notes(&mut rows, &table.notes);
    flag_duplicates(&mut rows);
    rows
}

/// Checks one record on its own (no duplicate detection).
pub fn check_record(record: &Record, mapping: &Mapping, options: &CheckOptions) -> RowCheck {
    read_record(
        record,
        &ColumnPlan::new(mapping),
        &normalize_options(options),
    )
}

fn add_read_notes(rows: &mut [RowCheck], notes: &[ReadNote]) {
    if notes.is_empty() {
        return;
    }
    let by_row: HashMap<u32, usize> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| (row.row, index))
        .collect();
    for note in notes {
        if let Some(&index) = by_row.get(&note.row) {
            rows[index].issues.push(Issue {
                severity: Severity::Warning,
                attribute: Attribute::Row,
                column: None,
                message: note.message.clone(),
            });
        }
    }
}

/// Warns on each row whose email or phone already appeared on an earlier
/// row of the same business location. Both rows stay ready: the API would
/// reject the later one as a conflict, and the user chooses what to do.
fn flag_duplicates(rows: &mut [RowCheck]) {
    let mut first_emails: HashMap<(Option<String>, String), u32> = HashMap::new();
    let mut first_phones: HashMap<(Option<String>, String), u32> = HashMap::new();
    for row in rows.iter_mut() {
        let mut warnings = Vec::new();
        for email in &row.customer.email_addresses {
            let key = (row.location.clone(), email.to_lowercase());
            match first_emails.get(&key) {
                Some(&earlier) if earlier != row.row => warnings.push(duplicate_warning(
                    Attribute::EmailAddresses,
                    "email address",
                    email,
                    earlier,
                )),
                Some(_) => {}
                None => {
                    first_emails.insert(key, row.row);
                }
            }
        }
        for phone in &row.customer.phone_numbers {
            let key = (row.location.clone(), phone.clone());
            match first_phones.get(&key) {
                Some(&earlier) if earlier != row.row => warnings.push(duplicate_warning(
                    Attribute::PhoneNumbers,
                    "phone number",
                    phone,
                    earlier,
                )),
                Some(_) => {}
                None => {
                    first_phones.insert(key, row.row);
                }
            }
        }
        row.issues.extend(warnings);
    }
}

fn duplicate_warning(attribute: Attribute, kind: &str, value: &str, earlier: u32) -> Issue {
    Issue {
        severity: Severity::Warning,
        attribute,
        column: None,
        message: format!(
            "Row {earlier} has the same {kind} ({value}); the API will report this row as a conflict, so skip or merge one of the two"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::fields::Target;
    use crate::table::{SourceFormat, SourceInfo};

    fn table(rows: &[&[&str]]) -> Table {
        Table {
            source: SourceInfo {
                path: PathBuf::from("inline.csv"),
                format: SourceFormat::Csv {
                    encoding: "UTF-8".to_string(),
                    delimiter: b',',
                },
                sheet: None,
                sheets: Vec::new(),
                fingerprint: String::new(),
            },
            headers: vec![
                "Name".into(),
                "Email".into(),
                "Phone".into(),
                "Location".into(),
            ],
            header_row: 1,
            records: rows
                .iter()
                .enumerate()
                .map(|(index, cells)| Record {
                    row: index as u32 + 2,
                    fields: csv::StringRecord::from(cells.to_vec()),
                })
                .collect(),
            notes: Vec::new(),
        }
    }

    fn mapping() -> Mapping {
        Mapping {
            targets: vec![
                Target::FullName,
                Target::Email,
                Target::Phone,
                Target::Location,
            ],
        }
    }

    fn options() -> CheckOptions {
        CheckOptions {
            default_country: Some("US".to_string()),
        }
    }

    fn warnings(row: &RowCheck) -> Vec<&str> {
        row.issues
            .iter()
            .filter(|issue| issue.severity == Severity::Warning)
            .map(|issue| issue.message.as_str())
            .collect()
    }

    #[test]
    fn duplicates_warn_on_later_rows() {
        let sheet = table(&[
            &["Ana Smith", "ana.smith@Example.com", "313-555-0101", ""],
            &["Ana Smith", " ana.smith@example.com ", "313-555-0102", ""],
            &["Ana Smyth", "", "313-555-0101", ""],
        ]);
        let rows = check_table(&sheet, &mapping(), &options(), &Progress::new());
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(RowCheck::is_ready));
        assert!(warnings(&rows[0]).is_empty());
        assert_eq!(warnings(&rows[1]).len(), 1);
        assert!(warnings(&rows[1])[0].starts_with("Row 2 has the same email address"));
        assert_eq!(warnings(&rows[2]).len(), 1);
        assert!(warnings(&rows[2])[0].starts_with("Row 2 has the same phone number"));
    }

    #[test]
    fn duplicates_count_per_location() {
        let sheet = table(&[
            &["Ana Smith", "ana@example.com", "", "AG-ONE1"],
            &["Ana Smith", "ana@example.com", "", "AG-TWO2"],
        ]);
        let rows = check_table(&sheet, &mapping(), &options(), &Progress::new());
        assert_eq!(rows[1].location.as_deref(), Some("AG-TWO2"));
        assert!(warnings(&rows[1]).is_empty());
    }

    #[test]
    fn read_notes_become_row_warnings() {
        let mut sheet = table(&[&["Ana Smith", "ana@example.com", "", ""]]);
        sheet.notes.push(ReadNote {
            row: 2,
            message: "Row 2 has 1 extra cell".to_string(),
        });
        let rows = check_table(&sheet, &mapping(), &options(), &Progress::new());
        assert_eq!(warnings(&rows[0]), ["Row 2 has 1 extra cell"]);
        assert_eq!(rows[0].issues[0].attribute, Attribute::Row);
    }

    #[test]
    fn rows_keep_table_order() {
        let cells: Vec<[String; 4]> = (0..5000)
            .map(|index| {
                [
                    format!("Person {index}"),
                    format!("p{index}@example.com"),
                    String::new(),
                    String::new(),
                ]
            })
            .collect();
        let rows: Vec<Vec<&str>> = cells
            .iter()
            .map(|row| row.iter().map(String::as_str).collect())
            .collect();
        let references: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
        let progress = Progress::new();
        let checked = check_table(&table(&references), &mapping(), &options(), &progress);
        let numbers: Vec<u32> = checked.iter().map(|row| row.row).collect();
        let expected: Vec<u32> = (2..5002).collect();
        assert_eq!(numbers, expected);
        assert_eq!(progress.done(), 5000);
    }

    #[test]
    fn cancelled_check_returns_no_rows() {
        let sheet = table(&[&["Ana Smith", "ana@example.com", "", ""]]);
        let progress = Progress::new();
        progress.cancel();
        assert!(check_table(&sheet, &mapping(), &options(), &progress).is_empty());
    }

    #[test]
    fn bad_location_is_an_error() {
        let record = Record {
            row: 2,
            fields: csv::StringRecord::from(vec!["Ana Smith", "ana@example.com", "", "Main store"]),
        };
        let row = check_record(&record, &mapping(), &options());
        assert!(!row.is_ready());
        assert_eq!(row.issues[0].attribute, Attribute::Location);
        assert_eq!(row.issues[0].column, Some(3));
    }
}
