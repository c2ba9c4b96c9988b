//! A size check run before `calamine` opens an XLS file. `calamine` 0.38
//! turns each sheet into a dense grid spanning its cells, and reserves
//! memory for the grid a sheet's DIMENSIONS record claims, so a file of a
//! few kilobytes can ask for many gigabytes. This module walks the BIFF
//! records of the workbook stream once and adds up those grids, without
//! building anything.

use std::io::{Cursor, Read as _};

/// BIFF record types that matter here.
const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const DIMENSIONS: u16 = 0x0200;
const BOUNDSHEET: u16 = 0x0085;
const FORMULA: u16 = 0x0006;
/// Records that contain one cell, whose row and column open the record.
const SINGLE_CELLS: [u16; 7] = [0x0201, 0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD];
/// Records that contain a run of cells in one row (MULRK, MULBLANK), with
/// the last column in their final two bytes.
const CELL_RUNS: [u16; 2] = [0x00BD, 0x00BE];

/// Returns whether the sheets of the XLS in `bytes` would make `calamine`
/// allocate grids of more than `limit` cells in all. Sheets are found as
/// `calamine` finds them, from the stream offsets in the BOUNDSHEET
/// records, so several records that point at one large sheet count that
/// sheet several times, as `calamine` loads it several times. A file
/// whose workbook stream cannot be read returns `false`, leaving the error
/// to `calamine`.
pub(super) fn exceeds_cells(bytes: &[u8], limit: u64) -> bool {
    let Some(stream) = workbook_stream(bytes) else {
        return false;
    };
    let mut total = 0_u64;
    for offset in sheet_offsets(&stream) {
        let Some(sheet) = stream.get(offset..) else {
            continue;
        };
        match sheet_cells(sheet, limit) {
            Some(cells) => total = total.saturating_add(cells),
            None => return true,
        }
        if total > limit {
            return true;
        }
    }
    false
}

/// Returns the stream offsets that the BOUNDSHEET records of the workbook
/// globals give for the sheets.
fn sheet_offsets(stream: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut rest = stream;
    while let Some((kind, data, next)) = split_record(rest) {
        rest = next;
        match kind {
            BOUNDSHEET => {
                if let Some(offset) = read_u32(data, 0) {
                    offsets.push(offset as usize);
                }
            }
            EOF => break,
            _ => {}
        }
    }
    offsets
}

/// Returns the cells of the grid for the sheet that starts the stream
/// slice `sheet`, or `None` when its DIMENSIONS record alone claims more
/// than `limit` cells.
fn sheet_cells(sheet: &[u8], limit: u64) -> Option<u64> {
    let mut extent = Extent::default();
    let mut seen_bof = false;
    let mut nested = 0_u32;
    let mut rest = sheet;
    while let Some((kind, data, next)) = split_record(rest) {
        rest = next;
        // Records of embedded charts (nested substreams) are skipped, as
        // calamine skips them.
        if nested > 0 {
            match kind {
                BOF => nested += 1,
                EOF => nested -= 1,
                _ => {}
            }
            continue;
        }
        match kind {
            BOF if seen_bof => nested += 1,
            BOF => seen_bof = true,
            EOF => break,
            DIMENSIONS if dimensions_cells(data) > limit => return None,
            _ => extent.add_record(kind, data),
        }
    }
    Some(extent.cells())
}

fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    let mut stream = file
        .open_stream("/Workbook")
        .or_else(|_| file.open_stream("/Book"))
        .ok()?;
    let mut data = Vec::new();
    stream.read_to_end(&mut data).ok()?;
    Some(data)
}

/// Splits the first record off `stream`: its type, its data and the rest.
fn split_record(stream: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let kind = read_u16(stream, 0)?;
    let len = usize::from(read_u16(stream, 2)?);
    let data = stream.get(4..4 + len)?;
    Some((kind, data, stream.get(4 + len..)?))
}

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at + 2)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at + 4)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Returns the number of cells `calamine` reserves for a DIMENSIONS
/// record, computed as `calamine` reads it (BIFF5 and BIFF8 layouts),
/// including its wrap-around when the last row comes before the first.
fn dimensions_cells(data: &[u8]) -> u64 {
    let fields = match data.len() {
        10 => read_u16(data, 0)
            .map(u32::from)
            .zip(read_u16(data, 2).map(u32::from)),
        14 | 16 => read_u32(data, 0).zip(read_u32(data, 4)),
        _ => None,
    };
    let column_at = if data.len() == 10 { 4 } else { 8 };
    let columns = read_u16(data, column_at).zip(read_u16(data, column_at + 2));
    let (Some((first_row, row_end)), Some((first_column, column_end))) = (fields, columns) else {
        return 0;
    };
    let (first_column, column_end) = (u32::from(first_column), u32::from(column_end));
    let first_column = if first_column > 0xFF || column_end < first_column {
        0
    } else {
        first_column
    };
    if row_end == 0 || column_end == 0 {
        return 1;
    }
    let rows = (row_end - 1).wrapping_sub(first_row).wrapping_add(1);
    let columns = (column_end - 1).wrapping_sub(first_column).wrapping_add(1);
    u64::from(rows).saturating_mul(u64::from(columns))
}

/// The bounding box of the cells of one sheet.
#[derive(Debug, Default)]
struct Extent {
    /// First and last row and column, once a cell was seen.
    rows: Option<(u16, u16)>,
    columns: Option<(u16, u16)>,
}

impl Extent {
    fn add_record(&mut self, kind: u16, data: &[u8]) {
        let (Some(row), Some(column)) = (read_u16(data, 0), read_u16(data, 2)) else {
            return;
        };
        if kind == FORMULA || SINGLE_CELLS.contains(&kind) {
            self.add(row, column);
        } else if CELL_RUNS.contains(&kind) {
            self.add(row, column);
            if let Some(last) = data.len().checked_sub(2).and_then(|at| read_u16(data, at)) {
                self.add(row, last);
            }
        }
    }

    fn add(&mut self, row: u16, column: u16) {
        let widen = |range: Option<(u16, u16)>, value: u16| match range {
            Some((low, high)) => Some((low.min(value), high.max(value))),
            None => Some((value, value)),
        };
        self.rows = widen(self.rows, row);
        self.columns = widen(self.columns, column);
    }

    fn cells(&self) -> u64 {
        let span =
            |range: Option<(u16, u16)>| range.map_or(0, |(low, high)| u64::from(high - low) + 1);
        span(self.rows).saturating_mul(span(self.columns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    fn number_cell(row: u16, column: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend_from_slice(&column.to_le_bytes());
        data.extend_from_slice(&[0; 10]);
        record(0x0203, &data)
    }

    fn extent_of(records: &[Vec<u8>]) -> u64 {
        let mut extent = Extent::default();
        let stream = records.concat();
        let mut rest = stream.as_slice();
        while let Some((kind, data, next)) = split_record(rest) {
            extent.add_record(kind, data);
            rest = next;
        }
        extent.cells()
    }

    #[test]
    fn extent_spans_opposite_corners() {
        assert_eq!(extent_of(&[number_cell(0, 0)]), 1);
        assert_eq!(
            extent_of(&[number_cell(0, 0), number_cell(65_535, 255)]),
            65_536 * 256
        );
    }

    #[test]
    fn dimensions_claim_is_counted() {
        let mut data = 0_u32.to_le_bytes().to_vec();
        data.extend_from_slice(&1_000_000_u32.to_le_bytes());
        data.extend_from_slice(&0_u16.to_le_bytes());
        data.extend_from_slice(&200_u16.to_le_bytes());
        data.extend_from_slice(&[0, 0]);
        assert_eq!(dimensions_cells(&data), 200_000_000);
        let mut backwards = 10_u32.to_le_bytes().to_vec();
        backwards.extend_from_slice(&2_u32.to_le_bytes());
        backwards.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
        assert!(dimensions_cells(&backwards) > 1_000_000_000);
    }

    #[test]
    fn not_an_ole_file_is_left_to_calamine() {
        assert!(!exceeds_cells(b"not ole", 0));
    }
}
