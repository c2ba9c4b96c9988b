//! Checks run on an ODS file before `calamine` opens it, for inputs that
//! would make `calamine` 0.38 exhaust memory or never return.
//!
//! `calamine` loads every sheet of an ODS eagerly into a dense grid,
//! expanding the `number-rows-repeated` and `number-columns-repeated`
//! attributes, so a content.xml of a few kilobytes can ask for a hundred
//! million cells. It also expands `<text:s text:c="N"/>` into N spaces,
//! and it loops forever when content.xml ends inside a `table:table` or an
//! `office:annotation` element. This module streams content.xml once,
//! counting and checking without building anything.

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
    /// The content would make `calamine` loop forever or fill memory. The
    /// text names the problem.
    Damaged(&'static str),
}

/// Streams content.xml of the ODS in `bytes`. The sheets' grids are
/// counted from each sheet's first to its last row with a value, as wide
/// as its widest such row, against `cell_limit`. A file whose content.xml
/// cannot be read is left to `calamine`, which reports it.
pub(super) fn check(bytes: &[u8], cell_limit: u64) -> OdsCheck {
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
        if let Some(outcome) = scan.event(&event, cell_limit) {
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
}

impl Scan {
    /// Takes one XML event. Returns an outcome once the file fails a check.
    fn event(&mut self, event: &Event<'_>, cell_limit: u64) -> Option<OdsCheck> {
        match event {
            Event::Start(element) => self.start(element, true),
            Event::Empty(element) => self.start(element, false),
            Event::End(element) => match element.name().as_ref() {
                "table:table-row" => self.sheet.add_row(&self.row),
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
        (cells > cell_limit).then_some(OdsCheck::TooManyCells)
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
                self.row.add_cell(element, has_content || has_value);
            }
            "text:s" => {
                let count = attribute(element, "text:c").unwrap_or(1);
                self.spaces = self.spaces.saturating_add(count);
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
        assert_eq!(check(&ods(&content), 10), OdsCheck::Fits);
    }

    #[test]
    fn repeated_filled_rows_exceed_limit() {
        let content = format!(
            "<table:table><table:table-row table:number-rows-repeated=\"1000000\">\
             <table:table-cell table:number-columns-repeated=\"100\" office:value-type=\"float\" \
             office:value=\"1\"/>{CELL}</table:table-row></table:table>"
        );
        assert_eq!(check(&ods(&content), 10_000_000), OdsCheck::TooManyCells);
    }

    #[test]
    fn empty_rows_between_filled_rows_count() {
        let content = format!(
            "<table:table><table:table-row>{CELL}</table:table-row>\
             <table:table-row table:number-rows-repeated=\"500\"><table:table-cell/></table:table-row>\
             <table:table-row>{CELL}</table:table-row></table:table>"
        );
        assert_eq!(check(&ods(&content), 501), OdsCheck::TooManyCells);
        assert_eq!(check(&ods(&content), 502), OdsCheck::Fits);
    }

    #[test]
    fn unclosed_table_is_damaged() {
        let content = format!("<office:body><table:table><table:table-row>{CELL}");
        assert!(matches!(check(&ods(&content), 10), OdsCheck::Damaged(_)));
        let content = format!(
            "<table:table><table:table-row><table:table-cell><office:annotation>\
             <text:p>note</text:p>{CELL}</table:table-row></table:table>"
        );
        assert!(matches!(check(&ods(&content), 10), OdsCheck::Damaged(_)));
    }

    #[test]
    fn huge_space_run_is_damaged() {
        let content = "<table:table><text:s text:c=\"4000000000\"/></table:table>";
        assert!(matches!(check(&ods(content), 10), OdsCheck::Damaged(_)));
    }

    #[test]
    fn not_a_zip_is_left_to_calamine() {
        assert_eq!(check(b"not a zip", 0), OdsCheck::Fits);
    }
}
