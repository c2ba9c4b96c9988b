//! Reading spreadsheets: CSV and other delimited text in any common
//! encoding, and XLSX, XLS and ODS workbooks, into a [`Table`].
//!
//! The format is found from the content, never from the file name
//! ([`detect`]). Text is streamed through the `csv` crate ([`text`]);
//! workbooks go through `calamine` ([`workbook`]). Both hand numbered rows
//! to [`layout`], which finds the header below any title lines and leaves
//! out blank rows, totals, report footers and blank columns.

mod detect;
mod error;
mod layout;
mod ods_check;
mod text;
mod trailer;
mod workbook;
mod xls_biff;
mod xls_check;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

pub use error::SourceError;
pub use layout::clean_header;

use crate::progress::Progress;
use crate::table::{SourceFormat, SourceInfo, Table};
use detect::{Container, Sniffed};
use layout::{Overflow, RawTable};

/// Maximum number of data rows read from one file. Reading stops with
/// [`SourceError::TooManyRows`] beyond it; the user is asked to split the
/// file.
pub const MAX_ROWS: usize = 200_000;

/// Maximum number of non-blank cells read from one file, which bounds memory for very
/// wide sheets (200,000 rows of 50 filled cells). Reading stops with
/// [`SourceError::TooManyCells`] beyond it. For XLS and ODS files, whose
/// sheets `calamine` loads as dense grids, the grids' cells count, blank
/// or not.
pub const MAX_CELLS: usize = 10_000_000;

/// Maximum bytes of cell text read from one file (256 MiB). It bounds
/// memory where a few bytes of a file expand to much text: a shared string
/// that many cells of an XLSX or XLS refer to, a repeated ODS cell, or a
/// merged cell copied into the rows below it. Reading stops with
/// [`SourceError::TooMuchText`] beyond it. For XLS and ODS files the text
/// is estimated before `calamine` loads them.
pub const MAX_TEXT_BYTES: usize = 256 * 1024 * 1024;

/// Choices that change what is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Sheet to read from a workbook; `None` picks the sheet that looks most
    /// like a customer list. Matched exactly, else ignoring case and outer
    /// spaces. Ignored for text files.
    pub sheet: Option<String>,
}

/// Reads the header and data records of a file. Runs on a background
/// thread: it reads the disk and may take seconds on a large file. It
/// reports bytes read on `progress`, then rows for a workbook sheet, and
/// stops with [`SourceError::Cancelled`] soon after `progress` is
/// cancelled.
///
/// A file with a header and no data rows is not an error: the table comes
/// back with no records. Every other failure is a [`SourceError`] whose
/// [`SourceError::user_message`] gives the user the next step.
pub fn read(path: &Path, options: &ReadOptions, progress: &Progress) -> Result<Table, SourceError> {
    read_input(&Input::File(path), options, progress)
}

/// Reads a file already in memory, as [`read`] does; `file_name` is used
/// in errors and in [`SourceInfo::path`] only. Fuzz targets and tests use
/// it to need no files.
pub fn read_bytes(
    bytes: &[u8],
    file_name: &str,
    options: &ReadOptions,
    progress: &Progress,
) -> Result<Table, SourceError> {
    let input = Input::Bytes {
        bytes,
        path: Path::new(file_name),
    };
    read_input(&input, options, progress)
}

/// The source of the bytes: a file on disk or a buffer in memory.
pub(crate) enum Input<'a> {
    File(&'a Path),
    Bytes { bytes: &'a [u8], path: &'a Path },
}

impl<'a> Input<'a> {
    fn path(&self) -> &'a Path {
        match self {
            Input::File(path) => path,
            Input::Bytes { path, .. } => path,
        }
    }

    fn unreadable(&self, source: std::io::Error) -> SourceError {
        SourceError::Unreadable {
            path: self.path().to_owned(),
            source,
        }
    }

    /// Opens the content from its start.
    fn open(&self) -> Result<Box<dyn Read + 'a>, SourceError> {
        match self {
            Input::File(path) => File::open(path)
                .map(|file| Box::new(file) as Box<dyn Read>)
                .map_err(|error| self.unreadable(error)),
            Input::Bytes { bytes, .. } => Ok(Box::new(*bytes)),
        }
    }

    /// Returns the first [`detect::HEAD_LEN`] bytes (fewer for a short
    /// file).
    fn head(&self) -> Result<Cow<'a, [u8]>, SourceError> {
        match self {
            Input::File(_) => {
                let mut head = Vec::with_capacity(detect::HEAD_LEN);
                self.open()?
                    .take(detect::HEAD_LEN as u64)
                    .read_to_end(&mut head)
                    .map_err(|error| self.unreadable(error))?;
                Ok(Cow::Owned(head))
            }
            Input::Bytes { bytes, .. } => {
                Ok(Cow::Borrowed(&bytes[..bytes.len().min(detect::HEAD_LEN)]))
            }
        }
    }

    /// Returns the length in bytes, for progress.
    fn len(&self) -> u64 {
        match self {
            Input::File(path) => std::fs::metadata(path).map_or(0, |meta| meta.len()),
            Input::Bytes { bytes, .. } => bytes.len() as u64,
        }
    }

    /// Returns all the bytes, counting them on `progress` and stopping when
    /// it is cancelled.
    fn read_all(&self, progress: &Progress) -> Result<Cow<'a, [u8]>, SourceError> {
        match self {
            Input::Bytes { bytes, .. } => {
                progress.set_done(bytes.len() as u64);
                Ok(Cow::Borrowed(bytes))
            }
            Input::File(path) => read_file(path, self.len(), progress).map(Cow::Owned),
        }
    }
}

fn read_file(path: &Path, len: u64, progress: &Progress) -> Result<Vec<u8>, SourceError> {
    let unreadable = |source| SourceError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut chunk = vec![0_u8; 1 << 20];
    loop {
        if progress.is_cancelled() {
            return Err(SourceError::Cancelled {
                path: path.to_owned(),
            });
        }
        let count = file.read(&mut chunk).map_err(unreadable)?;
        if count == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(chunk.get(..count).unwrap_or_default());
        progress.add_done(count as u64);
    }
}

fn read_input(
    input: &Input<'_>,
    options: &ReadOptions,
    progress: &Progress,
) -> Result<Table, SourceError> {
    let path = input.path();
    let head = input.head()?;
    if head.is_empty() {
        return Err(SourceError::Empty {
            path: path.to_owned(),
        });
    }
    progress.set_total(input.len());
    let sniffed = detect::sniff(&head);
    match sniffed {
        Sniffed::Zip | Sniffed::Ole => read_container(input, sniffed, options, progress),
        Sniffed::Binary(kind) => Err(SourceError::NotSpreadsheet {
            path: path.to_owned(),
            kind,
        }),
        Sniffed::UnsupportedText(kind) => Err(SourceError::Unsupported {
            path: path.to_owned(),
            kind,
        }),
        Sniffed::Text => {
            let complete = head.len() < detect::HEAD_LEN;
            let read = text::read_text(input, &head, complete, progress)?;
            tracing::debug!(
                file = %path.display(),
                encoding = read.encoding.name(),
                delimiter = %char::from(read.delimiter),
                "read delimited text"
            );
            let format = SourceFormat::Csv {
                encoding: read.encoding.name().to_owned(),
                delimiter: read.delimiter,
            };
            let source = source_info(path, format, None, Vec::new(), read.fingerprint);
            assemble(read.raw, source)
        }
    }
}

/// Reads a zip or OLE2 container: a workbook, or an error naming what it
/// contains instead.
fn read_container(
    input: &Input<'_>,
    sniffed: Sniffed,
    options: &ReadOptions,
    progress: &Progress,
) -> Result<Table, SourceError> {
    let path = input.path();
    let bytes = input.read_all(progress)?;
    let fingerprint = text::hex(&Sha256::digest(&bytes));
    let read = catch_parser_panic(path, || {
        let container = match sniffed {
            Sniffed::Ole => detect::classify_ole(&bytes),
            _ => detect::classify_zip(&bytes),
        };
        read_workbook_container(&bytes, container, sniffed, options, progress, path)
    })?;
    let source = source_info(
        path,
        read.format,
        Some(read.sheet),
        read.sheets,
        fingerprint,
    );
    let sheet = source.sheet.clone();
    assemble(read.raw, source).map_err(|error| match error {
        SourceError::Blank { path, .. } => SourceError::Blank { path, sheet },
        other => other,
    })
}

fn read_workbook_container(
    bytes: &[u8],
    container: Container,
    sniffed: Sniffed,
    options: &ReadOptions,
    progress: &Progress,
    path: &Path,
) -> Result<workbook::WorkbookRead, SourceError> {
    let path_buf = path.to_owned();
    match container {
        Container::Xlsx | Container::Xls | Container::Ods => {
            workbook::read_workbook(bytes, container, options, progress, path)
        }
        Container::Other(kind) => Err(SourceError::NotSpreadsheet {
            path: path_buf,
            kind,
        }),
        Container::Unsupported(kind) => Err(SourceError::Unsupported {
            path: path_buf,
            kind,
        }),
        Container::PasswordProtected => Err(SourceError::PasswordProtected { path: path_buf }),
        Container::Damaged => {
            let workbook_like = sniffed == Sniffed::Ole
                || detect::zip_looks_like_workbook(bytes)
                || has_workbook_extension(path);
            if workbook_like {
                Err(SourceError::Damaged {
                    path: path_buf,
                    detail: "the container's directory cannot be read".to_owned(),
                })
            } else {
                Err(SourceError::NotSpreadsheet {
                    path: path_buf,
                    kind: "a damaged ZIP archive",
                })
            }
        }
    }
}

fn has_workbook_extension(path: &Path) -> bool {
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_lowercase());
    matches!(
        extension.as_deref(),
        Some("xlsx" | "xlsm" | "xltx" | "xltm" | "xls" | "ods")
    )
}

/// Runs a third-party container parser and turns a panic inside it into a
/// damaged-workbook error, so that no input can crash the importer.
fn catch_parser_panic<T>(
    path: &Path,
    parse: impl FnOnce() -> Result<T, SourceError>,
) -> Result<T, SourceError> {
    catch_unwind(AssertUnwindSafe(parse)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the workbook parser panicked".to_owned());
        tracing::warn!(file = %path.display(), %detail, "workbook parser panicked");
        Err(SourceError::Damaged {
            path: path.to_owned(),
            detail,
        })
    })
}

fn source_info(
    path: &Path,
    format: SourceFormat,
    sheet: Option<String>,
    sheets: Vec<String>,
    fingerprint: String,
) -> SourceInfo {
    SourceInfo {
        path: PathBuf::from(path),
        format,
        sheet,
        sheets,
        fingerprint,
    }
}

/// Turns the rows of a sheet into the finished [`Table`].
fn assemble(raw: Option<RawTable>, source: SourceInfo) -> Result<Table, SourceError> {
    let Some(raw) = raw else {
        return Err(SourceError::Blank {
            path: source.path,
            sheet: None,
        });
    };
    let layout = raw
        .into_layout()
        .map_err(|overflow| overflow_error(&source.path, overflow))?;
    tracing::debug!(
        file = %source.path.display(),
        header_row = layout.header_row,
        columns = layout.headers.len(),
        records = layout.records.len(),
        notes = layout.notes.len(),
        "found table"
    );
    Ok(Table {
        source,
        headers: layout.headers,
        header_row: layout.header_row,
        records: layout.records,
        notes: layout.notes,
    })
}

fn overflow_error(path: &Path, overflow: Overflow) -> SourceError {
    let path = path.to_owned();
    match overflow {
        Overflow::Rows => SourceError::TooManyRows {
            path,
            limit: MAX_ROWS,
        },
        Overflow::Cells => SourceError::TooManyCells {
            path,
            limit: MAX_CELLS,
        },
        Overflow::Text => SourceError::TooMuchText {
            path,
            limit_bytes: MAX_TEXT_BYTES,
        },
    }
}
