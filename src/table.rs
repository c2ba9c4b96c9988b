//! A sheet read into memory: its header and the data records below it.
//!
//! Every cell is kept as text. Workbook cells are turned into text by the
//! reader (a whole number becomes its digits, a date its ISO form), so the
//! rest of the importer never sees spreadsheet types.

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Row number a spreadsheet program shows for this record (1-based).
    /// A quoted cell that spans several lines still makes one row.
    pub row: u32,
    /// Cell text by column position. A short record is read as if padded
    /// with empty cells.
    pub fields: csv::StringRecord,
}

impl Record {
    /// Returns the text of a cell, or `""` past the end of the record.
    pub fn get(&self, column: usize) -> &str {
        self.fields.get(column).unwrap_or("")
    }

    /// Replaces the text of one cell, padding the record if it is short.
    pub fn set(&mut self, column: usize, text: &str) {
        let mut fields = csv::StringRecord::new();
        let width = self.fields.len().max(column + 1);
        for index in 0..width {
            if index == column {
                fields.push_field(text);
            } else {
                fields.push_field(self.get(index));
            }
        }
        self.fields = fields;
    }
}

/// A remark of the reader about one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadNote {
    pub row: u32,
    pub message: String,
}
