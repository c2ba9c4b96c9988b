//! Finding the table inside the rows of a sheet: the header row below any
//! title lines, the data rows below it, and what to leave out (blank rows,
//! totals and report footers, blank columns).
//!
//! Rows arrive one at a time from the text or workbook reader, already
//! numbered as a spreadsheet program numbers them. The first
//! [`SAMPLE_ROWS`] non-blank rows are held back until the header is chosen.
//! Later rows are stored as they come, so a large file is never held twice.

use csv::StringRecord;

use super::trailer::{is_count_row, is_trailer_line, mentions_contact};
use super::{MAX_CELLS, MAX_ROWS, MAX_TEXT_BYTES};
use crate::table::{ReadNote, Record};

/// Number of non-blank rows looked at to choose the header row.
pub(super) const SAMPLE_ROWS: usize = 30;

/// Rows kept beyond [`MAX_ROWS`] before giving up, so that a file with
/// exactly the maximum number of customers plus a few total or footer lines
/// still reads.
const FOOTER_ALLOWANCE: usize = 16;

/// The limit that stopped the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overflow {
    /// More than [`MAX_ROWS`] data rows.
    Rows,
    /// More than [`MAX_CELLS`] non-blank cells.
    Cells,
    /// More than [`MAX_TEXT_BYTES`] bytes of cell text.
    Text,
}

/// Collects the rows of one sheet and chooses its header row.
#[derive(Debug, Default)]
pub(super) struct TableBuilder {
    /// Non-blank rows seen while the header is not chosen yet.
    sample: Vec<Record>,
    /// Set once the header is chosen; `None` inside means the sheet has no
    /// header row.
    header: Option<Option<Record>>,
    records: Vec<Record>,
    cells: usize,
    text_bytes: usize,
    /// [`MAX_TEXT_BYTES`], lowered in tests.
    text_limit: usize,
}

/// A sheet's header and data records, before totals, footers and blank
/// columns are taken out. Column indexes are those of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawTable {
    /// The header row, or `None` when the first row already contains data.
    pub header: Option<Record>,
    pub records: Vec<Record>,
}

/// The finished table content, ready to go into a [`crate::table::Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub headers: Vec<String>,
    pub header_row: u32,
    pub records: Vec<Record>,
    pub notes: Vec<ReadNote>,
}

/// A merged cell range that spans several rows: the value of its top cell
/// is copied into the rows below it, in its first column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MergedRange {
    /// First and last row, 1-based as a spreadsheet shows them.
    pub first_row: u32,
    pub last_row: u32,
    /// 0-based source column.
    pub column: usize,
}

impl TableBuilder {
    pub fn new() -> Self {
        Self {
            text_limit: MAX_TEXT_BYTES,
            ..Self::default()
        }
    }

    /// Adds the row numbered `row`, copying its cells out of the reader's
    /// reused `fields`. Blank rows are dropped here, and trailing blank
    /// cells are not stored. Fails once the sheet has more rows, cells or text
    /// than the importer reads from one file.
    pub fn push(&mut self, row: u32, fields: &StringRecord) -> Result<(), Overflow> {
        let width = filled_width(fields);
        if width == 0 {
            return Ok(());
        }
        self.cells += width;
        if self.cells > MAX_CELLS {
            return Err(Overflow::Cells);
        }
        let cells = fields.iter().take(width);
        self.text_bytes += cells.clone().map(str::len).sum::<usize>();
        if self.text_bytes > self.text_limit {
            return Err(Overflow::Text);
        }
        let record = Record::new(row, cells);
        if self.header.is_some() {
            self.records.push(record);
            if self.records.len() > MAX_ROWS + FOOTER_ALLOWANCE {
                return Err(Overflow::Rows);
            }
        } else {
            self.sample.push(record);
            if self.sample.len() >= SAMPLE_ROWS {
                self.choose_header();
            }
        }
        Ok(())
    }

    /// Returns whether the header has been chosen, which happens after
    /// [`SAMPLE_ROWS`] non-blank rows.
    pub fn is_sampled(&self) -> bool {
        self.header.is_some()
    }

    /// Returns the header and data records, or `None` when every row was
    /// blank.
    pub fn finish(mut self) -> Option<RawTable> {
        if self.header.is_none() {
            if self.sample.is_empty() {
                return None;
            }
            self.choose_header();
        }
        Some(RawTable {
            header: self.header.flatten(),
            records: self.records,
        })
    }

    fn choose_header(&mut self) {
        let sample = std::mem::take(&mut self.sample);
        match header_index(&sample) {
            Some(index) => {
                let mut rows = sample.into_iter().skip(index);
                self.header = Some(rows.next());
                self.records.extend(rows);
            }
            None => {
                self.header = Some(None);
                self.records.extend(sample);
            }
        }
    }
}

impl RawTable {
    /// Copies the top value of each merged range into the data rows it
    /// covers, where their cell is blank. Ranges that start on or above the
    /// header are left alone, because a merged title or header spans
    /// columns, not records.
    ///
    /// A file can hold many overlapping ranges, and a range far to the
    /// right widens every record it fills. So every record a range covers
    /// and every cell a fill adds count against [`MAX_CELLS`], and the
    /// copied text against [`MAX_TEXT_BYTES`], apart from what
    /// [`TableBuilder::push`] counted. Past either limit, filling fails.
    pub fn fill_merged(&mut self, ranges: &[MergedRange]) -> Result<(), Overflow> {
        let header_row = self.header.as_ref().map_or(0, |header| header.row);
        let mut budget = FillBudget::default();
        for range in ranges {
            if range.first_row <= header_row || range.last_row <= range.first_row {
                continue;
            }
            let start = self.records.partition_point(|r| r.row < range.first_row);
            let Some(top) = self.records.get(start).filter(|r| r.row == range.first_row) else {
                continue;
            };
            let value = top.get(range.column).to_owned();
            if is_blank(&value) {
                continue;
            }
            for record in self.records[start + 1..].iter_mut() {
                if record.row > range.last_row {
                    break;
                }
                budget.visit()?;
                if is_blank(record.get(range.column)) {
                    record.set(range.column, &value);
                    budget.fill(record, &value)?;
                }
            }
        }
        Ok(())
    }

    /// Drops totals and report footers, checks the row limit, keeps values
    /// to the right of the last header under placeholder headers (with a
    /// note on each such row), drops blank columns and cleans the headers.
    pub fn into_layout(mut self) -> Result<Layout, Overflow> {
        drop_summary_rows(&mut self.records);
        if self.records.len() > MAX_ROWS {
            return Err(Overflow::Rows);
        }
        let header_row = self.header.as_ref().map_or(0, |header| header.row);
        let notes = match &self.header {
            Some(header) => overflow_notes(header, &self.records),
            None => Vec::new(),
        };
        // A sheet without a header row is laid out as if its header row
        // were there with every cell blank.
        let header = self.header.unwrap_or_default();
        let width = self
            .records
            .iter()
            .map(Record::len)
            .chain([header.len()])
            .max()
            .unwrap_or(0);
        let filled = filled_columns(&header, &self.records, width);
        let keep: Vec<usize> = (0..width).filter(|&column| filled[column]).collect();
        let headers = keep
            .iter()
            .map(|&column| header_text(header.get(column), column))
            .collect();
        let records = if keep.iter().copied().eq(0..keep.len()) {
            self.records
        } else {
            select_columns(self.records, &keep)
        };
        Ok(Layout {
            headers,
            header_row,
            records,
            notes,
        })
    }
}

/// Cleans a header for display and matching: non-breaking and other fixed
/// spaces become spaces, zero-width characters and the byte order mark go,
/// runs of white space (line breaks included) become one space, and the
/// ends are trimmed.
pub fn clean_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace())
        .map(|word| word.trim_matches(is_zero_width))
    {
        let word: String = word.chars().filter(|&c| !is_zero_width(c)).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// Returns whether a cell contains nothing but white space and zero-width
/// characters.
pub(super) fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_zero_width(c))
}

fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

/// Returns the number of fields up to and including the last non-blank one.
fn filled_width(fields: &StringRecord) -> usize {
    (0..fields.len())
        .rev()
        .find(|&index| !is_blank(fields.get(index).unwrap_or("")))
        .map_or(0, |last| last + 1)
}

/// The work and memory [`RawTable::fill_merged`] has spent.
#[derive(Debug, Default)]
struct FillBudget {
    cells: usize,
    text_bytes: usize,
}

impl FillBudget {
    fn visit(&mut self) -> Result<(), Overflow> {
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return Err(Overflow::Cells);
        }
        Ok(())
    }

    fn fill(&mut self, record: &Record, value: &str) -> Result<(), Overflow> {
        self.cells = self.cells.saturating_add(record.len());
        self.text_bytes = self.text_bytes.saturating_add(value.len());
        if self.cells > MAX_CELLS {
            return Err(Overflow::Cells);
        }
        if self.text_bytes > MAX_TEXT_BYTES {
            return Err(Overflow::Text);
        }
        Ok(())
    }
}

fn filled_count(record: &Record) -> usize {
    record.cells().filter(|field| !is_blank(field)).count()
}

/// Chooses the header among the first non-blank rows: the first row filled
/// across at least half the width of the widest row (at least two cells),
/// which passes over report titles. Returns `None` when that row already
/// contains data (an email address or phone number) and no earlier row can be
/// the header.
fn header_index(sample: &[Record]) -> Option<usize> {
    let counts: Vec<usize> = sample.iter().map(filled_count).collect();
    let widest = counts.iter().copied().max().unwrap_or(0);
    let threshold = widest.div_ceil(2).max(2);
    let candidate = if widest < 2 {
        0
    } else {
        counts.iter().position(|&count| count >= threshold)?
    };
    if !looks_like_data(sample.get(candidate)?) {
        return Some(candidate);
    }
    (0..candidate)
        .rev()
        .find(|&index| counts[index] >= 2 && !looks_like_data(&sample[index]))
}

fn looks_like_data(record: &Record) -> bool {
    record
        .cells()
        .any(|cell| looks_like_email(cell) || phone_digits(cell) >= 9)
}

/// Returns whether a cell looks like one email address: text, one `@`,
/// and a dot in the domain.
pub(super) fn looks_like_email(cell: &str) -> bool {
    let cell = cell.trim();
    let Some((local, domain)) = cell.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !cell.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// Returns the number of digits in a cell that is made only of digits and
/// the punctuation of phone numbers, or 0 for any other cell.
pub(super) fn phone_digits(cell: &str) -> usize {
    let cell = cell.trim();
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if cell.is_empty() || !cell.chars().all(allowed) {
        return 0;
    }
    cell.chars().filter(char::is_ascii_digit).count()
}

/// Words that make a header look like part of a customer list, in the
/// languages of the sample exports (English, French, German).
const CUSTOMER_HEADER_WORDS: &[&str] = &[
    "name",
    "first",
    "last",
    "given",
    "family",
    "surname",
    "email",
    "e-mail",
    "mail",
    "phone",
    "mobile",
    "cell",
    "tel",
    "address",
    "street",
    "city",
    "customer",
    "contact",
    "client",
    "company",
    "courriel",
    "prénom",
    "nom",
    "téléphone",
    "adresse",
    "vorname",
    "nachname",
    "telefon",
    "kunde",
];

/// Scores how much a sample of rows looks like a customer list: header
/// cells naming customer fields count 3, cells holding an email address 2,
/// and cells holding a phone number 1.
pub(super) fn customer_score(sample: &[Record]) -> usize {
    let header = header_index(sample);
    let header_score: usize = header
        .and_then(|index| sample.get(index))
        .map_or(0, |record| {
            record
                .cells()
                .filter(|cell| is_customer_header(cell))
                .count()
                * 3
        });
    let data_start = header.map_or(0, |index| index + 1);
    let data_score: usize = sample
        .iter()
        .skip(data_start)
        .flat_map(Record::cells)
        .map(|cell| {
            if looks_like_email(cell) {
                2
            } else {
                usize::from(phone_digits(cell) >= 7)
            }
        })
        .sum();
    header_score + data_score
}

fn is_customer_header(cell: &str) -> bool {
    let cell = clean_header(cell).to_lowercase();
    cell.split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|word| CUSTOMER_HEADER_WORDS.contains(&word))
        || cell.starts_with("customer")
}

/// Labels of total lines in reports (compared lowercase, without a final
/// colon).
const TOTAL_LABELS: &[&str] = &[
    "total",
    "totals",
    "grand total",
    "subtotal",
    "sub-total",
    "sum",
    "total général",
    "gesamt",
    "summe",
];

/// Drops total and count lines anywhere, then the report trailer below the
/// last data row.
fn drop_summary_rows(records: &mut Vec<Record>) {
    records.retain(|record| !is_total_row(record) && !is_count_row(record));
    let start = trailer_start(records);
    records.truncate(start);
}

/// Returns the index of the first row of the report trailer, or the number
/// of records when there is none. The trailer is read from the end, where
/// rows with one filled cell and no email address or phone number
/// (`Vendasta Demo Co.` below a copyright line) may belong to it. It starts
/// at the earliest footer or trailer line among them (`Grand Totals (11
/// records)`, `Generated by …`). Rows above that line are data, so a
/// name-only customer row just above a footer is kept.
fn trailer_start(records: &[Record]) -> usize {
    let mut start = records.len();
    for (index, record) in records.iter().enumerate().rev() {
        if is_footer_row(record) || is_trailer_line(record) {
            start = index;
        } else if !is_single_note(record) {
            break;
        }
    }
    start
}

/// Returns whether a row has exactly one filled cell and no email address
/// or phone number in it.
fn is_single_note(record: &Record) -> bool {
    let filled = record.cells().filter(|cell| !is_blank(cell)).count();
    filled == 1 && !mentions_contact(record)
}

/// Returns whether a row is a total line: its first filled cell is a total
/// label and every other filled cell is a number.
fn is_total_row(record: &Record) -> bool {
    let mut cells = record.cells().filter(|cell| !is_blank(cell));
    let Some(label) = cells.next() else {
        return false;
    };
    // Every label starts with t, g or s; most rows are rejected here
    // without allocating.
    let starts_like_label = label
        .trim_start()
        .starts_with(|c: char| matches!(c.to_ascii_lowercase(), 't' | 'g' | 's'));
    if !starts_like_label || label.len() > 40 {
        return false;
    }
    let label = clean_header(label).to_lowercase();
    let label = label.trim_end_matches(':').trim_end();
    let is_label = TOTAL_LABELS.contains(&label)
        || TOTAL_LABELS.iter().any(|known| {
            label
                .strip_prefix(known)
                .is_some_and(|rest| rest.starts_with(' ') && !rest.contains(char::is_alphabetic))
        });
    is_label && cells.all(looks_like_amount)
}

fn looks_like_amount(cell: &str) -> bool {
    let cell = cell.trim();
    cell.chars().any(|c| c.is_ascii_digit())
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || " .,-+()%$€£¥'\u{a0}".contains(c))
}

/// Returns whether a row is a report footer: one filled cell that contains
/// a date and time stamp, or a line such as "Generated on 2024-10-01" or
/// "Page 2 of 3".
fn is_footer_row(record: &Record) -> bool {
    let mut cells = record.cells().filter(|cell| !is_blank(cell));
    let (Some(cell), None) = (cells.next(), cells.next()) else {
        return false;
    };
    let lower = cell.trim().to_lowercase();
    let known_start = [
        "generated",
        "printed",
        "exported",
        "created on",
        "report date",
        "run date",
        "page ",
        "accrual basis",
        "cash basis",
    ]
    .iter()
    .any(|start| lower.starts_with(start));
    // A business name such as "Page Turner Books" can also start like a
    // footer, so a footer line needs a number too.
    let has_digit = lower.contains(|c: char| c.is_ascii_digit());
    (known_start && has_digit)
        || (has_year(&lower) && (has_clock_time(&lower) || has_month_name(&lower)))
}

fn has_year(text: &str) -> bool {
    text.as_bytes()
        .windows(4)
        .enumerate()
        .any(|(start, window)| {
            let digits = window.iter().all(u8::is_ascii_digit);
            let century = window.starts_with(b"19") || window.starts_with(b"20");
            let before = start.checked_sub(1).and_then(|i| text.as_bytes().get(i));
            let after = text.as_bytes().get(start + 4);
            digits
                && century
                && !before.is_some_and(u8::is_ascii_digit)
                && !after.is_some_and(u8::is_ascii_digit)
        })
}

fn has_clock_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(4).any(|window| {
        window[0].is_ascii_digit()
            && window[1] == b':'
            && window[2].is_ascii_digit()
            && window[3].is_ascii_digit()
    })
}

fn has_month_name(text: &str) -> bool {
    /// Month names and their usual abbreviations in English, French and
    /// German, lowercase.
    const MONTHS: &[&str] = &[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
        "janv",
        "févr",
        "avr",
        "juil",
        "déc",
        "januar",
        "februar",
        "märz",
        "juni",
        "juli",
        "oktober",
        "dezember",
        "mär",
        "okt",
        "dez",
    ];
    text.split(|c: char| !c.is_alphabetic())
        .any(|word| MONTHS.contains(&word))
}

/// Builds one note for each record with filled cells to the right of the
/// last header.
fn overflow_notes(header: &Record, records: &[Record]) -> Vec<ReadNote> {
    let width = header.len();
    records
        .iter()
        .filter_map(|record| {
            let extra: Vec<String> = (width..record.len())
                .filter(|&column| !is_blank(record.get(column)))
                .map(|column| format!("\u{201c}{}\u{201d}", placeholder(column)))
                .collect();
            (!extra.is_empty()).then(|| ReadNote {
                row: record.row,
                message: format!(
                    "This row has values to the right of the last column with a header; \
                     they are kept under {}.",
                    extra.join(", ")
                ),
            })
        })
        .collect()
}

/// Marks the columns that have a header or at least one filled cell.
fn filled_columns(header: &Record, records: &[Record], width: usize) -> Vec<bool> {
    let mut filled = vec![false; width];
    for record in std::iter::once(header).chain(records) {
        for (column, cell) in record.cells().enumerate() {
            if let Some(mark) = filled.get_mut(column)
                && !*mark
                && !is_blank(cell)
            {
                *mark = true;
            }
        }
    }
    filled
}

fn header_text(raw: &str, column: usize) -> String {
    let cleaned = clean_header(raw);
    if cleaned.is_empty() {
        placeholder(column)
    } else {
        cleaned
    }
}

/// Returns the header given to a column whose header cell is empty, named
/// by its 1-based position in the source.
fn placeholder(column: usize) -> String {
    format!("Column {}", column + 1)
}

fn select_columns(records: Vec<Record>, keep: &[usize]) -> Vec<Record> {
    records
        .into_iter()
        .map(|record| {
            let last = keep
                .iter()
                .rposition(|&column| !is_blank(record.get(column)))
                .map_or(0, |index| index + 1);
            let cells = keep[..last].iter().map(|&column| record.get(column));
            Record::new(record.row, cells)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(row: u32, cells: &[&str]) -> Record {
        Record::new(row, cells)
    }

    fn build(rows: &[(u32, &[&str])]) -> Layout {
        let mut builder = TableBuilder::new();
        for (row, cells) in rows {
            builder
                .push(*row, &StringRecord::from(cells.to_vec()))
                .expect("within limits");
        }
        builder
            .finish()
            .expect("some rows")
            .into_layout()
            .expect("within limits")
    }

    fn rows_of(layout: &Layout) -> Vec<u32> {
        layout.records.iter().map(|r| r.row).collect()
    }

    #[test]
    fn clean_header_normalises_spaces() {
        assert_eq!(clean_header("First\u{a0}Name"), "First Name");
        assert_eq!(clean_header("Last Name\u{a0}"), "Last Name");
        assert_eq!(clean_header("\u{200b}Phone"), "Phone");
        assert_eq!(clean_header("\u{feff}Email"), "Email");
        assert_eq!(clean_header("  E-mail \n 1  "), "E-mail 1");
        assert_eq!(clean_header("Zip\u{200b} Code"), "Zip Code");
        assert_eq!(clean_header(" \u{200b} "), "");
    }

    #[test]
    fn header_below_report_title() {
        let layout = build(&[
            (1, &["Lakeside Florist LLC"]),
            (2, &["Customer Contact List"]),
            (3, &["As of October 1, 2024"]),
            (5, &["Customer", "Phone", "Email"]),
            (
                6,
                &["Reyes, Camila", "(313) 555-0170", "camila@example.com"],
            ),
            (7, &["Old Client (deleted)"]),
            (8, &["TOTAL", "", ""]),
            (10, &["Tuesday, October 01, 2024 09:14 AM GMT-04:00"]),
        ]);
        assert_eq!(layout.header_row, 5);
        assert_eq!(layout.headers, ["Customer", "Phone", "Email"]);
        assert_eq!(rows_of(&layout), [6, 7]);
    }

    #[test]
    fn name_only_row_at_end_is_data() {
        let layout = build(&[
            (1, &["Name", "Email"]),
            (2, &["Ana", "ana@example.com"]),
            (3, &["Kimberly Cuevas (deleted)"]),
        ]);
        assert_eq!(rows_of(&layout), [2, 3]);
    }

    #[test]
    fn headerless_file_keeps_first_row() {
        let layout = build(&[
            (1, &["Ana", "ana@example.com"]),
            (2, &["Bo", "bo@example.com"]),
        ]);
        assert_eq!(layout.header_row, 0);
        assert_eq!(layout.headers, ["Column 1", "Column 2"]);
        assert_eq!(rows_of(&layout), [1, 2]);
    }

    #[test]
    fn unnamed_empty_column_is_dropped() {
        let layout = build(&[
            (1, &["First", "Last", "Email", "Phone", ""]),
            (2, &["Ana", "Smith", "a@example.com", "313", ""]),
            (3, &["Bo", "Lee", "b@example.com"]),
            (4, &["Cy", "Diaz", "", "313", "", "", ""]),
        ]);
        assert_eq!(layout.headers, ["First", "Last", "Email", "Phone"]);
        assert!(layout.notes.is_empty());
    }

    #[test]
    fn extra_values_kept_with_note() {
        let layout = build(&[
            (1, &["First", "Email"]),
            (2, &["Ana", "a@example.com", "", "VIP"]),
            (3, &["Bo", "b@example.com"]),
        ]);
        assert_eq!(layout.headers, ["First", "Email", "Column 4"]);
        assert_eq!(layout.records[0].get(2), "VIP");
        assert_eq!(layout.records[1].get(2), "");
        assert_eq!(layout.notes.len(), 1);
        assert_eq!(layout.notes[0].row, 2);
        assert!(layout.notes[0].message.contains("Column 4"));
    }

    #[test]
    fn blank_middle_column_is_dropped() {
        let layout = build(&[
            (1, &["", "First", "", "Email"]),
            (2, &["", "Ana", "", "a@example.com"]),
        ]);
        assert_eq!(layout.headers, ["First", "Email"]);
        assert_eq!(layout.records[0].get(0), "Ana");
        assert_eq!(layout.records[0].get(1), "a@example.com");
    }

    #[test]
    fn duplicate_headers_are_kept() {
        let layout = build(&[
            (1, &["Name", "Phone", "Phone"]),
            (2, &["Ruth", "313-555-0121", "313-555-0122"]),
        ]);
        assert_eq!(layout.headers, ["Name", "Phone", "Phone"]);
    }

    #[test]
    fn pivot_total_row_is_dropped() {
        let layout = build(&[
            (1, &["Province", "Customers"]),
            (2, &["QC", "2"]),
            (3, &["Grand Total", "3"]),
        ]);
        assert_eq!(rows_of(&layout), [2]);
    }

    #[test]
    fn customer_named_total_is_kept() {
        let layout = build(&[
            (1, &["Name", "Email"]),
            (2, &["Total", "total@example.com"]),
            (3, &["Total Wine"]),
        ]);
        assert_eq!(rows_of(&layout), [2, 3]);
    }

    #[test]
    fn report_trailer_is_dropped() {
        let layout = build(&[
            (5, &["First Name", "Last Name", "Phone", "Email"]),
            (6, &["Ava", "Lind", "(313) 555-0142", "ava@example.com"]),
            (7, &["Tom", "Herrera", "", "tom.h@example"]),
            (8, &["Kimberly Cuevas (deleted)"]),
            (10, &["Grand Totals (3 records)"]),
            (
                12,
                &["Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."],
            ),
            (13, &["Confidential Information - Do Not Distribute"]),
            (14, &["Generated By:  Dana Whitfield  3/14/2025 9:12 AM"]),
            (15, &["Vendasta Demo Co."]),
        ]);
        assert_eq!(rows_of(&layout), [6, 7, 8]);
    }

    #[test]
    fn trailer_languages_are_dropped() {
        for trailer in [
            [
                "Total général : 2 clients",
                "Généré par Sellsy le 14/03/2025",
            ],
            [
                "Total general (2 registros)",
                "Todos los derechos reservados",
            ],
            ["Gesamt: 2 Datensätze", "Erstellt am 14.03.2025 von Lexware"],
        ] {
            let layout = build(&[
                (1, &["Name", "Email"]),
                (2, &["Ana", "ana@example.com"]),
                (3, &["Bo", "bo@example.com"]),
                (4, &[trailer[0]]),
                (5, &[trailer[1]]),
            ]);
            assert_eq!(rows_of(&layout), [2, 3], "{trailer:?}");
        }
    }

    #[test]
    fn count_lines_are_dropped() {
        for count in [
            &["Total de clientes: 10", ""][..],
            &["", "Total clients : 10"],
            &["Gesamt: 10 Kunden"],
            &["Número de registros: 10"],
            &["10 customers"],
            &["Count: 10"],
            &["10", "clientes"],
        ] {
            let layout = build(&[
                (1, &["Email", "Phone"]),
                (2, &["a@example.com", "212-555-0101"]),
                (3, &["", ""]),
                (4, count),
            ]);
            assert_eq!(rows_of(&layout), [2], "{count:?}");
        }
    }

    #[test]
    fn count_line_between_groups_is_dropped() {
        let layout = build(&[
            (1, &["Name", "Email"]),
            (2, &["Ana", "ana@example.com"]),
            (3, &["Total de clientes: 1"]),
            (4, &["Bo", "bo@example.com"]),
            (5, &["Client 3"]),
        ]);
        assert_eq!(rows_of(&layout), [2, 4, 5]);
    }

    #[test]
    fn rows_with_contact_below_trailer_are_kept() {
        let layout = build(&[
            (1, &["Name", "Email", "Phone"]),
            (2, &["Ana", "ana@example.com", ""]),
            (3, &["Confidential"]),
            (4, &["Bo", "", "(313) 555-0142"]),
            (5, &["Generated by Acme CRM"]),
        ]);
        assert_eq!(rows_of(&layout), [2, 3, 4]);
    }

    #[test]
    fn footer_detection_needs_a_stamp() {
        assert!(is_footer_row(&record(9, &["Printed 2024-10-01"])));
        assert!(is_footer_row(&record(9, &["Oct 1, 2024"])));
        assert!(is_footer_row(&record(9, &["", "01/10/2024 09:14"])));
        assert!(!is_footer_row(&record(9, &["Cuevas, Kimberly (deleted)"])));
        assert!(!is_footer_row(&record(9, &["Marie 2024"])));
        assert!(!is_footer_row(&record(9, &["Oct 1, 2024", "x"])));
        assert!(is_footer_row(&record(9, &["Page 2 of 3"])));
        assert!(!is_footer_row(&record(9, &["Page Turner Books"])));
        assert!(!is_footer_row(&record(9, &["Printed Matter Inc"])));
    }

    #[test]
    fn merged_cells_fill_down() {
        let mut raw = RawTable {
            header: Some(record(1, &["Company", "Name"])),
            records: vec![
                record(2, &["Acme", "Ana"]),
                record(3, &["", "Bo"]),
                record(4, &["", "Cy"]),
                record(5, &["", "Di"]),
            ],
        };
        raw.fill_merged(&[
            MergedRange {
                first_row: 2,
                last_row: 4,
                column: 0,
            },
            MergedRange {
                first_row: 1,
                last_row: 5,
                column: 1,
            },
        ])
        .expect("within limits");
        let companies: Vec<&str> = raw.records.iter().map(|r| r.get(0)).collect();
        assert_eq!(companies, ["Acme", "Acme", "Acme", ""]);
    }

    #[test]
    fn many_merged_ranges_hit_cell_limit() {
        let mut raw = RawTable {
            header: Some(record(1, &["Company"])),
            records: (2..1_002).map(|row| record(row, &["Acme"])).collect(),
        };
        let range = MergedRange {
            first_row: 2,
            last_row: 1_001,
            column: 0,
        };
        // Each range visits the 999 records below its top one.
        let ranges = vec![range; MAX_CELLS / 999 + 1];
        assert_eq!(raw.fill_merged(&ranges), Err(Overflow::Cells));
        assert_eq!(raw.fill_merged(&ranges[..10]), Ok(()));
    }

    #[test]
    fn text_limit_stops_pushes() {
        let mut builder = TableBuilder {
            text_limit: 25,
            ..TableBuilder::new()
        };
        let fields = StringRecord::from(vec!["0123456789"]);
        assert_eq!(builder.push(1, &fields), Ok(()));
        assert_eq!(builder.push(2, &fields), Ok(()));
        assert_eq!(builder.push(3, &fields), Err(Overflow::Text));
    }

    #[test]
    fn row_limit_stops_pushes() {
        let mut builder = TableBuilder::new();
        let fields = StringRecord::from(vec!["x", "y"]);
        let mut outcome = Ok(());
        for row in 1..=(MAX_ROWS + FOOTER_ALLOWANCE + 2) {
            outcome = builder.push(row as u32, &fields);
            if outcome.is_err() {
                break;
            }
        }
        assert_eq!(outcome, Err(Overflow::Rows));
    }

    #[test]
    fn blank_rows_are_skipped() {
        let layout = build(&[
            (1, &["Name", "Email"]),
            (2, &["", "  "]),
            (3, &["Ana", "a@example.com"]),
            (4, &[" ", "\u{a0}", "\u{200b}"]),
            (5, &["Bo", "b@example.com"]),
        ]);
        assert_eq!(rows_of(&layout), [3, 5]);
    }

    #[test]
    fn customer_score_prefers_contacts() {
        let pivot = [
            record(1, &["Province", "Customers"]),
            record(2, &["QC", "2"]),
            record(3, &["Grand Total", "3"]),
        ];
        let contacts = [
            record(1, &["First Name", "Email", "Phone"]),
            record(2, &["Ana", "ana@example.com", "514-555-0121"]),
        ];
        assert!(customer_score(&contacts) > customer_score(&pivot));
    }

    #[test]
    fn email_and_phone_shapes() {
        assert!(looks_like_email("ava@example.com"));
        assert!(!looks_like_email("Email"));
        assert!(!looks_like_email("a b@example.com"));
        assert_eq!(phone_digits("(313) 555-0142"), 10);
        assert_eq!(phone_digits("Phone 1"), 0);
    }
}
