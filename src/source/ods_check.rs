//! A size check run before `calamine` opens an ODS file. `calamine` loads
//! every sheet of an ODS eagerly into a dense grid, expanding the
//! `number-rows-repeated` and `number-columns-repeated` attributes, so a
//! content.xml of a few kilobytes can ask for a hundred million cells. This
//! module streams content.xml once, counting what that grid would hold,
//! without building it.

use std::io::{BufReader, Cursor};

use quick_xml::events::{BytesStart, Event};

/// The maximum rows and columns of an ODS sheet, where `calamine` caps
/// repeats.
const MAX_SHEET_ROWS: u64 = 1_048_576;
const MAX_SHEET_COLUMNS: u64 = 16_384;

/// Returns whether the sheets of the ODS in `bytes` would together expand
/// to more than `limit` cells, counting each sheet's grid from its first
/// to its last row with a value, as wide as its widest such row. A file
/// whose content.xml cannot be read returns `false`, leaving the error to
/// `calamine`.
pub(super) fn exceeds_cells(bytes: &[u8], limit: u64) -> bool {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    let Ok(content) = archive.by_name("content.xml") else {
        return false;
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut total = 0_u64;
    let mut sheet = SheetGrid::default();
    let mut row = RowWidth::default();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(element)) => match element.name().as_ref() {
                "table:table" => {
                    total = total.saturating_add(sheet.cells());
                    sheet = SheetGrid::default();
                }
                "table:table-row" => row = RowWidth::start(&element, sheet.rows()),
                "table:table-cell" | "table:covered-table-cell" => row.add_cell(&element, true),
                _ => {}
            },
            Ok(Event::Empty(element)) => match element.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => {
                    let has_value = attribute(&element, "office:value-type").is_some();
                    row.add_cell(&element, has_value);
                }
                "table:table-row" => sheet.add_row(&RowWidth::start(&element, sheet.rows())),
                _ => {}
            },
            Ok(Event::End(element)) if element.name().as_ref() == "table:table-row" => {
                sheet.add_row(&row);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
        if total.saturating_add(sheet.cells()) > limit {
            return true;
        }
        buf.clear();
    }
    false
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
        assert!(!exceeds_cells(&ods(&content), 10));
    }

    #[test]
    fn repeated_filled_rows_exceed_limit() {
        let content = format!(
            "<table:table><table:table-row table:number-rows-repeated=\"1000000\">\
             <table:table-cell table:number-columns-repeated=\"100\" office:value-type=\"float\" \
             office:value=\"1\"/>{CELL}</table:table-row></table:table>"
        );
        assert!(exceeds_cells(&ods(&content), 10_000_000));
    }

    #[test]
    fn empty_rows_between_filled_rows_count() {
        let content = format!(
            "<table:table><table:table-row>{CELL}</table:table-row>\
             <table:table-row table:number-rows-repeated=\"500\"><table:table-cell/></table:table-row>\
             <table:table-row>{CELL}</table:table-row></table:table>"
        );
        assert!(exceeds_cells(&ods(&content), 501));
        assert!(!exceeds_cells(&ods(&content), 502));
    }

    #[test]
    fn not_a_zip_is_left_to_calamine() {
        assert!(!exceeds_cells(b"not a zip", 0));
    }
}
