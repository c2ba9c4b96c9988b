//! Reading spreadsheets: CSV and other delimited text in any common
//! encoding, and XLSX, XLS and ODS workbooks, into a [`Table`].

use std::path::Path;

use crate::progress::Progress;
use crate::table::Table;

/// Choices that change what is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Sheet to read from a workbook; `None` picks the sheet that looks most
    /// like a customer list.
    pub sheet: Option<String>,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: not yet readable")]
    Unsupported { path: String },
}

/// Reads the header and data records of a file. Runs on a background
/// thread: it reads the disk and may take seconds on a large file, and
/// reports through `progress`, which can also cancel it.
pub fn read(path: &Path, options: &ReadOptions, progress: &Progress) -> Result<Table, SourceError> {
    let _ = (options, progress);
    Err(SourceError::Unsupported {
        path: path.display().to_string(),
    })
}
