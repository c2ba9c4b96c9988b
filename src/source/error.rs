//! Errors of the spreadsheet reader, in two forms. `Display` is a
//! lowercase fragment naming the path, for logs and `anyhow` chains.
//! [`SourceError::user_message`] is a sentence for the GUI and CLI, which
//! put the file name in front of it themselves.

use std::path::PathBuf;

/// A reason a file could not be turned into a table.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be opened or read (not found, no permission, an
    /// I/O failure part-way).
    #[error("cannot read {}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file has no bytes at all.
    #[error("{} is empty (0 bytes)", path.display())]
    Empty { path: PathBuf },

    /// The content is binary or a known non-spreadsheet format. `kind`
    /// names what was found, with its article ("a PNG image").
    #[error("{} is not a spreadsheet or text file: it contains {kind}", path.display())]
    NotSpreadsheet { path: PathBuf, kind: &'static str },

    /// A spreadsheet or text format that the importer does not read, such
    /// as an `.xlsb` workbook. `kind` names it with its article.
    #[error("{} is {kind}, which cannot be read", path.display())]
    Unsupported { path: PathBuf, kind: &'static str },

    /// A workbook container that cannot be opened: truncated, corrupt, or
    /// rejected by the workbook parser. `detail` is the parser's message.
    #[error("{} is a damaged or incomplete workbook: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },

    /// The workbook is encrypted with a password.
    #[error("{} is protected with a password", path.display())]
    PasswordProtected { path: PathBuf },

    /// [`super::ReadOptions::sheet`] names a sheet the workbook does not
    /// have, or the workbook has no worksheet at all (`sheets` is empty).
    #[error("{} has no sheet named {sheet:?}", path.display())]
    SheetNotFound {
        path: PathBuf,
        sheet: String,
        sheets: Vec<String>,
    },

    /// Every row of the file (or of the chosen sheet) is blank.
    #[error("{} has only blank rows", path.display())]
    Blank {
        path: PathBuf,
        sheet: Option<String>,
    },

    /// More data rows than [`super::MAX_ROWS`]; reading stopped there.
    #[error("{} has more than {limit} data rows", path.display())]
    TooManyRows { path: PathBuf, limit: usize },

    /// More non-empty cells than [`super::MAX_CELLS`]; reading stopped
    /// there.
    #[error("{} has more than {limit} filled cells", path.display())]
    TooManyCells { path: PathBuf, limit: usize },

    /// More bytes of cell text than [`super::MAX_TEXT_BYTES`]; reading
    /// stopped there, or did not start for an XLS or ODS file whose text
    /// was estimated beforehand.
    #[error("{} has more than {limit_bytes} bytes of cell text", path.display())]
    TooMuchText { path: PathBuf, limit_bytes: usize },

    /// A quoted cell is still open at the end of a text file, so every
    /// line after its opening quote was read into that one cell. `row` is
    /// the 1-based row the cell starts on and `column` its 0-based column
    /// in the file. `header` is that column's header. It is `None` when no
    /// header row with two or more filled cells is above the row, or when
    /// the header cell is blank.
    #[error(
        "{} has a quoted cell that is never closed, starting on row {row}, {}",
        path.display(),
        column_label(*column, header.as_deref())
    )]
    UnclosedQuote {
        path: PathBuf,
        row: u32,
        column: usize,
        header: Option<String>,
    },

    /// The [`crate::progress::Progress`] handle was cancelled.
    #[error("reading {} was cancelled", path.display())]
    Cancelled { path: PathBuf },
}

impl SourceError {
    /// Returns the sentence shown to the user: what is wrong with the file
    /// and what to do next. It does not name the file.
    pub fn user_message(&self) -> String {
        match self {
            Self::Unreadable { source, .. } => unreadable_message(source),
            Self::Empty { .. } => "The file is empty (0 bytes): nothing to import.".to_owned(),
            Self::NotSpreadsheet { kind, .. } => format!(
                "This file is not a spreadsheet or text file (it holds {kind}); \
                 export the customer list again as CSV or Excel."
            ),
            Self::Unsupported { kind, .. } => format!(
                "This file is {kind}, which the importer cannot read; open it in Excel \
                 or LibreOffice, save it as an Excel workbook (.xlsx) or CSV and retry."
            ),
            Self::Damaged { .. } => "The workbook is damaged or incomplete and cannot be opened; \
                                     open it in Excel, save it again and retry."
                .to_owned(),
            Self::PasswordProtected { .. } => {
                "The workbook is protected with a password, so it cannot be read; open it \
                 in Excel, save a copy without the password and import that copy."
                    .to_owned()
            }
            Self::SheetNotFound { sheet, sheets, .. } => sheet_not_found_message(sheet, sheets),
            Self::Blank { sheet: None, .. } => {
                "The file contains only blank rows: nothing to import.".to_owned()
            }
            Self::Blank {
                sheet: Some(sheet), ..
            } => format!(
                "The sheet \u{201c}{sheet}\u{201d} contains only blank rows; choose another sheet."
            ),
            Self::TooManyRows { limit, .. } => format!(
                "The file has more than {} data rows, the limit for one import; split it \
                 into files of at most {} rows and import each one.",
                thousands(*limit),
                thousands(*limit)
            ),
            Self::TooManyCells { limit, .. } => format!(
                "The file has more than {} filled cells, the limit for one import; delete \
                 the columns you do not need or split the file, then retry.",
                thousands(*limit)
            ),
            Self::TooMuchText { limit_bytes, .. } => format!(
                "The file has more than {} MB of text in its cells, the limit for one import; \
                 delete the columns you do not need or split the file, then retry.",
                limit_bytes / (1024 * 1024)
            ),
            Self::UnclosedQuote {
                row,
                column,
                header,
                ..
            } => format!(
                "Row {row}, {} opens a quote (\") that is never closed, so everything after \
                 it to the end of the file was read as one cell. Open the file in a text \
                 editor and fix or remove that quote, or export the file again, then retry.",
                column_label(*column, header.as_deref())
            ),
            Self::Cancelled { .. } => "Reading the file was cancelled.".to_owned(),
        }
    }
}

/// Names a 0-based column by its header, or by its 1-based position when
/// it has no header.
fn column_label(column: usize, header: Option<&str>) -> String {
    match header {
        Some(header) => format!("column \u{201c}{header}\u{201d}"),
        None => format!("column {}", column + 1),
    }
}

fn unreadable_message(source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::NotFound => {
            "The file was not found; it may have been moved, renamed or deleted. \
             Choose it again."
                .to_owned()
        }
        std::io::ErrorKind::PermissionDenied => {
            "You do not have permission to read this file; copy it to your Documents \
             folder or ask its owner for access, then retry."
                .to_owned()
        }
        std::io::ErrorKind::IsADirectory => {
            "This is a folder, not a file; choose the spreadsheet inside it.".to_owned()
        }
        _ => format!(
            "The file could not be read ({source}); check that it is not open in another \
             program or on a disconnected drive, then retry."
        ),
    }
}

fn sheet_not_found_message(sheet: &str, sheets: &[String]) -> String {
    if sheets.is_empty() {
        return "The workbook contains no worksheets with cells (only charts or macros); \
                export the customer list again as CSV or Excel."
            .to_owned();
    }
    let names: Vec<String> = sheets
        .iter()
        .map(|name| format!("\u{201c}{name}\u{201d}"))
        .collect();
    format!(
        "The workbook has no sheet named \u{201c}{sheet}\u{201d}; choose one of: {}.",
        names.join(", ")
    )
}

/// Formats a count with comma thousands separators, as the messages are in
/// English.
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> PathBuf {
        PathBuf::from("/tmp/customers.csv")
    }

    #[test]
    fn thousands_inserts_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(40_000_000), "40,000,000");
    }

    #[test]
    fn display_names_path_in_lowercase() {
        let error = SourceError::Empty { path: path() };
        assert_eq!(error.to_string(), "/tmp/customers.csv is empty (0 bytes)");
    }

    #[test]
    fn sheet_not_found_lists_sheets() {
        let error = SourceError::SheetNotFound {
            path: path(),
            sheet: "Clients".to_owned(),
            sheets: vec!["Pivot".to_owned(), "Customers".to_owned()],
        };
        assert_eq!(
            error.user_message(),
            "The workbook has no sheet named \u{201c}Clients\u{201d}; choose one of: \
             \u{201c}Pivot\u{201d}, \u{201c}Customers\u{201d}."
        );
    }

    #[test]
    fn row_limit_message_names_limit() {
        let error = SourceError::TooManyRows {
            path: path(),
            limit: 200_000,
        };
        let message = error.user_message();
        assert!(message.contains("200,000"), "{message}");
        assert!(message.contains("split"), "{message}");
    }

    #[test]
    fn text_limit_message_in_megabytes() {
        let error = SourceError::TooMuchText {
            path: path(),
            limit_bytes: 256 * 1024 * 1024,
        };
        let message = error.user_message();
        assert!(message.contains("more than 256 MB of text"), "{message}");
        assert!(message.contains("split the file"), "{message}");
    }

    #[test]
    fn unclosed_quote_names_row_and_column() {
        let error = SourceError::UnclosedQuote {
            path: path(),
            row: 2,
            column: 2,
            header: Some("Notes".to_owned()),
        };
        assert_eq!(
            error.to_string(),
            "/tmp/customers.csv has a quoted cell that is never closed, starting on row 2, \
             column \u{201c}Notes\u{201d}"
        );
        assert_eq!(
            error.user_message(),
            "Row 2, column \u{201c}Notes\u{201d} opens a quote (\") that is never closed, so \
             everything after it to the end of the file was read as one cell. Open the file in \
             a text editor and fix or remove that quote, or export the file again, then retry."
        );
    }

    #[test]
    fn unclosed_quote_without_header_names_position() {
        let error = SourceError::UnclosedQuote {
            path: path(),
            row: 1,
            column: 0,
            header: None,
        };
        assert!(
            error
                .user_message()
                .starts_with("Row 1, column 1 opens a quote")
        );
    }

    #[test]
    fn not_found_says_what_to_do() {
        let error = SourceError::Unreadable {
            path: path(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(error.user_message().starts_with("The file was not found"));
    }
}
