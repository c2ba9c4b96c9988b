//! Reading XLSX, XLS and ODS workbooks through `calamine`: choosing the
//! sheet, turning every cell into text, and feeding the rows to the
//! [`TableBuilder`].
//!
//! XLSX sheets are streamed cell by cell, so a sheet whose used range
//! claims a million rows costs only the rows that hold cells. XLS and ODS
//! sheets are loaded whole by `calamine`, which bounds them by their
//! formats' row and column limits.

use std::io::Cursor;
use std::path::Path;

use calamine::{
    Data, DataRef, Dimensions, ExcelDateTime, Ods, OdsError, Reader as _, SheetType, SheetVisible,
    Xls, XlsError, Xlsx, XlsxError,
};
use csv::StringRecord;

use super::detect::Container;
use super::error::SourceError;
use super::layout::{self, MergedRange, RawTable, TableBuilder};
use super::ods_check::{self, OdsCheck};
use super::xls_check::{self, XlsCheck};
use super::{ReadOptions, overflow_error};
use crate::progress::Progress;
use crate::table::{Record, SourceFormat};

/// Maximum number of rows visited while sampling a sheet to choose among
/// several.
const SAMPLE_SCAN_ROWS: usize = 10_000;

/// Rows between two checks of the cancel flag.
const CANCEL_CHECK_ROWS: usize = 1024;

/// A workbook sheet read into rows.
#[derive(Debug)]
pub(super) struct WorkbookRead {
    /// `None` when every row of the sheet is blank.
    pub raw: Option<RawTable>,
    pub format: SourceFormat,
    pub sheet: String,
    /// Every worksheet, in workbook order.
    pub sheets: Vec<String>,
}

/// Whether a row visitor wants more rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

type RowSink<'s> = dyn FnMut(u32, &StringRecord) -> Result<Flow, SourceError> + 's;

/// Reads one sheet of the workbook in `bytes`, of the kind `container`
/// (XLSX, XLS or ODS).
pub(super) fn read_workbook(
    bytes: &[u8],
    container: Container,
    options: &ReadOptions,
    progress: &Progress,
    path: &Path,
) -> Result<WorkbookRead, SourceError> {
    let mut book = Book::open(bytes, container, path)?;
    read_book(&mut book, options, progress, path)
}

fn read_book(
    book: &mut Book<'_>,
    options: &ReadOptions,
    progress: &Progress,
    path: &Path,
) -> Result<WorkbookRead, SourceError> {
    let sheets = book.worksheets();
    let sheet = choose_sheet(book, &sheets, options, progress, path)?;
    tracing::debug!(file = %path.display(), sheet = %sheet, "reading sheet");
    let mut builder = TableBuilder::new();
    let mut rows_seen = 0_usize;
    book.visit_rows(
        &sheet,
        path,
        &mut |row, record| {
            rows_seen += 1;
            if rows_seen.is_multiple_of(CANCEL_CHECK_ROWS) {
                if progress.is_cancelled() {
                    return Err(SourceError::Cancelled {
                        path: path.to_owned(),
                    });
                }
                progress.set_done(u64::from(row));
            }
            builder
                .push(row, record)
                .map_err(|overflow| overflow_error(path, overflow))?;
            Ok(Flow::Continue)
        },
        progress,
    )?;
    let mut raw = builder.finish();
    if let Some(raw) = raw.as_mut() {
        raw.fill_merged(&book.merged_ranges(&sheet))
            .map_err(|overflow| overflow_error(path, overflow))?;
    }
    Ok(WorkbookRead {
        raw,
        format: book.format(),
        sheet,
        sheets: sheets.into_iter().map(|(name, _)| name).collect(),
    })
}

/// Picks the sheet named in the options, else the only worksheet, else the
/// visible worksheet that looks most like a customer list (the first one
/// on a tie).
fn choose_sheet(
    book: &mut Book<'_>,
    sheets: &[(String, bool)],
    options: &ReadOptions,
    progress: &Progress,
    path: &Path,
) -> Result<String, SourceError> {
    if let Some(wanted) = &options.sheet {
        return find_sheet(sheets, wanted).ok_or_else(|| SourceError::SheetNotFound {
            path: path.to_owned(),
            sheet: wanted.clone(),
            sheets: sheets.iter().map(|(name, _)| name.clone()).collect(),
        });
    }
    let candidates: Vec<&String> = match sheets.iter().filter(|(_, visible)| *visible).count() {
        0 => sheets.iter().map(|(name, _)| name).collect(),
        _ => sheets
            .iter()
            .filter(|(_, visible)| *visible)
            .map(|(name, _)| name)
            .collect(),
    };
    let (first, rest) = candidates.split_first().ok_or_else(|| SourceError::Blank {
        path: path.to_owned(),
        sheet: None,
    })?;
    if rest.is_empty() {
        return Ok((*first).clone());
    }
    let mut best = ((*first).clone(), sample_score(book, first, progress, path)?);
    for name in rest {
        let score = sample_score(book, name, progress, path)?;
        if score > best.1 {
            best = ((*name).clone(), score);
        }
    }
    tracing::debug!(file = %path.display(), sheet = %best.0, score = best.1, "chose sheet");
    Ok(best.0)
}

fn find_sheet(sheets: &[(String, bool)], wanted: &str) -> Option<String> {
    let exact = sheets.iter().find(|(name, _)| name == wanted);
    let loose = || {
        sheets
            .iter()
            .find(|(name, _)| name.trim().to_lowercase() == wanted.trim().to_lowercase())
    };
    exact.or_else(loose).map(|(name, _)| name.clone())
}

/// Scores the first rows of a sheet with [`layout::customer_score`].
fn sample_score(
    book: &mut Book<'_>,
    sheet: &str,
    progress: &Progress,
    path: &Path,
) -> Result<usize, SourceError> {
    let mut builder = TableBuilder::new();
    let mut rows_seen = 0_usize;
    book.visit_rows(
        sheet,
        path,
        &mut |row, record| {
            rows_seen += 1;
            // The builder stops sampling after SAMPLE_ROWS rows, long before
            // any limit.
            builder.push(row, record).ok();
            let done = builder.is_sampled() || rows_seen >= SAMPLE_SCAN_ROWS;
            Ok(if done { Flow::Stop } else { Flow::Continue })
        },
        progress,
    )?;
    let sample: Vec<Record> = builder
        .finish()
        .map(|raw| raw.header.into_iter().chain(raw.records).collect())
        .unwrap_or_default();
    Ok(layout::customer_score(&sample))
}

/// An open workbook of one of the three formats.
enum Book<'a> {
    Xlsx(Xlsx<Cursor<&'a [u8]>>),
    /// Reads a copy of the workbook stream that [`xls_check`] made.
    Xls(Xls<Cursor<Vec<u8>>>),
    Ods(Ods<Cursor<&'a [u8]>>),
}

impl<'a> Book<'a> {
    fn open(bytes: &'a [u8], container: Container, path: &Path) -> Result<Self, SourceError> {
        let cursor = Cursor::new(bytes);
        match container {
            Container::Xls => Xls::new(Cursor::new(check_xls(bytes, path)?))
                .map(Book::Xls)
                .map_err(|error| xls_error(path, error)),
            Container::Ods => {
                check_ods(bytes, path)?;
                Ods::new(cursor)
                    .map(Book::Ods)
                    .map_err(|error| ods_error(path, error))
            }
            _ => Xlsx::new(cursor)
                .map(Book::Xlsx)
                .map_err(|error| xlsx_error(path, error)),
        }
    }

    fn format(&self) -> SourceFormat {
        match self {
            Book::Xlsx(_) => SourceFormat::Xlsx,
            Book::Xls(_) => SourceFormat::Xls,
            Book::Ods(_) => SourceFormat::Ods,
        }
    }

    /// Returns the worksheets (not chart or macro sheets) in workbook order,
    /// each with whether it is visible.
    fn worksheets(&self) -> Vec<(String, bool)> {
        let metadata = match self {
            Book::Xlsx(book) => book.sheets_metadata(),
            Book::Xls(book) => book.sheets_metadata(),
            Book::Ods(book) => book.sheets_metadata(),
        };
        metadata
            .iter()
            .filter(|sheet| sheet.typ == SheetType::WorkSheet)
            .map(|sheet| (sheet.name.clone(), sheet.visible == SheetVisible::Visible))
            .collect()
    }

    /// Calls `sink` with each row that contains a non-blank cell, numbered
    /// from 1, with cells at their source column (blank cells empty), until
    /// the sink returns [`Flow::Stop`] or fails.
    fn visit_rows(
        &mut self,
        sheet: &str,
        path: &Path,
        sink: &mut RowSink<'_>,
        progress: &Progress,
    ) -> Result<(), SourceError> {
        match self {
            Book::Xlsx(book) => stream_xlsx(book, sheet, path, sink, progress),
            Book::Xls(book) => {
                let range = book
                    .worksheet_range(sheet)
                    .map_err(|error| xls_error(path, error))?;
                visit_range(&range, sink, progress)
            }
            Book::Ods(book) => {
                let range = book
                    .worksheet_range(sheet)
                    .map_err(|error| ods_error(path, error))?;
                visit_range(&range, sink, progress)
            }
        }
    }

    /// Returns the merged ranges of a sheet that span several rows. ODS
    /// merges are not reported by `calamine`, so an ODS sheet has none.
    fn merged_ranges(&mut self, sheet: &str) -> Vec<MergedRange> {
        let dimensions = match self {
            Book::Xlsx(book) => book.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
            Book::Xls(book) => book.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
            Book::Ods(_) => Vec::new(),
        };
        dimensions.iter().filter_map(merged_range).collect()
    }
}

/// Returns the XLS in `bytes` rebuilt to hold only its checked workbook
/// stream, or rejects it when it would make `calamine` exhaust memory or
/// run for minutes (see [`xls_check`]).
fn check_xls(bytes: &[u8], path: &Path) -> Result<Vec<u8>, SourceError> {
    let limits = xls_check::Limits {
        cells: super::MAX_CELLS as u64,
        text_bytes: super::MAX_TEXT_BYTES as u64,
    };
    match xls_check::check(bytes, limits) {
        XlsCheck::Fits(container) => Ok(container),
        XlsCheck::TooManyCells => Err(SourceError::TooManyCells {
            path: path.to_owned(),
            limit: super::MAX_CELLS,
        }),
        XlsCheck::TooMuchText => Err(SourceError::TooMuchText {
            path: path.to_owned(),
            limit_bytes: super::MAX_TEXT_BYTES,
        }),
        XlsCheck::Damaged(detail) => Err(damaged(path, detail.to_owned())),
    }
}

/// Rejects an ODS that would make `calamine` exhaust memory or never
/// return (see [`ods_check`]).
fn check_ods(bytes: &[u8], path: &Path) -> Result<(), SourceError> {
    let limits = ods_check::Limits {
        cells: super::MAX_CELLS as u64,
        text_bytes: super::MAX_TEXT_BYTES as u64,
    };
    match ods_check::check(bytes, limits) {
        OdsCheck::Fits => Ok(()),
        OdsCheck::TooManyCells => Err(SourceError::TooManyCells {
            path: path.to_owned(),
            limit: super::MAX_CELLS,
        }),
        OdsCheck::TooMuchText => Err(SourceError::TooMuchText {
            path: path.to_owned(),
            limit_bytes: super::MAX_TEXT_BYTES,
        }),
        OdsCheck::Damaged(detail) => Err(damaged(path, detail.to_owned())),
    }
}

fn merged_range(dimensions: &Dimensions) -> Option<MergedRange> {
    (dimensions.end.0 > dimensions.start.0).then(|| MergedRange {
        first_row: dimensions.start.0.saturating_add(1),
        last_row: dimensions.end.0.saturating_add(1),
        column: dimensions.start.1 as usize,
    })
}

/// Streams the cells of an XLSX sheet in file order and groups them into
/// rows. Blank cells are left out, so a used range inflated by formatting
/// costs nothing.
fn stream_xlsx(
    book: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    path: &Path,
    sink: &mut RowSink<'_>,
    progress: &Progress,
) -> Result<(), SourceError> {
    let mut cells = book
        .worksheet_cells_reader(sheet)
        .map_err(|error| xlsx_error(path, error))?;
    progress.set_total(u64::from(cells.dimensions().end.0) + 1);
    let mut rows = RowAssembler::default();
    let mut text = String::new();
    while let Some(cell) = cells.next_cell().map_err(|error| xlsx_error(path, error))? {
        let (row, column) = cell.get_position();
        if rows.start_row(row, sink)? == Flow::Stop {
            return Ok(());
        }
        text.clear();
        write_data_ref(&mut text, cell.get_value());
        rows.place(column, &text);
    }
    rows.finish(sink)?;
    Ok(())
}

/// Groups streamed cells into rows, in increasing row order. A row that
/// comes after a later one (only in a malformed file) is left out, so the
/// table's rows always increase.
#[derive(Debug, Default)]
struct RowAssembler {
    /// 0-based index of the row being filled.
    current: Option<u32>,
    skipping: bool,
    record: StringRecord,
}

impl RowAssembler {
    /// Moves to the row of the next cell, handing the finished row to
    /// `sink` when the row changes.
    fn start_row(&mut self, row: u32, sink: &mut RowSink<'_>) -> Result<Flow, SourceError> {
        if self.current == Some(row) {
            self.skipping = false;
            return Ok(Flow::Continue);
        }
        if self.current.is_some_and(|current| row < current) {
            self.skipping = true;
            return Ok(Flow::Continue);
        }
        let flow = self.finish(sink)?;
        self.current = Some(row);
        self.skipping = false;
        self.record.clear();
        Ok(flow)
    }

    fn place(&mut self, column: u32, text: &str) {
        if !self.skipping {
            place_cell(&mut self.record, column as usize, text);
        }
    }

    /// Hands the row being filled to `sink`.
    fn finish(&mut self, sink: &mut RowSink<'_>) -> Result<Flow, SourceError> {
        match self.current {
            Some(row) if !self.record.is_empty() => sink(row.saturating_add(1), &self.record),
            _ => Ok(Flow::Continue),
        }
    }
}

/// Visits the rows of a sheet loaded whole (XLS and ODS).
fn visit_range(
    range: &calamine::Range<Data>,
    sink: &mut RowSink<'_>,
    progress: &Progress,
) -> Result<(), SourceError> {
    let Some((first_row, first_column)) = range.start() else {
        return Ok(());
    };
    progress.set_total(range.height() as u64);
    let mut record = StringRecord::new();
    let mut text = String::new();
    for (offset, cells) in range.rows().enumerate() {
        record.clear();
        for (index, cell) in cells.iter().enumerate() {
            text.clear();
            write_data(&mut text, cell);
            place_cell(&mut record, first_column as usize + index, &text);
        }
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        let row = first_row.saturating_add(offset).saturating_add(1);
        if sink(row, &record)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// Number of columns of an Excel or LibreOffice sheet (A to XFD).
const MAX_SHEET_COLUMNS: usize = 16_384;

/// Puts a cell's text at its column, padding the record with empty cells.
/// Blank text is not stored. A cell to the left of one already placed, or
/// beyond the last column a sheet can have, exists only in a malformed
/// file and is ignored.
fn place_cell(record: &mut StringRecord, column: usize, text: &str) {
    let out_of_place = column < record.len() || column >= MAX_SHEET_COLUMNS;
    if out_of_place || layout::is_blank(text) {
        return;
    }
    while record.len() < column {
        record.push_field("");
    }
    record.push_field(text);
}

/// Writes the text of a streamed XLSX cell.
fn write_data_ref(out: &mut String, value: &DataRef<'_>) {
    match value {
        DataRef::Int(number) => out.push_str(&number.to_string()),
        DataRef::Float(number) => write_number(out, *number),
        DataRef::String(text) => out.push_str(text),
        DataRef::SharedString(text) => out.push_str(text),
        DataRef::Bool(flag) => out.push_str(if *flag { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(date) => write_datetime(out, date),
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => out.push_str(text),
        DataRef::Error(_) | DataRef::Empty => {}
    }
}

/// Writes the text of an XLS or ODS cell.
fn write_data(out: &mut String, value: &Data) {
    match value {
        Data::Int(number) => out.push_str(&number.to_string()),
        Data::Float(number) => write_number(out, *number),
        Data::String(text) => out.push_str(text),
        Data::Bool(flag) => out.push_str(if *flag { "TRUE" } else { "FALSE" }),
        Data::DateTime(date) => write_datetime(out, date),
        Data::DateTimeIso(text) | Data::DurationIso(text) => out.push_str(text),
        Data::Error(_) | Data::Empty => {}
    }
}

/// Writes a number cell. Whole numbers below 10^15 are written as their
/// digits whatever the display format, so a phone stored as a number keeps
/// every digit (3135550150, never 3.14E+09). Other numbers are rounded to
/// the 15 significant digits Excel keeps and written in their shortest
/// decimal form. Infinite and NaN values give an empty cell.
pub(super) fn write_number(out: &mut String, number: f64) {
    use std::fmt::Write as _;
    if !number.is_finite() {
        return;
    }
    if number.fract() == 0.0 && number.abs() < 1e15 {
        write!(out, "{}", number as i64).ok();
        return;
    }
    let rounded = format!("{number:.14e}").parse::<f64>().unwrap_or(number);
    write!(out, "{rounded}").ok();
}

/// Writes a date cell as ISO 8601: `2024-10-01`, `2024-10-01T09:14:00`, a
/// time alone (`09:14:00`) for serials between 0 and 1, or a duration such
/// as `PT36H0M0S`. Serials out of Excel's range are clamped by `calamine`.
pub(super) fn write_datetime(out: &mut String, date: &ExcelDateTime) {
    use std::fmt::Write as _;
    let serial = date.as_f64();
    if !serial.is_finite() {
        return;
    }
    if date.is_duration() {
        let seconds = (serial.abs() * 86_400.0).round() as u64;
        let sign = if serial < 0.0 { "-" } else { "" };
        let (hours, minutes) = (seconds / 3600, seconds / 60 % 60);
        write!(out, "{sign}PT{hours}H{minutes}M{}S", seconds % 60).ok();
        return;
    }
    let (year, month, day, hour, minute, second, _) = date.to_ymd_hms_milli();
    let time = (hour, minute, second) != (0, 0, 0);
    if serial > 0.0 && serial < 1.0 {
        write!(out, "{hour:02}:{minute:02}:{second:02}").ok();
    } else if time {
        write!(
            out,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
        )
        .ok();
    } else {
        write!(out, "{year:04}-{month:02}-{day:02}").ok();
    }
}

fn damaged(path: &Path, detail: String) -> SourceError {
    SourceError::Damaged {
        path: path.to_owned(),
        detail,
    }
}

fn password(path: &Path) -> SourceError {
    SourceError::PasswordProtected {
        path: path.to_owned(),
    }
}

fn xlsx_error(path: &Path, error: XlsxError) -> SourceError {
    match error {
        XlsxError::Password => password(path),
        other => damaged(path, other.to_string()),
    }
}

fn xls_error(path: &Path, error: XlsError) -> SourceError {
    match error {
        XlsError::Password => password(path),
        other => damaged(path, other.to_string()),
    }
}

fn ods_error(path: &Path, error: OdsError) -> SourceError {
    match error {
        OdsError::Password => password(path),
        OdsError::CellLimitExceeded { .. } => SourceError::TooManyCells {
            path: path.to_owned(),
            limit: super::MAX_CELLS,
        },
        other => damaged(path, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use calamine::ExcelDateTimeType;

    use super::*;

    fn number(value: f64) -> String {
        let mut out = String::new();
        write_number(&mut out, value);
        out
    }

    fn datetime(value: f64, kind: ExcelDateTimeType) -> String {
        let mut out = String::new();
        write_datetime(&mut out, &ExcelDateTime::new(value, kind, false));
        out
    }

    #[test]
    fn phone_numbers_keep_digits() {
        assert_eq!(number(3_135_550_150.0), "3135550150");
        assert_eq!(number(13_135_550_142.0), "13135550142");
        assert_eq!(number(2_079_460_123.0), "2079460123");
    }

    #[test]
    fn other_numbers_shortest_text() {
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(1234.5), "1234.5");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(1e20), "100000000000000000000");
        assert_eq!(number(f64::NAN), "");
        assert_eq!(number(f64::INFINITY), "");
    }

    #[test]
    fn dates_in_iso_form() {
        let date = ExcelDateTimeType::DateTime;
        assert_eq!(datetime(33058.0, date), "1990-07-04");
        assert_eq!(datetime(45566.5, date), "2024-10-01T12:00:00");
        assert_eq!(datetime(0.25, date), "06:00:00");
        assert_eq!(datetime(1.5, ExcelDateTimeType::TimeDelta), "PT36H0M0S");
    }

    #[test]
    fn odd_serials_do_not_panic() {
        let date = ExcelDateTimeType::DateTime;
        for serial in [0.0, -1.0, 1e300, -1e300, f64::MIN_POSITIVE, 2_958_466.0] {
            datetime(serial, date);
        }
        assert_eq!(datetime(f64::NAN, date), "");
    }

    #[test]
    fn place_cell_pads_and_skips_blank() {
        let mut record = StringRecord::new();
        place_cell(&mut record, 2, "x");
        place_cell(&mut record, 3, "  ");
        place_cell(&mut record, 1, "late");
        place_cell(&mut record, 4, "y");
        place_cell(&mut record, MAX_SHEET_COLUMNS, "far");
        assert_eq!(record, StringRecord::from(vec!["", "", "x", "", "y"]));
    }

    #[test]
    fn rows_going_backwards_are_left_out() {
        let mut seen = Vec::new();
        let mut sink = |row: u32, record: &StringRecord| {
            seen.push((row, record.get(0).unwrap_or("").to_owned()));
            Ok(Flow::Continue)
        };
        let mut rows = RowAssembler::default();
        for (row, text) in [(0, "a"), (4, "b"), (2, "late"), (4, "more"), (5, "c")] {
            rows.start_row(row, &mut sink).expect("sink accepts");
            rows.place(u32::from(text == "more"), text);
        }
        rows.finish(&mut sink).expect("sink accepts");
        let expected = [(1, "a"), (5, "b"), (6, "c")].map(|(row, text)| (row, text.to_owned()));
        assert_eq!(seen, expected);
    }

    #[test]
    fn merged_range_needs_several_rows() {
        let single = Dimensions::new((0, 0), (0, 5));
        assert_eq!(merged_range(&single), None);
        let tall = Dimensions::new((3, 2), (6, 2));
        let expected = MergedRange {
            first_row: 4,
            last_row: 7,
            column: 2,
        };
        assert_eq!(merged_range(&tall), Some(expected));
    }
}
