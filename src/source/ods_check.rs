//! Checks run on an ODS file before `calamine` opens it, for inputs that
//! would make `calamine` 0.38 exhaust memory or never return.
//!
//! `calamine` loads every sheet of an ODS eagerly into a dense grid,
//! expanding the `number-rows-repeated` and `number-columns-repeated`
//! attributes, so a content.xml of a few kilobytes can ask for a hundred
//! million cells. It also expands `<text:s text:c="N"/>` into N spaces,
//! and it loops forever when content.xml ends inside a `table:table` or an
//! `office:annotation` element. Each repeat of a cell or row gets its own
//! copy of the cell's text, so a short text repeated across a sheet can
//! fill memory as well. This module streams content.xml once, counting
//! and checking without building anything.

use std::io::{BufReader, Cursor};

use quick_xml::events::{BytesStart, Event};

/// The maximum rows and columns of an ODS sheet, where `calamine` caps
/// repeats.
const MAX_SHEET_ROWS: u64 = 1_048_576;
const MAX_SHEET_COLUMNS: u64 = 16_384;

/// Maximum number of spaces that `text:s` elements may add in all.
const MAX_SPACES: u64 = 1_000_000;

/// The outcome of [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OdsCheck {
    /// Safe to hand to `calamine`, which reports any other damage itself.
    Fits,
    /// The sheets' grids would hold more cells than the limit.
    TooManyCells,
    /// The repeated cells would hold more text than the limit.
    TooMuchText,
    /// The content would make `calamine` loop forever or fill memory. The
    /// text names the problem.
    Damaged(&'static str),
}

/// The limits that [`check`] applies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Grid cells of all sheets together.
    pub cells: u64,
    /// Bytes of cell text after repeats are expanded, estimated from the
    /// XML text and value attributes.
    pub text_bytes: u64,
}

/// Streams content.xml of the ODS in `bytes`. The sheets' grids are
/// counted from each sheet's first to its last row with a value, as wide
/// as its widest such row, against `limits`. A file whose content.xml
/// cannot be read is left to `calamine`, which reports it.
pub(super) fn check(bytes: &[u8], limits: Limits) -> OdsCheck {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return OdsCheck::Fits;
    };
    let Ok(content) = archive.by_name("content.xml") else {
        return OdsCheck::Fits;
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    // The same leniency as calamine's reader, so that both reach the end of
    // the same files.
    let config = reader.config_mut();
    config.check_end_names = false;
    config.check_comments = false;
    let mut scan = Scan::default();
    let mut buf = Vec::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) => return scan.at_end(),
            Ok(event) => event,
            Err(_) => return OdsCheck::Fits,
        };
        if let Some(outcome) = scan.event(&event, limits) {
            return outcome;
        }
        buf.clear();
    }
}

/// The counts and open elements of a scan so far.
#[derive(Debug, Default)]
struct Scan {
    total_cells: u64,
    sheet: SheetGrid,
    row: RowWidth,
    open_tables: u64,
    open_annotations: u64,
    spaces: u64,
    text: RepeatedText,
}

impl Scan {
    /// Takes one XML event. Returns an outcome once the file fails a check.
    fn event(&mut self, event: &Event<'_>, limits: Limits) -> Option<OdsCheck> {
        match event {
            Event::Start(element) => self.start(element, true),
            Event::Empty(element) => self.start(element, false),
            Event::Text(text) => self.text.add_content(text.len() as u64),
            Event::CData(text) => self.text.add_content(text.len() as u64),
            Event::End(element) => match element.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => self.text.end_cell(),
                "table:table-row" => {
                    self.sheet.add_row(&self.row);
                    self.text.end_row(self.row.repeats);
                }
                "table:table" => self.open_tables = self.open_tables.saturating_sub(1),
                "office:annotation" => {
                    self.open_annotations = self.open_annotations.saturating_sub(1);
                }
                _ => {}
            },
            _ => {}
        }
        if self.spaces > MAX_SPACES {
            return Some(OdsCheck::Damaged("text:s elements ask for too many spaces"));
        }
        let cells = self.total_cells.saturating_add(self.sheet.cells());
        if cells > limits.cells {
            return Some(OdsCheck::TooManyCells);
        }
        (self.text.total > limits.text_bytes).then_some(OdsCheck::TooMuchText)
    }

    /// Takes a start tag. `has_content` is false for an empty element.
    fn start(&mut self, element: &BytesStart<'_>, has_content: bool) {
        match element.name().as_ref() {
            "table:table" if has_content => {
                self.total_cells = self.total_cells.saturating_add(self.sheet.cells());
                self.sheet = SheetGrid::default();
                self.open_tables += 1;
            }
            "office:annotation" if has_content => self.open_annotations += 1,
            "table:table-row" => {
                self.row = RowWidth::start(element, self.sheet.rows());
                if !has_content {
                    self.sheet.add_row(&self.row);
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let has_value = attribute(element, "office:value-type").is_some();
                let columns_before = self.row.columns;
                self.row.add_cell(element, has_content || has_value);
                let repeats = self.row.columns - columns_before;
                self.text.start_cell(value_bytes(element), repeats);
                if !has_content {
                    self.text.end_cell();
                }
            }
            "text:s" => {
                let count = attribute(element, "text:c").unwrap_or(1);
                self.spaces = self.spaces.saturating_add(count);
                self.text.add_content(count);
            }
            _ => {}
        }
    }

    fn at_end(&self) -> OdsCheck {
        if self.open_tables > 0 || self.open_annotations > 0 {
            OdsCheck::Damaged("content.xml ends inside a table or a comment")
        } else {
            OdsCheck::Fits
        }
    }
}

/// Attributes of a cell that `calamine` copies with it: its value in any
/// type, and its formula.
const COPIED_ATTRIBUTES: [&str; 6] = [
    "office:value",
    "office:string-value",
    "office:date-value",
    "office:time-value",
    "office:boolean-value",
    "table:formula",
];

/// Returns the bytes of the attributes of a cell that `calamine` copies
/// with the cell.
fn value_bytes(element: &BytesStart<'_>) -> u64 {
    let copied = |name: &str| COPIED_ATTRIBUTES.contains(&name);
    element
        .attributes()
        .flatten()
        .filter(|attribute| copied(attribute.key.as_ref()))
        .map(|attribute| attribute.value.len() as u64)
        .sum()
}

/// Cell text counted with the repeats of its cells and rows.
#[derive(Debug, Default)]
struct RepeatedText {
    /// Text bytes and column repeats of the open cell.
    cell: Option<(u64, u64)>,
    /// Text bytes of the open row, once for each column repeat.
    row: u64,
    total: u64,
}

impl RepeatedText {
    fn start_cell(&mut self, value_bytes: u64, repeats: u64) {
        self.cell = Some((value_bytes, repeats));
    }

    fn add_content(&mut self, bytes: u64) {
        if let Some((text, _)) = self.cell.as_mut() {
            *text = text.saturating_add(bytes);
        }
    }

    fn end_cell(&mut self) {
        if let Some((text, repeats)) = self.cell.take() {
            self.row = self.row.saturating_add(text.saturating_mul(repeats));
        }
    }

    fn end_row(&mut self, repeats: u64) {
        self.end_cell();
        let row = std::mem::take(&mut self.row);
        self.total = self.total.saturating_add(row.saturating_mul(repeats));
    }
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<u64> {
    let value = element.try_get_attribute(name).ok()??.value;
    Some(value.trim().parse().unwrap_or(1))
}

/// One row element: how many times it repeats and how wide its cells with
/// a value reach.
#[derive(Debug, Default)]
struct RowWidth {
    repeats: u64,
    columns: u64,
    filled_width: u64,
}

impl RowWidth {
    fn start(element: &BytesStart<'_>, rows_so_far: u64) -> Self {
        let repeats = attribute(element, "table:number-rows-repeated").unwrap_or(1);
        Self {
            repeats: repeats.min(MAX_SHEET_ROWS.saturating_sub(rows_so_far)),
            columns: 0,
            filled_width: 0,
        }
    }

    fn add_cell(&mut self, element: &BytesStart<'_>, has_value: bool) {
        let repeats = attribute(element, "table:number-columns-repeated").unwrap_or(1);
        self.columns = self.columns.saturating_add(repeats).min(MAX_SHEET_COLUMNS);
        if has_value {
            self.filled_width = self.columns;
        }
    }
}

/// The dense grid of one sheet, counted as rows are added.
#[derive(Debug, Default)]
struct SheetGrid {
    /// Rows seen, filled or not, for the row cap.
    all_rows: u64,
    /// Rows from the first filled row to the last one.
    span_rows: u64,
    /// Empty rows seen after the last filled row.
    trailing_empty: u64,
    width: u64,
}

impl SheetGrid {
    fn rows(&self) -> u64 {
        self.all_rows
    }

    fn add_row(&mut self, row: &RowWidth) {
        self.all_rows = self.all_rows.saturating_add(row.repeats);
        if row.filled_width == 0 {
            if self.span_rows > 0 {
                self.trailing_empty = self.trailing_empty.saturating_add(row.repeats);
            }
            return;
        }
        self.span_rows = self
            .span_rows
            .saturating_add(self.trailing_empty)
            .saturating_add(row.repeats);
        self.trailing_empty = 0;
        self.width = self.width.max(row.filled_width);
    }

    fn cells(&self) -> u64 {
        self.span_rows.saturating_mul(self.width)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn ods(content: &str) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("content.xml", options).expect("entry");
        zip.write_all(content.as_bytes()).expect("write");
        zip.finish().expect("finish").into_inner()
    }

    fn limits(cells: u64) -> Limits {
        Limits {
            cells,
            text_bytes: 1_000_000,
        }
    }

    const CELL: &str =
        r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#;

    #[test]
    fn small_sheet_is_within_limit() {
        let content = format!(
            "<table:table><table:table-row>{CELL}{CELL}</table:table-row>\
             <table:table-row table:number-rows-repeated=\"1048000\">\
             <table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>\
             </table:table>"
        );
        assert_eq!(check(&ods(&content), limits(10)), OdsCheck::Fits);
    }

    #[test]
    fn repeated_filled_rows_exceed_limit() {
        let content = format!(
            "<table:table><table:table-row table:number-rows-repeated=\"1000000\">\
             <table:table-cell table:number-columns-repeated=\"100\" office:value-type=\"float\" \
             office:value=\"1\"/>{CELL}</table:table-row></table:table>"
        );
        assert_eq!(
            check(&ods(&content), limits(10_000_000)),
            OdsCheck::TooManyCells
        );
    }

    #[test]
    fn empty_rows_between_filled_rows_count() {
        let content = format!(
            "<table:table><table:table-row>{CELL}</table:table-row>\
             <table:table-row table:number-rows-repeated=\"500\"><table:table-cell/></table:table-row>\
             <table:table-row>{CELL}</table:table-row></table:table>"
        );
        assert_eq!(check(&ods(&content), limits(501)), OdsCheck::TooManyCells);
        assert_eq!(check(&ods(&content), limits(502)), OdsCheck::Fits);
    }

    #[test]
    fn repeated_text_exceeds_limit() {
        let text = "y".repeat(1_000);
        let row = format!(
            "<table:table-row table:number-rows-repeated=\"REPEATS\">\
             <table:table-cell table:number-columns-repeated=\"100\" office:value-type=\"string\">\
             <text:p>{text}</text:p></table:table-cell></table:table-row>"
        );
        let content = |repeats: &str| {
            format!(
                "<table:table>{}</table:table>",
                row.replace("REPEATS", repeats)
            )
        };
        assert_eq!(check(&ods(&content("9")), limits(10_000)), OdsCheck::Fits);
        assert_eq!(
            check(&ods(&content("11")), limits(10_000)),
            OdsCheck::TooMuchText
        );
    }

    #[test]
    fn styled_empty_cells_have_no_text() {
        let content = "<table:table><table:table-row table:number-rows-repeated=\"1048000\">\
             <table:table-cell table:style-name=\"ce1\" table:number-columns-repeated=\"1024\"/>\
             </table:table-row></table:table>";
        assert_eq!(check(&ods(content), limits(10)), OdsCheck::Fits);
    }

    #[test]
    fn unclosed_table_is_damaged() {
        let content = format!("<office:body><table:table><table:table-row>{CELL}");
        assert!(matches!(
            check(&ods(&content), limits(10)),
            OdsCheck::Damaged(_)
        ));
        let content = format!(
            "<table:table><table:table-row><table:table-cell><office:annotation>\
             <text:p>note</text:p>{CELL}</table:table-row></table:table>"
        );
        assert!(matches!(
            check(&ods(&content), limits(10)),
            OdsCheck::Damaged(_)
        ));
    }

    #[test]
    fn huge_space_run_is_damaged() {
        let content = "<table:table><text:s text:c=\"4000000000\"/></table:table>";
        assert!(matches!(
            check(&ods(content), limits(10)),
            OdsCheck::Damaged(_)
        ));
    }

    #[test]
    fn not_a_zip_is_left_to_calamine() {
        assert_eq!(check(b"not a zip", limits(0)), OdsCheck::Fits);
    }
}
