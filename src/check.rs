//! Turns records into customers as they would be sent, with every problem
//! found on the way, and flags rows that repeat an email or phone of an
//! earlier row.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

use compact_str::CompactString;
use hashbrown::HashTable;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::customer::Customer;
use crate::fields::Mapping;
use crate::normalize::quote;
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
    pub message: IssueText,
}

/// The sentence of an [`Issue`]. Checked rows stay in memory for the
/// preview, so a duplicate warning, which most rows of a big file can get,
/// keeps only its parts and is worded when shown. Both kinds serialize as
/// the plain sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueText {
    /// A sentence worded when the problem was found.
    Written(Box<str>),
    /// An email address or phone number that an earlier row has too.
    Duplicate {
        kind: DuplicateKind,
        value: CompactString,
        earlier_row: u32,
    },
}

/// The kind of value an [`IssueText::Duplicate`] repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKind {
    Email,
    Phone,
}

impl IssueText {
    /// Returns the sentence, borrowed when it was written in full.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Written(text) => Cow::Borrowed(text),
            Self::Duplicate { .. } => Cow::Owned(self.to_string()),
        }
    }
}

impl fmt::Display for IssueText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Written(text) => f.write_str(text),
            Self::Duplicate {
                kind,
                value,
                earlier_row,
            } => {
                let kind = match kind {
                    DuplicateKind::Email => "email address",
                    DuplicateKind::Phone => "phone number",
                };
                write!(
                    f,
                    "Row {earlier_row} has the same {kind} ({}). The API keeps whichever of the two arrives first and reports the other as a conflict, so exclude one of them or merge it after the upload",
                    quote(value)
                )
            }
        }
    }
}

impl From<String> for IssueText {
    fn from(text: String) -> Self {
        Self::Written(text.into_boxed_str())
    }
}

impl From<&str> for IssueText {
    fn from(text: &str) -> Self {
        Self::Written(text.into())
    }
}

impl Serialize for IssueText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IssueText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
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
            push_exact(
                &mut rows[index].issues,
                Issue {
                    severity: Severity::Warning,
                    attribute: Attribute::Row,
                    column: None,
                    message: note.message.as_str().into(),
                },
            );
        }
    }
}

/// Appends an issue without the spare capacity `Vec::push` would leave.
/// Checked rows stay in memory for the preview, and on a file where most
/// rows repeat a phone number, a spare three issues per row cost about
/// 14 MB per 100,000 rows.
fn push_exact(issues: &mut Vec<Issue>, issue: Issue) {
    issues.reserve_exact(1);
    issues.push(issue);
}

/// Warns on each row whose email or phone already appeared on an earlier
/// row of the same business location. Both rows stay ready: the API would
/// reject the later one as a conflict, and the user chooses what to do.
///
/// The tables store only the position of each value's first row (8 bytes
/// a slot) and hash and compare through the rows. A big file has as many
/// distinct emails as rows, and keys borrowed from the rows cost about 48
/// bytes a slot, which was 6 MB on 100,000 rows.
fn flag_duplicates(rows: &mut [RowCheck]) {
    let hasher = RandomState::new();
    let mut first_emails = FirstSeen::default();
    let mut first_phones = FirstSeen::default();
    for index in 0..rows.len() {
        let mut warnings = Vec::new();
        let row = &rows[index];
        for (value_index, email) in row.customer.email_addresses.iter().enumerate() {
            let earlier = first_emails.find_or_insert(
                rows,
                &hasher,
                ValueAt::new(index, value_index),
                |row, value| fold_case(&row.customer.email_addresses[value]),
            );
            if let Some(earlier) = earlier.filter(|&earlier| earlier != row.row) {
                warnings.push(duplicate_warning(DuplicateKind::Email, email, earlier));
            }
        }
        for (value_index, phone) in row.customer.phone_numbers.iter().enumerate() {
            let earlier = first_phones.find_or_insert(
                rows,
                &hasher,
                ValueAt::new(index, value_index),
                |row, value| Cow::Borrowed(row.customer.phone_numbers[value].as_str()),
            );
            if let Some(earlier) = earlier.filter(|&earlier| earlier != row.row) {
                warnings.push(duplicate_warning(DuplicateKind::Phone, phone, earlier));
            }
        }
        for warning in warnings {
            push_exact(&mut rows[index].issues, warning);
        }
    }
}

/// A value of a checked row: the row's position in the slice and the
/// value's position in its list.
#[derive(Debug, Clone, Copy)]
struct ValueAt {
    row: u32,
    value: u32,
}

impl ValueAt {
    fn new(row: usize, value: usize) -> Self {
        // A table has at most `u32::MAX` records, because records are
        // numbered by spreadsheet row as `u32`. A cell has far fewer values.
        Self {
            row: u32::try_from(row).unwrap_or(u32::MAX),
            value: u32::try_from(value).unwrap_or(u32::MAX),
        }
    }
}

/// The first occurrence of each (location, key) pair among checked rows.
#[derive(Default)]
struct FirstSeen {
    table: HashTable<ValueAt>,
}

impl FirstSeen {
    /// Returns the spreadsheet row where the key of `at` first appeared, or
    /// records `at` as that first row and returns `None`.
    fn find_or_insert<'rows>(
        &mut self,
        rows: &'rows [RowCheck],
        hasher: &RandomState,
        at: ValueAt,
        key: impl Fn(&'rows RowCheck, usize) -> Cow<'rows, str>,
    ) -> Option<u32> {
        let full_key = |at: ValueAt| {
            let row = &rows[at.row as usize];
            (row.location.as_deref(), key(row, at.value as usize))
        };
        let target_key = full_key(at);
        let hash = hasher.hash_one(&target_key);
        if let Some(first) = self.table.find(hash, |&seen| full_key(seen) == target_key) {
            return Some(rows[first.row as usize].row);
        }
        self.table
            .insert_unique(hash, at, |&seen| hasher.hash_one(full_key(seen)));
        None
    }
}

/// Returns an email address in lower case, borrowed when it already is.
fn fold_case(email: &str) -> Cow<'_, str> {
    if email.is_ascii() && !email.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Borrowed(email)
    } else {
        Cow::Owned(email.to_lowercase())
    }
}

fn duplicate_warning(kind: DuplicateKind, value: &str, earlier_row: u32) -> Issue {
    Issue {
        severity: Severity::Warning,
        attribute: match kind {
            DuplicateKind::Email => Attribute::EmailAddresses,
            DuplicateKind::Phone => Attribute::PhoneNumbers,
        },
        column: None,
        message: IssueText::Duplicate {
            kind,
            value: value.into(),
            earlier_row,
        },
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
                .map(|(index, cells)| Record::new(index as u32 + 2, *cells))
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

    fn warnings(row: &RowCheck) -> Vec<String> {
        row.issues
            .iter()
            .filter(|issue| issue.severity == Severity::Warning)
            .map(|issue| issue.message.to_string())
            .collect()
    }

    #[test]
    fn duplicate_text_serializes_as_sentence() {
        let issue = duplicate_warning(DuplicateKind::Phone, "+13135550101", 2);
        let json = serde_json::to_value(&issue).expect("serialize");
        let sentence = issue.message.to_string();
        assert!(sentence.starts_with("Row 2 has the same phone number"));
        assert_eq!(json["message"], sentence.as_str());

        let read: Issue = serde_json::from_value(json).expect("deserialize");
        assert_eq!(read.message, IssueText::Written(sentence.into()));
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
        let record = Record::new(2, ["Ana Smith", "ana@example.com", "", "Main store"]);
        let row = check_record(&record, &mapping(), &options());
        assert!(!row.is_ready());
        assert_eq!(row.issues[0].attribute, Attribute::Location);
        assert_eq!(row.issues[0].column, Some(3));
    }
}
