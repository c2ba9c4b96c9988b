//! A sheet read into memory: its header and the data records below it.
//!
//! Every cell is kept as text. Workbook cells are turned into text by the
//! reader (a whole number becomes its digits, a date its ISO form), so the
//! rest of the importer never sees spreadsheet types.

use std::fmt;
use std::path::PathBuf;

/// The header and data records of one sheet, with where they came from.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file and sheet the table was read from.
    pub source: SourceInfo,
    /// One header per column, cleaned for display and matching (no BOM,
    /// non-breaking spaces turned into spaces, trimmed). A column whose
    /// header cell is empty gets a placeholder such as `Column 7`.
    pub headers: Vec<String>,
    /// Spreadsheet row number (1-based) of the header, or 0 when the sheet
    /// has no header row because its first row already contains data (the
    /// headers are then placeholders such as `Column 1`).
    pub header_row: u32,
    /// Data records in file order, blank rows and title or total lines
    /// already left out.
    pub records: Vec<Record>,
    /// Things the reader noticed about single rows, such as extra non-empty
    /// cells beyond the last header.
    pub notes: Vec<ReadNote>,
}

/// The file behind a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub format: SourceFormat,
    /// The sheet read, for workbooks.
    pub sheet: Option<String>,
    /// Every sheet of the workbook in workbook order; empty for text files.
    pub sheets: Vec<String>,
    /// Hex SHA-256 of the file's bytes, used to recognise the same file
    /// when an interrupted upload is resumed.
    pub fingerprint: String,
}

impl SourceInfo {
    /// Returns the file name for messages, without the folder.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// The kind of file a table came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFormat {
    /// Delimited text, with the encoding and delimiter that were detected.
    Csv {
        /// Encoding name as `encoding_rs` spells it, such as `UTF-8`,
        /// `UTF-16LE` or `windows-1252`.
        encoding: String,
        delimiter: u8,
    },
    Xlsx,
    Xls,
    Ods,
}

/// One data record and the spreadsheet row it starts on.
///
/// The cells are stored in two exact-size allocations: the text of every
/// cell one after the other, and the byte offset where each cell ends.
/// Unlike a `csv::StringRecord`, this has no boxed header (88 bytes on a
/// 64-bit target) and keeps 2- or 4-byte offsets instead of 8-byte ones.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Row number a spreadsheet program shows for this record (1-based).
    /// A quoted cell that spans several lines still makes one row.
    pub row: u32,
    /// The text of all cells, concatenated.
    text: Box<str>,
    /// End offset in `text` of each cell, in column order. A cell starts
    /// where the previous one ends, or at 0.
    ends: CellEnds,
}

/// Cell end offsets, two bytes each when the record's text is shorter than
/// 64 KiB, as nearly every record is. On a 20-column table that saves
/// about 40 bytes a row over four-byte offsets.
#[derive(Clone, PartialEq, Eq)]
enum CellEnds {
    Narrow(Box<[u16]>),
    Wide(Box<[u32]>),
}

impl Default for CellEnds {
    fn default() -> Self {
        Self::Narrow(Box::default())
    }
}

impl CellEnds {
    fn len(&self) -> usize {
        match self {
            Self::Narrow(ends) => ends.len(),
            Self::Wide(ends) => ends.len(),
        }
    }

    fn get(&self, column: usize) -> Option<usize> {
        match self {
            Self::Narrow(ends) => ends.get(column).map(|&end| usize::from(end)),
            Self::Wide(ends) => ends.get(column).map(|&end| end as usize),
        }
    }
}

impl Record {
    /// Builds a record from its cells in column order. Trailing empty cells
    /// are kept, so [`len`](Self::len) counts every cell given.
    ///
    /// # Panics
    ///
    /// Panics when the cells hold more than `u32::MAX` bytes of text. The
    /// readers stay far below that: they stop at
    /// [`MAX_TEXT_BYTES`](crate::source::MAX_TEXT_BYTES) (256 MiB) of text
    /// per table, and filling merged cells adds at most as much again.
    pub fn new<I>(row: u32, cells: I) -> Self
    where
        I: IntoIterator,
        I::IntoIter: Clone,
        I::Item: AsRef<str>,
    {
        let cells = cells.into_iter();
        // A first pass sizes the buffers, so neither grows or keeps spare
        // capacity.
        let (count, bytes) = cells.clone().fold((0, 0), |(count, bytes), cell| {
            (count + 1, bytes + cell.as_ref().len())
        });
        let mut text = String::with_capacity(bytes);
        let ends = if u16::try_from(bytes).is_ok() {
            let mut ends = Vec::with_capacity(count);
            for cell in cells {
                text.push_str(cell.as_ref());
                // Cannot fail: the whole text fits in `u16`.
                ends.push(u16::try_from(text.len()).unwrap_or(u16::MAX));
            }
            CellEnds::Narrow(ends.into_boxed_slice())
        } else {
            let mut ends = Vec::with_capacity(count);
            for cell in cells {
                text.push_str(cell.as_ref());
                ends.push(text_offset(text.len()));
            }
            CellEnds::Wide(ends.into_boxed_slice())
        };
        Self {
            row,
            text: text.into_boxed_str(),
            ends,
        }
    }

    /// Returns the number of cells, trailing empty ones included.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Returns whether the record has no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.len() == 0
    }

    /// Returns the text of a cell, or `""` past the end of the record.
    pub fn get(&self, column: usize) -> &str {
        let Some(end) = self.ends.get(column) else {
            return "";
        };
        let start = match column.checked_sub(1) {
            Some(previous) => self.ends.get(previous).unwrap_or(0),
            None => 0,
        };
        &self.text[start..end]
    }

    /// Returns the cells in column order.
    pub fn cells(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + Clone {
        (0..self.len()).map(|column| self.get(column))
    }

    /// Returns the number of bytes of text in all cells.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Replaces the text of one cell, padding the record with empty cells
    /// if it is short. Rebuilds the record, so it costs a copy of the whole
    /// record.
    pub fn set(&mut self, column: usize, text: &str) {
        let width = self.len().max(column + 1);
        let cells = (0..width).map(|index| {
            if index == column {
                text
            } else {
                self.get(index)
            }
        });
        *self = Self::new(self.row, cells);
    }
}

/// Converts a byte offset into a record's text to the stored width.
fn text_offset(offset: usize) -> u32 {
    u32::try_from(offset).expect("record text exceeds u32::MAX bytes")
}

impl fmt::Debug for Record {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Cells<'a>(&'a Record);

        impl fmt::Debug for Cells<'_> {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.debug_list().entries(self.0.cells()).finish()
            }
        }

        formatter
            .debug_struct("Record")
            .field("row", &self.row)
            .field("cells", &Cells(self))
            .finish()
    }
}

/// A remark of the reader about one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadNote {
    pub row: u32,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells_of(record: &Record) -> Vec<&str> {
        record.cells().collect()
    }

    #[test]
    fn record_keeps_cells_in_order() {
        let record = Record::new(7, ["Ana", "", "ana@example.com", ""]);
        assert_eq!(record.row, 7);
        assert_eq!(record.len(), 4);
        assert_eq!(record.text_len(), "Anaana@example.com".len());
        assert_eq!(cells_of(&record), ["Ana", "", "ana@example.com", ""]);
        assert_eq!(record.get(2), "ana@example.com");
        assert_eq!(record.get(3), "");
        assert_eq!(record.get(4), "");
        assert_eq!(record.cells().rev().nth(1), Some("ana@example.com"));
    }

    #[test]
    fn long_record_keeps_cells_in_order() {
        let long = "x".repeat(70_000);
        let mut record = Record::new(5, [long.as_str(), "tail", ""]);
        assert!(matches!(record.ends, CellEnds::Wide(_)));
        assert_eq!(record.get(0), long);
        assert_eq!(record.get(1), "tail");
        assert_eq!(record.get(2), "");
        assert_eq!(record.get(3), "");

        record.set(0, "short");
        assert!(matches!(record.ends, CellEnds::Narrow(_)));
        assert_eq!(record.cells().collect::<Vec<_>>(), ["short", "tail", ""]);
    }

    #[test]
    fn empty_record_has_no_cells() {
        let record = Record::new(1, Vec::<String>::new());
        assert!(record.is_empty());
        assert_eq!(record.get(0), "");
        assert_eq!(
            record,
            Record {
                row: 1,
                ..Record::default()
            }
        );
    }

    #[test]
    fn set_replaces_one_cell() {
        let mut record = Record::new(2, ["a", "bb", "ccc"]);
        record.set(1, "Zoë");
        assert_eq!(cells_of(&record), ["a", "Zoë", "ccc"]);
        record.set(0, "");
        assert_eq!(cells_of(&record), ["", "Zoë", "ccc"]);
        assert_eq!(record.row, 2);
    }

    #[test]
    fn set_past_end_pads() {
        let mut record = Record::new(3, ["a"]);
        record.set(3, "d");
        assert_eq!(cells_of(&record), ["a", "", "", "d"]);
        let mut empty = Record::default();
        empty.set(1, "x");
        assert_eq!(cells_of(&empty), ["", "x"]);
    }

    #[test]
    fn equal_cells_make_equal_records() {
        let mut built = Record::new(4, ["a", "b"]);
        built.set(1, "c");
        assert_eq!(built, Record::new(4, ["a", "c"]));
        assert_ne!(built, Record::new(4, ["ac"]));
        assert_ne!(built, Record::new(4, ["a", "c", ""]));
        assert_ne!(built, Record::new(5, ["a", "c"]));
    }

    #[test]
    fn debug_lists_cells() {
        let record = Record::new(9, ["a", "b c"]);
        assert_eq!(
            format!("{record:?}"),
            r#"Record { row: 9, cells: ["a", "b c"] }"#
        );
    }
}
