//! Walking the BIFF records of an XLS workbook stream the way `calamine`
//! 0.38 walks them, to count what it will allocate before it runs.
//!
//! Each function here mirrors one step of `parse_workbook` in `calamine`'s
//! `src/xls.rs`: which records it reads, how it groups CONTINUE records,
//! where it starts and stops a sheet, and which records become cells.
//! Where `calamine` fails on a record, the mirror may stop or overcount,
//! but it never counts less than `calamine` allocates.

/// BIFF record types that matter here.
pub(super) const BOF: u16 = 0x0809;
pub(super) const EOF: u16 = 0x000A;
const CONTINUE: u16 = 0x003C;
const CODEPAGE: u16 = 0x0042;
const BOUNDSHEET: u16 = 0x0085;
const SST: u16 = 0x00FC;
const DIMENSIONS: u16 = 0x0200;
const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
const LABEL: u16 = 0x0204;
const RSTRING: u16 = 0x00D6;
const LABEL_SST: u16 = 0x00FD;
const MULRK: u16 = 0x00BD;
/// Records that become one value cell at the row and column that open
/// them (NUMBER, BOOLERR, RK). LABEL, RSTRING and LABELSST are cells too,
/// with text. `calamine` 0.38 ignores BLANK and MULBLANK.
const NUMBER_CELLS: [u16; 3] = [0x0203, 0x0205, 0x027E];

/// Maximum CONTINUE records after one SST record. `calamine` takes each
/// one with `Vec::remove(0)`, which costs time quadratic in their number.
/// At the maximum 8,224 bytes each, this allows an SST of 134 MB.
pub(super) const MAX_SST_CONTINUES: usize = 16_384;

/// One record with the CONTINUE records that follow it, grouped as
/// `calamine` groups them.
#[derive(Debug)]
pub(super) struct Record<'a> {
    pub kind: u16,
    /// Offset of `data` from the start of the walked slice.
    pub at: usize,
    pub data: &'a [u8],
    pub continues: Vec<&'a [u8]>,
}

/// Iterates over the records at the start of a stream slice. It ends at the
/// first record that runs past the end of the slice, where `calamine` fails.
#[derive(Debug)]
pub(super) struct Records<'a> {
    rest: &'a [u8],
    /// Bytes taken by the records returned so far.
    consumed: usize,
}

impl<'a> Records<'a> {
    pub fn new(stream: &'a [u8]) -> Self {
        Self {
            rest: stream,
            consumed: 0,
        }
    }

    /// Returns the number of bytes the records returned so far take.
    pub fn consumed(&self) -> usize {
        self.consumed
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let Some((kind, data, mut rest)) = split_record(self.rest) else {
            self.rest = &[];
            return None;
        };
        let mut continues = Vec::new();
        while rest.len() > 4 && read_u16(rest, 0) == Some(CONTINUE) {
            let Some((_, part, next)) = split_record(rest) else {
                self.rest = &[];
                return None;
            };
            continues.push(part);
            rest = next;
        }
        let at = self.consumed + 4;
        self.consumed += self.rest.len() - rest.len();
        self.rest = rest;
        Some(Record {
            kind,
            at,
            data,
            continues,
        })
    }
}

/// Facts about the sheets from the workbook globals (the records before
/// the first EOF).
#[derive(Debug, Default)]
pub(super) struct Globals {
    /// Length in bytes of the globals substream.
    pub len: usize,
    /// Stream offsets of the sheets, from the BOUNDSHEET records.
    pub sheet_offsets: Vec<usize>,
    /// Characters of each shared string of the last SST record.
    pub shared_chars: Vec<u32>,
    /// Characters of the shared strings of every SST record.
    pub all_shared_chars: u64,
    /// Estimated maximum UTF-8 bytes of one decoded character.
    pub bytes_per_char: u64,
}

/// Reason the globals could not be read as `calamine` reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GlobalsError {
    /// An SST record that `calamine` fails to read, or reads only in time
    /// quadratic in its size.
    SharedStrings,
}

impl Globals {
    /// Reads the globals at the start of `stream`.
    pub fn read(stream: &[u8]) -> Result<Self, GlobalsError> {
        let mut globals = Self {
            bytes_per_char: bytes_per_char(1200),
            ..Self::default()
        };
        let mut records = Records::new(stream);
        for record in records.by_ref() {
            match record.kind {
                CODEPAGE => {
                    if let Some(codepage) = read_u16(record.data, 0) {
                        globals.bytes_per_char = bytes_per_char(codepage);
                    }
                }
                BOUNDSHEET => {
                    if let Some(offset) = read_u32(record.data, 0) {
                        globals.sheet_offsets.push(offset as usize);
                    }
                }
                SST => globals.add_shared_strings(&record)?,
                EOF => break,
                _ => {}
            }
        }
        globals.len = records.consumed();
        Ok(globals)
    }

    fn add_shared_strings(&mut self, record: &Record<'_>) -> Result<(), GlobalsError> {
        if record.continues.len() > MAX_SST_CONTINUES {
            return Err(GlobalsError::SharedStrings);
        }
        let chars = shared_string_chars(record).ok_or(GlobalsError::SharedStrings)?;
        let total: u64 = chars.iter().map(|&count| u64::from(count)).sum();
        self.all_shared_chars = self.all_shared_chars.saturating_add(total);
        self.shared_chars = chars;
        Ok(())
    }
}

/// Returns the estimated maximum UTF-8 bytes of one character of a string
/// in a workbook with this code page. `calamine` decodes the UTF-16 code
/// units of BIFF8 strings with the workbook's encoding. UTF-16 gives at
/// most 3 bytes a code unit. Another encoding reads each of its 2 bytes
/// as a character of up to 3 bytes.
fn bytes_per_char(codepage: u16) -> u64 {
    match codepage {
        1200 | 1201 => 3,
        _ => 6,
    }
}

/// Returns the character count of each string in an SST record, read as
/// `calamine` reads them (`parse_sst` and `read_rich_extended_string`), or
/// `None` where `calamine` fails or panics.
fn shared_string_chars(record: &Record<'_>) -> Option<Vec<u32>> {
    let mut pieces = Pieces {
        data: record.data.get(8..)?,
        continues: record.continues.iter(),
    };
    let mut chars = Vec::new();
    while !pieces.data.is_empty() || pieces.next_piece() {
        chars.push(pieces.rich_string()?);
    }
    Some(chars)
}

/// The data of a record and its CONTINUE records, read in order.
struct Pieces<'a, 'b> {
    data: &'a [u8],
    continues: std::slice::Iter<'b, &'a [u8]>,
}

impl<'a> Pieces<'a, '_> {
    fn next_piece(&mut self) -> bool {
        match self.continues.next() {
            Some(piece) => {
                self.data = piece;
                true
            }
            None => false,
        }
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.data.split_at_checked(len)?;
        self.data = tail;
        Some(head)
    }

    fn skip(&mut self, mut len: usize) -> Option<()> {
        while len > 0 {
            if self.data.is_empty() && !self.next_piece() {
                return None;
            }
            let step = len.min(self.data.len());
            self.data = self.data.get(step..)?;
            len -= step;
        }
        Some(())
    }

    /// Reads one XLUnicodeRichExtendedString and returns its characters.
    fn rich_string(&mut self) -> Option<u32> {
        if self.data.is_empty() {
            return Some(0);
        }
        let header = self.take(3)?;
        let chars = read_u16(header, 0)?;
        let flags = header[2];
        let runs = match flags & 0x8 {
            0 => 0,
            _ => usize::from(read_u16(self.take(2)?, 0)?),
        };
        // A negative size becomes a huge one, as in calamine, which then
        // fails for want of data.
        let extension = match flags & 0x4 {
            0 => 0,
            _ => read_u32(self.take(4)?, 0)? as i32 as usize,
        };
        self.characters(usize::from(chars), flags & 0x1 != 0)?;
        self.skip(runs * 4)?;
        self.skip(extension)?;
        Some(u32::from(chars))
    }

    /// Skips `left` characters of one byte each, or two when `wide` is set.
    /// A string that goes on in a CONTINUE record restates its width there.
    fn characters(&mut self, mut left: usize, mut wide: bool) -> Option<()> {
        while left > 0 {
            let width = if wide { 2 } else { 1 };
            let count = (self.data.len() / width).min(left);
            self.data = self.data.get(count * width..)?;
            left -= count;
            if left > 0 {
                if !self.next_piece() {
                    return None;
                }
                wide = self.take(1)?[0] & 0x1 != 0;
            }
        }
        Some(())
    }
}

/// Allocations `calamine` makes for one sheet.
#[derive(Debug, Default)]
pub(super) struct SheetUsage {
    /// Bytes of the sheet's substream, up to and including its EOF.
    pub len: usize,
    /// Cells of the dense grid of values.
    pub value_cells: u64,
    /// Cells of the dense grid of formulas.
    pub formula_cells: u64,
    /// Largest number of cells a DIMENSIONS record claims.
    pub claimed_cells: u64,
    /// Estimated bytes of cell text.
    pub text_bytes: u64,
}

/// Scans the sheet at the start of `sheet` as `calamine` loads it, and
/// empties the token list of each FORMULA record on the way (see
/// [`clear_tokens`]).
pub(super) fn scan_sheet(sheet: &mut [u8], globals: &Globals) -> SheetUsage {
    let mut scan = SheetScan {
        bytes_per_char: globals.bytes_per_char,
        ..SheetScan::default()
    };
    let mut formulas = Vec::new();
    let mut records = Records::new(sheet);
    for record in records.by_ref() {
        if scan.nested > 0 {
            match record.kind {
                BOF => scan.nested += 1,
                EOF => scan.nested -= 1,
                _ => {}
            }
            continue;
        }
        if record.kind == EOF {
            break;
        }
        if record.kind == FORMULA {
            formulas.push(record.at);
        }
        scan.add(&record, globals);
    }
    let len = records.consumed();
    for at in formulas {
        clear_tokens(sheet, at);
    }
    scan.usage(len)
}

/// Sets to 0 the length of the token list (`cce`, bytes 20 and 21) of the
/// FORMULA record whose data starts at `at`. `calamine` turns every formula
/// into text and repeats a sheet or defined name of up to 255 characters
/// for each 5- to 11-byte token, so formulas can grow a hundredfold. The
/// importer reads only the cached values, at bytes 6 to 13.
fn clear_tokens(sheet: &mut [u8], at: usize) {
    if let Some(cce) = sheet.get_mut(at + 20..at + 22) {
        cce.fill(0);
    }
}

/// The counts of one sheet so far.
#[derive(Debug, Default)]
struct SheetScan {
    seen_bof: bool,
    /// Depth inside embedded substreams (charts), which `calamine` skips.
    nested: u32,
    values: Extent,
    formulas: Extent,
    /// Cell of the last FORMULA record, where a STRING record puts its
    /// value; `calamine` starts it at the first cell.
    formula_cell: (u32, u32),
    claimed_cells: u64,
    text_chars: u64,
    bytes_per_char: u64,
}

impl SheetScan {
    fn add(&mut self, record: &Record<'_>, globals: &Globals) {
        let data = record.data;
        let cell = position(data);
        match record.kind {
            BOF if self.seen_bof => self.nested += 1,
            BOF => self.seen_bof = true,
            DIMENSIONS => self.claimed_cells = self.claimed_cells.max(dimensions_cells(data)),
            FORMULA => {
                if let Some(cell) = cell {
                    self.formula_cell = cell;
                    self.values.add(cell);
                    self.formulas.add(cell);
                }
            }
            STRING => {
                self.values.add(self.formula_cell);
                self.add_chars(read_u16(data, 0));
            }
            LABEL | RSTRING => {
                self.values.add_some(cell);
                self.add_chars(read_u16(data, 6));
            }
            LABEL_SST => {
                self.values.add_some(cell);
                let index = read_u32(data, 6).map(|index| index as usize);
                let chars = index.and_then(|index| globals.shared_chars.get(index));
                self.text_chars = self
                    .text_chars
                    .saturating_add(chars.map_or(0, |&c| c.into()));
            }
            MULRK => self.add_number_run(data),
            kind if NUMBER_CELLS.contains(&kind) => self.values.add_some(cell),
            _ => {}
        }
    }

    fn add_chars(&mut self, chars: Option<u16>) {
        let chars = chars.map_or(0, u64::from);
        self.text_chars = self.text_chars.saturating_add(chars);
    }

    /// Adds the cells of a MULRK record: one for each 6 bytes between its
    /// first column and its last 2 bytes.
    fn add_number_run(&mut self, data: &[u8]) {
        let Some((row, first)) = position(data) else {
            return;
        };
        let count = data.len().saturating_sub(6).div_ceil(6) as u32;
        if count > 0 {
            self.values.add((row, first));
            self.values.add((row, first + count - 1));
        }
    }

    fn usage(&self, len: usize) -> SheetUsage {
        SheetUsage {
            len,
            value_cells: self.values.cells(),
            formula_cells: self.formulas.cells(),
            claimed_cells: self.claimed_cells,
            text_bytes: self.text_chars.saturating_mul(self.bytes_per_char),
        }
    }
}

/// Returns the row and column that open a cell record.
fn position(data: &[u8]) -> Option<(u32, u32)> {
    Some((read_u16(data, 0)?.into(), read_u16(data, 2)?.into()))
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

/// The bounding box of the cells of one grid.
#[derive(Debug, Default)]
struct Extent {
    /// First and last row and column, once a cell was seen.
    rows: Option<(u32, u32)>,
    columns: Option<(u32, u32)>,
}

impl Extent {
    fn add_some(&mut self, cell: Option<(u32, u32)>) {
        if let Some(cell) = cell {
            self.add(cell);
        }
    }

    fn add(&mut self, (row, column): (u32, u32)) {
        let widen = |range: Option<(u32, u32)>, value: u32| match range {
            Some((low, high)) => Some((low.min(value), high.max(value))),
            None => Some((value, value)),
        };
        self.rows = widen(self.rows, row);
        self.columns = widen(self.columns, column);
    }

    fn cells(&self) -> u64 {
        let span =
            |range: Option<(u32, u32)>| range.map_or(0, |(low, high)| u64::from(high - low) + 1);
        span(self.rows).saturating_mul(span(self.columns))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    fn cell(kind: u16, row: u16, column: u16, rest: &[u8]) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend_from_slice(&column.to_le_bytes());
        data.extend_from_slice(rest);
        record(kind, &data)
    }

    fn scan(records: &[Vec<u8>], globals: &Globals) -> (SheetUsage, Vec<u8>) {
        let mut sheet = [record(BOF, &[0; 16])].concat();
        sheet.extend(records.concat());
        sheet.extend(record(EOF, &[]));
        let usage = scan_sheet(&mut sheet, globals);
        (usage, sheet)
    }

    fn globals() -> Globals {
        Globals {
            bytes_per_char: 3,
            ..Globals::default()
        }
    }

    #[test]
    fn extent_spans_opposite_corners() {
        let far = cell(0x0203, 65_535, 255, &[0; 10]);
        let (usage, _) = scan(&[cell(0x0203, 0, 0, &[0; 10]), far], &globals());
        assert_eq!(usage.value_cells, 65_536 * 256);
        assert_eq!(usage.formula_cells, 0);
    }

    #[test]
    fn blank_cells_are_not_counted() {
        let blank = cell(0x0201, 9, 9, &[0; 2]);
        let (usage, _) = scan(&[cell(0x0203, 0, 0, &[0; 10]), blank], &globals());
        assert_eq!(usage.value_cells, 1);
    }

    #[test]
    fn string_before_formula_lands_on_first_cell() {
        let string = record(STRING, &[2, 0, 0, b'a', b'b']);
        let (usage, _) = scan(&[cell(0x0203, 99, 9, &[0; 10]), string], &globals());
        assert_eq!(usage.value_cells, 100 * 10);
        assert_eq!(usage.text_bytes, 6);
    }

    #[test]
    fn multiple_rk_reaches_past_column_limit() {
        let mut data = vec![0; 6 * 3];
        data.extend_from_slice(&0_u16.to_le_bytes());
        let run = cell(MULRK, 0, 65_535, &data);
        let (usage, _) = scan(&[run], &globals());
        assert_eq!(usage.value_cells, 3);
    }

    #[test]
    fn shared_string_cells_count_their_string() {
        let mut globals = globals();
        globals.shared_chars = vec![5, 40_000];
        let sst_cell = |index: u32| {
            cell(
                LABEL_SST,
                0,
                0,
                &[&[0, 0][..], &index.to_le_bytes()].concat(),
            )
        };
        let cells = [sst_cell(1), sst_cell(1), sst_cell(0), sst_cell(7)];
        let (usage, _) = scan(&cells, &globals);
        assert_eq!(usage.text_bytes, (40_000 * 2 + 5) * 3);
    }

    #[test]
    fn formula_tokens_are_cleared() {
        let mut data = vec![0; 16];
        data.extend_from_slice(&3_u16.to_le_bytes());
        data.extend_from_slice(&[0x1E, 1, 0]);
        let (usage, sheet) = scan(&[cell(FORMULA, 4, 2, &data)], &globals());
        assert_eq!(usage.formula_cells, 1);
        let formula = &sheet[20..];
        assert_eq!(read_u16(formula, 0), Some(FORMULA));
        assert_eq!(read_u16(formula, 4 + 20), Some(0));
        assert_eq!(formula[4 + 22], 0x1E);
    }

    #[test]
    fn embedded_chart_is_skipped() {
        let chart = [
            record(BOF, &[0; 16]),
            cell(0x0203, 60_000, 200, &[0; 10]),
            record(EOF, &[]),
        ];
        let (usage, _) = scan(&[cell(0x0203, 0, 0, &[0; 10]), chart.concat()], &globals());
        assert_eq!(usage.value_cells, 1);
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

    fn sst(strings: &[u8], continues: &[&[u8]]) -> Vec<u8> {
        let mut data = vec![0; 8];
        data.extend_from_slice(strings);
        let mut out = record(SST, &data);
        for piece in continues {
            out.extend(record(CONTINUE, piece));
        }
        out
    }

    #[test]
    fn shared_strings_across_continue() {
        // "abc" in bytes, then a 4-character wide string split after one
        // character, with one formatting run.
        let first = [&[3, 0, 0][..], b"abc", &[4, 0, 0x9, 1, 0], &[b'x', 0]].concat();
        let rest = [&[0x1][..], &[b'y', 0, b'z', 0, b'w', 0], &[0; 4]].concat();
        let stream = [sst(&first, &[&rest]), record(EOF, &[])].concat();
        let globals = Globals::read(&stream).expect("readable");
        assert_eq!(globals.shared_chars, vec![3, 4]);
        assert_eq!(globals.all_shared_chars, 7);
    }

    #[test]
    fn short_shared_string_fails_like_calamine() {
        let stream = [sst(&[9, 0, 0, b'a'], &[]), record(EOF, &[])].concat();
        assert_eq!(
            Globals::read(&stream).err(),
            Some(GlobalsError::SharedStrings)
        );
    }

    #[test]
    fn globals_stop_at_first_eof() {
        let sheet =
            |offset: u32| record(BOUNDSHEET, &[&offset.to_le_bytes()[..], &[0; 4]].concat());
        let stream = [
            record(BOF, &[0; 16]),
            sheet(100),
            record(CODEPAGE, &1252_u16.to_le_bytes()),
            record(EOF, &[]),
            sheet(200),
        ]
        .concat();
        let globals = Globals::read(&stream).expect("readable");
        assert_eq!(globals.sheet_offsets, vec![100]);
        assert_eq!(globals.bytes_per_char, 6);
        assert_eq!(globals.len, 20 + 12 + 6 + 4);
    }
}
