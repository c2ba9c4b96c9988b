//! CSV reports of a run: one file per outcome (created, conflicts, failed,
//! skipped, and not sent yet for an unfinished run), each row with the
//! original columns of the file followed by the outcome, the reason and the
//! customer id.
//!
//! The original headers come first and in their order, so the failed-rows
//! file opens back in the importer and maps with the same preset once the
//! rows are fixed. Files are UTF-8 with a byte order mark, which Excel needs
//! to read non-ASCII names, and any cell that a spreadsheet would run as a
//! formula is prefixed with an apostrophe.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::upload::journal::{Journal, JournalError, JournalRow, RowState, RunInfo, UndoState};

/// Headers of the columns added after the file's own.
pub const OUTCOME_HEADER: &str = "Import Outcome";
pub const REASON_HEADER: &str = "Import Reason";
pub const CUSTOMER_ID_HEADER: &str = "Vendasta Customer ID";

/// Every header a report adds, in column order. Code that matches a
/// re-opened report against a preset can leave these out.
pub const ADDED_HEADERS: [&str; 3] = [OUTCOME_HEADER, REASON_HEADER, CUSTOMER_ID_HEADER];

/// Characters that make a spreadsheet treat a cell as a formula (`=`, `+`,
/// `-`, `@`) or that can hide one (TAB, CR).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The outcome a report file lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportKind {
    Created,
    /// Conflicts, merged or not.
    Conflicts,
    Failed,
    Skipped,
    /// Rows an unfinished run has not sent yet.
    NotSent,
}

impl ReportKind {
    pub const ALL: [Self; 5] = [
        Self::Created,
        Self::Conflicts,
        Self::Failed,
        Self::Skipped,
        Self::NotSent,
    ];

    /// Returns the part of the file name that names the outcome.
    pub fn file_label(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Conflicts => "conflicts",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::NotSent => "not-sent",
        }
    }

    /// Returns the report a row in `state` belongs to.
    pub fn of(state: &RowState) -> Self {
        match state {
            RowState::Created { .. } => Self::Created,
            RowState::Conflict { .. } | RowState::Merging { .. } | RowState::Merged { .. } => {
                Self::Conflicts
            }
            RowState::Failed { .. } => Self::Failed,
            RowState::Skipped { .. } => Self::Skipped,
            RowState::Pending | RowState::Sending => Self::NotSent,
        }
    }
}

/// A report file that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    pub kind: ReportKind,
    pub path: PathBuf,
    /// Data rows in the file.
    pub rows: usize,
}

/// Error writing reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to read the run for its reports")]
    Journal(#[from] JournalError),
    #[error("failed to create the report folder {path}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write the report {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write the report {path}")]
    Csv {
        path: String,
        #[source]
        source: csv::Error,
    },
}

/// Writes one CSV file per outcome that has rows into `dir`, named
/// `<file stem>-<outcome>-<first 8 characters of the run id>.csv`, and
/// returns them in [`ReportKind::ALL`] order. Blocks on the journal and the
/// disk; call it off the UI thread. An existing file of the same name is
/// replaced.
pub fn write_reports(
    journal: &Journal,
    run_id: &str,
    dir: &Path,
) -> Result<Vec<ReportFile>, ReportError> {
    let info = journal.run(run_id)?;
    let rows = journal.rows(run_id)?;
    std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.display().to_string(),
        source,
    })?;
    let mut files = Vec::new();
    for kind in ReportKind::ALL {
        let selected: Vec<&JournalRow> = rows
            .iter()
            .filter(|row| ReportKind::of(&row.state) == kind)
            .collect();
        if selected.is_empty() {
            continue;
        }
        let path = dir.join(report_file_name(&info, kind));
        write_report(&path, &info.headers, &selected)?;
        files.push(ReportFile {
            kind,
            path,
            rows: selected.len(),
        });
    }
    Ok(files)
}

fn report_file_name(info: &RunInfo, kind: ReportKind) -> String {
    let stem = info.file_path.file_stem().map_or_else(
        || "import".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    let short_id: String = info.id.chars().take(8).collect();
    format!("{stem}-{}-{short_id}.csv", kind.file_label())
}

/// Writes one report through a temporary file, so an interrupted write
/// never leaves half a report under the final name.
fn write_report(path: &Path, headers: &[String], rows: &[&JournalRow]) -> Result<(), ReportError> {
    let temporary = path.with_extension("csv.tmp");
    let io_error = |source| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    let csv_error = |source| ReportError::Csv {
        path: path.display().to_string(),
        source,
    };
    let mut file = BufWriter::new(File::create(&temporary).map_err(io_error)?);
    // Excel reads a CSV without a byte order mark in the system's legacy
    // code page, which garbles non-ASCII names.
    file.write_all("\u{feff}".as_bytes()).map_err(io_error)?;
    let mut writer = csv::WriterBuilder::new().flexible(false).from_writer(file);

    let mut header_line: Vec<String> = headers.iter().map(|header| escape_cell(header)).collect();
    header_line.extend(ADDED_HEADERS.map(str::to_owned));
    writer.write_record(&header_line).map_err(csv_error)?;
    for row in rows {
        writer
            .write_record(report_line(headers.len(), row))
            .map_err(csv_error)?;
    }
    let file = writer
        .into_inner()
        .map_err(|err| io_error(err.into_error()))?;
    file.into_inner()
        .map_err(|err| io_error(err.into_error()))?
        .sync_all()
        .map_err(io_error)?;
    std::fs::rename(&temporary, path).map_err(io_error)
}

/// Returns a row's cells, padded or cut to the header's width, then its
/// outcome, reason and customer id, every cell escaped.
fn report_line(width: usize, row: &JournalRow) -> Vec<String> {
    let mut line: Vec<String> = (0..width)
        .map(|index| {
            row.cells
                .get(index)
                .map_or_else(String::new, |cell| escape_cell(cell))
        })
        .collect();
    // Cells beyond the header's width (a ragged row) have no column of
    // their own; non-empty ones are quoted in the reason so none is lost.
    let extra: Vec<&str> = row
        .cells
        .iter()
        .skip(width)
        .map(String::as_str)
        .filter(|cell| !cell.trim().is_empty())
        .collect();
    let (outcome, mut reason, customer_id) = describe(row);
    if !extra.is_empty() {
        reason = format!(
            "{reason} (cells beyond the last column: {})",
            extra.join(" | ")
        );
    }
    line.push(outcome);
    line.push(escape_cell(&reason));
    line.push(escape_cell(&customer_id));
    line
}

/// Returns the outcome, reason and customer id columns of a row.
fn describe(row: &JournalRow) -> (String, String, String) {
    let (outcome, reason, id) = state_columns(&row.state);
    let outcome = match &row.undo {
        Some(UndoState::Deleted) => format!("{outcome}, deleted by undo"),
        Some(UndoState::Restored) => format!("{outcome}, restored by undo"),
        Some(UndoState::Failed { .. }) => format!("{outcome}, undo failed"),
        None => outcome.to_owned(),
    };
    let reason = match &row.undo {
        Some(UndoState::Failed { message }) => {
            format!("{reason} Undo failed: {message}").trim().to_owned()
        }
        _ => reason,
    };
    (outcome, reason, id)
}

fn state_columns(state: &RowState) -> (&'static str, String, String) {
    match state {
        RowState::Created { customer_id } => ("created", String::new(), customer_id.clone()),
        RowState::Conflict { conflict, note } => {
            let mut reason = format!(
                "{} {} already belongs to customer {}.",
                field_label(&conflict.field),
                conflict.value,
                conflict.existing_id
            );
            if let Some(note) = note {
                reason = format!("{reason} {note}");
            }
            ("conflict", reason, conflict.existing_id.clone())
        }
        RowState::Merging { conflict } => (
            "merging",
            "The merge was started but not confirmed; resume the import to finish it.".to_owned(),
            conflict.existing_id.clone(),
        ),
        RowState::Merged { conflict } => (
            "merged",
            format!(
                "Merged into the existing customer {}.",
                conflict.existing_id
            ),
            conflict.existing_id.clone(),
        ),
        RowState::Failed { message, .. } => ("failed", message.clone(), String::new()),
        RowState::Skipped { reason } => ("skipped", reason.clone(), String::new()),
        RowState::Pending | RowState::Sending => (
            "not sent",
            "The import stopped before this row was sent; resume it to send the row.".to_owned(),
            String::new(),
        ),
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "emailAddresses" => "Email address",
        "phoneNumbers" => "Phone number",
        _ => "A contact detail",
    }
}

/// Returns the cell with an apostrophe in front when a spreadsheet would
/// read it as a formula. The importer removes one leading apostrophe when
/// it reads a file, so the report's values come back unchanged.
pub fn escape_cell(cell: &str) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped() {
        for cell in [
            "=HYPERLINK(\"x\")",
            "+1 555",
            "-2",
            "@SUM(A1)",
            "\t=cmd",
            "\rx",
        ] {
            assert_eq!(escape_cell(cell), format!("'{cell}"));
        }
        for cell in ["Ann", "", " =not first", "'already text", "a=b"] {
            assert_eq!(escape_cell(cell), cell);
        }
    }

    #[test]
    fn every_state_has_a_report() {
        assert_eq!(ReportKind::of(&RowState::Pending), ReportKind::NotSent);
        assert_eq!(
            ReportKind::of(&RowState::Skipped {
                reason: String::new()
            }),
            ReportKind::Skipped
        );
    }
}
