//! A check run before `calamine` opens an XLS file, against files of a few
//! kilobytes that make `calamine` 0.38 ask for gigabytes or run for
//! minutes. It reads the workbook stream once and counts what `calamine`
//! will allocate, without building anything:
//!
//! - the dense grid that every sheet becomes, one for values and one for
//!   formulas, spanning the sheet's first to last cell, and the grid a
//!   sheet's DIMENSIONS record makes `calamine` reserve;
//! - the text of the cells, where each cell that refers to a shared string
//!   gets its own copy of it, and each label reserves the length it claims
//!   whatever follows.
//!
//! The stream is then handed to `calamine` in a new container that holds
//! only it, so `calamine` parses exactly the bytes counted here. Its own
//! container reader is more lenient than the `cfb` crate used here: for
//! a stream whose sector chain is shorter than its recorded size, the
//! `cfb` crate fails while `calamine` reads the chain, so the first
//! version of this check saw nothing and let a 17 KB file through that
//! grew to 2 GB.

use std::io::{Cursor, Read as _, Write as _};

use super::xls_biff::{self, Globals, GlobalsError, SheetUsage};

/// The limits that [`check`] applies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Grid cells of all sheets together.
    pub cells: u64,
    /// Estimated bytes of cell text of all sheets together.
    pub text_bytes: u64,
}

/// The outcome of [`check`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum XlsCheck {
    /// A compound file holding only the checked workbook stream, to hand
    /// to `calamine`, which reports any other damage itself.
    Fits(Vec<u8>),
    /// The sheets' grids would hold more cells than the limit.
    TooManyCells,
    /// The cells would hold more text than the limit.
    TooMuchText,
    /// The stream cannot be read, or would make `calamine` fail or run for
    /// minutes. The text names the problem.
    Damaged(&'static str),
}

/// Reads the workbook stream of the XLS in `bytes`, counts the sheets'
/// grids and text against `limits`, and returns the stream in a new
/// container when it fits. FORMULA records come back with their token
/// lists emptied, because the importer reads only their cached values (see
/// [`xls_biff::scan_sheet`]).
pub(super) fn check(bytes: &[u8], limits: Limits) -> XlsCheck {
    let Some(mut stream) = workbook_stream(bytes) else {
        return XlsCheck::Damaged("the workbook stream cannot be read");
    };
    if let Err(problem) = scan(&mut stream, limits) {
        return problem;
    }
    match container(&stream) {
        Ok(container) => XlsCheck::Fits(container),
        Err(_) => XlsCheck::Damaged("the workbook stream cannot be copied"),
    }
}

/// Counts every sheet of the stream against `limits`.
fn scan(stream: &mut [u8], limits: Limits) -> Result<(), XlsCheck> {
    let globals = Globals::read(stream).map_err(|error| match error {
        GlobalsError::SharedStrings => XlsCheck::Damaged("the shared string table is damaged"),
    })?;
    let mut total = SheetUsage {
        len: globals.len,
        text_bytes: globals
            .all_shared_chars
            .saturating_mul(globals.bytes_per_char),
        ..SheetUsage::default()
    };
    for offset in sheet_order(&globals) {
        let Some(sheet) = stream.get_mut(offset..) else {
            continue;
        };
        if offset < total.len {
            return Err(overlap());
        }
        let usage = xls_biff::scan_sheet(sheet, &globals);
        add_usage(&mut total, &usage, offset);
        if usage.claimed_cells > limits.cells || grid_cells(&total) > limits.cells {
            return Err(XlsCheck::TooManyCells);
        }
        if total.text_bytes > limits.text_bytes {
            return Err(XlsCheck::TooMuchText);
        }
    }
    Ok(())
}

/// Returns the sheet offsets in stream order, so that each sheet can be
/// checked to start after the end of the one before.
fn sheet_order(globals: &Globals) -> Vec<usize> {
    let mut offsets = globals.sheet_offsets.clone();
    offsets.sort_unstable();
    offsets
}

/// Adds one sheet's counts to `total`, whose `len` becomes the end of
/// that sheet in the stream. An empty sheet ends one byte after its
/// offset, so that a second sheet at the same offset counts as overlap.
fn add_usage(total: &mut SheetUsage, usage: &SheetUsage, offset: usize) {
    total.len = offset + usage.len.max(1);
    total.value_cells = total.value_cells.saturating_add(usage.value_cells);
    total.formula_cells = total.formula_cells.saturating_add(usage.formula_cells);
    total.text_bytes = total.text_bytes.saturating_add(usage.text_bytes);
}

fn grid_cells(total: &SheetUsage) -> u64 {
    total.value_cells.saturating_add(total.formula_cells)
}

/// Returns the error for sheets that overlap each other or the globals.
/// `calamine` loads each sheet from its offset to its EOF record, so many
/// sheets pointing into one long substream cost time quadratic in the
/// file's size. Clearing formula tokens for one sheet could also change
/// how another one's records are framed. Excel writes each sheet apart.
fn overlap() -> XlsCheck {
    XlsCheck::Damaged("two sheets share records in the workbook stream")
}

/// Reads the workbook stream (named `Workbook`, or `Book` before Excel
/// 97). A sector chain shorter than the stream's recorded size makes the
/// read fail at the end of the chain. The bytes before it are kept, as
/// `calamine` 0.38 keeps them, so that such files still open.
fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    let mut stream = file
        .open_stream("/Workbook")
        .or_else(|_| file.open_stream("/Book"))
        .ok()?;
    let mut data = Vec::new();
    let complete = stream.read_to_end(&mut data).is_ok();
    (complete || !data.is_empty()).then_some(data)
}

/// Builds a compound file holding `stream` as its `Workbook` stream.
fn container(stream: &[u8]) -> std::io::Result<Vec<u8>> {
    let capacity = stream.len() + stream.len() / 64 + 4096;
    let mut file = cfb::CompoundFile::create_with_version(
        cfb::Version::V3,
        Cursor::new(Vec::with_capacity(capacity)),
    )?;
    let mut out = file.create_stream("/Workbook")?;
    out.write_all(stream)?;
    out.flush()?;
    drop(out);
    file.flush()?;
    Ok(file.into_inner().into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        cells: 1_000,
        text_bytes: 1_000,
    };

    fn record(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    fn number(row: u16, column: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend_from_slice(&column.to_le_bytes());
        data.extend_from_slice(&[0; 10]);
        record(0x0203, &data)
    }

    /// Builds a workbook stream with one BOUNDSHEET record for each offset
    /// in `sheets`, where `None` stands for the offset of the sheet that
    /// follows the globals.
    fn stream(sheets: &[Option<u32>], cells: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(0x0809, &[0; 16]);
        let boundsheet = |offset: u32| {
            let data = [&offset.to_le_bytes()[..], &[0, 0, 1, 0, b'S']].concat();
            record(0x0085, &data)
        };
        let globals_len = bof.len() + sheets.len() * boundsheet(0).len() + 4;
        let mut out = bof.clone();
        for offset in sheets {
            out.extend(boundsheet(offset.unwrap_or(globals_len as u32)));
        }
        out.extend(record(0x000A, &[]));
        out.extend(bof);
        out.extend(cells.concat());
        out.extend(record(0x000A, &[]));
        out
    }

    fn xls(stream: &[u8]) -> Vec<u8> {
        container(stream).expect("container")
    }

    #[test]
    fn small_sheet_fits_and_round_trips() {
        let original = stream(&[None], &[number(0, 0), number(3, 3)]);
        let XlsCheck::Fits(container) = check(&xls(&original), LIMITS) else {
            panic!("should fit");
        };
        assert_eq!(workbook_stream(&container), Some(original));
    }

    #[test]
    fn far_apart_cells_exceed_limit() {
        let original = stream(&[None], &[number(0, 0), number(100, 100)]);
        assert_eq!(check(&xls(&original), LIMITS), XlsCheck::TooManyCells);
    }

    #[test]
    fn sheet_loaded_twice_is_damaged() {
        let cells = [number(0, 0), number(19, 19)];
        assert!(matches!(
            check(&xls(&stream(&[None], &cells)), LIMITS),
            XlsCheck::Fits(_)
        ));
        assert!(matches!(
            check(&xls(&stream(&[None, None], &cells)), LIMITS),
            XlsCheck::Damaged(_)
        ));
    }

    #[test]
    fn sheet_inside_globals_is_damaged() {
        let original = stream(&[Some(0)], &[number(0, 0)]);
        assert!(matches!(
            check(&xls(&original), LIMITS),
            XlsCheck::Damaged(_)
        ));
    }

    #[test]
    fn long_labels_exceed_text_limit() {
        let label = |row: u16| {
            let data = [
                &row.to_le_bytes()[..],
                &[0, 0, 0, 0],
                &200_u16.to_le_bytes(),
                &[0],
            ];
            record(0x0204, &data.concat())
        };
        let one = stream(&[None], &[label(0)]);
        assert!(matches!(check(&xls(&one), LIMITS), XlsCheck::Fits(_)));
        let two = stream(&[None], &[label(0), label(1)]);
        assert_eq!(check(&xls(&two), LIMITS), XlsCheck::TooMuchText);
    }

    #[test]
    fn not_an_ole_file_is_damaged() {
        assert!(matches!(check(b"not ole", LIMITS), XlsCheck::Damaged(_)));
    }
}
