//! Reading delimited text (CSV, TSV, semicolon or pipe separated) in one
//! streaming pass. Bytes are hashed and counted as they are read, then
//! decoded to UTF-8 when needed and split into records by the `csv` crate.
//! Each record is numbered as a spreadsheet program numbers rows and handed
//! to the [`TableBuilder`].

use std::io::{self, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use encoding_rs_io::DecodeReaderBytesBuilder;
use sha2::{Digest as _, Sha256};

use super::Input;
use super::detect::{self, TextEncoding};
use super::error::SourceError;
use super::layout::{self, RawTable, TableBuilder};
use crate::progress::Progress;

/// Records between two checks of the cancel flag (the byte reader checks
/// it too, on every read).
const CANCEL_CHECK_RECORDS: u64 = 4096;

/// A text file read into rows, with what was detected about it.
#[derive(Debug)]
pub(super) struct TextRead {
    /// `None` when every row is blank.
    pub raw: Option<RawTable>,
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub fingerprint: String,
}

/// The reason one pass over the file ended early.
enum PassError {
    /// A record is not valid UTF-8: read again as Windows-1252.
    NotUtf8,
    Fatal(SourceError),
}

/// Reads a text file whose first bytes are `head`. `complete` is true when
/// `head` is the whole file.
pub(super) fn read_text(
    input: &Input<'_>,
    head: &[u8],
    complete: bool,
    progress: &Progress,
) -> Result<TextRead, SourceError> {
    let path = input.path();
    let detected = detect::text_encoding(head);
    let sample = detect::decode_sample(head, detected, complete);
    if sample.contains('\0') {
        return Err(binary_data(path));
    }
    if let Some(kind) = detect::markup_kind(&sample) {
        return Err(SourceError::Unsupported {
            path: path.to_owned(),
            kind,
        });
    }
    let delimiter = detect::sniff_delimiter(&sample);
    // Classic Mac OS line ends: a lone CR ends each line.
    let cr_line_ends = sample.contains('\r') && !sample.contains('\n');
    let pass = Pass {
        input,
        delimiter,
        cr_line_ends,
        progress,
    };
    match pass.run(detected) {
        Err(PassError::NotUtf8) => {
            tracing::debug!(
                file = %path.display(),
                "text is not valid UTF-8 past the sample; reading again as Windows-1252"
            );
            let fallback = TextEncoding {
                encoding: WINDOWS_1252,
                ..detected
            };
            pass.run(fallback).map_err(|error| match error {
                PassError::NotUtf8 => binary_data(path),
                PassError::Fatal(error) => error,
            })
        }
        Err(PassError::Fatal(error)) => Err(error),
        Ok(read) => Ok(read),
    }
}

fn binary_data(path: &Path) -> SourceError {
    SourceError::NotSpreadsheet {
        path: path.to_owned(),
        kind: "binary data",
    }
}

/// The settings of a pass over the file; a pass may be repeated with
/// another encoding.
struct Pass<'a> {
    input: &'a Input<'a>,
    delimiter: u8,
    cr_line_ends: bool,
    progress: &'a Progress,
}

impl Pass<'_> {
    fn run(&self, encoding: TextEncoding) -> Result<TextRead, PassError> {
        let path = self.input.path();
        let fatal = |error| PassError::Fatal(error);
        self.progress.set_done(0);
        let mut hasher = Sha256::new();
        let raw = {
            let source = self.input.open().map_err(fatal)?;
            let mut tap = Tap {
                inner: source,
                hasher: &mut hasher,
                progress: self.progress,
            };
            let mut bom = [0_u8; 3];
            let bom = &mut bom[..encoding.bom_len.min(3)];
            tap.read_exact(bom)
                .map_err(|error| fatal(io_error(path, error, self.progress)))?;
            let decoded = decoder(tap, encoding.encoding);
            let decoded: Box<dyn Read + '_> = if self.cr_line_ends {
                Box::new(CrToLf(decoded))
            } else {
                decoded
            };
            self.parse(TrailingNewline::new(decoded), encoding.encoding)?
        };
        Ok(TextRead {
            raw,
            encoding: encoding.encoding,
            delimiter: self.delimiter,
            fingerprint: hex(&hasher.finalize()),
        })
    }

    /// Splits the decoded stream into records and feeds them to a
    /// [`TableBuilder`]. Fails with [`SourceError::UnclosedQuote`] when a
    /// quoted cell is still open at the end of the stream.
    fn parse<R: Read>(
        &self,
        decoded: TrailingNewline<R>,
        encoding: &'static Encoding,
    ) -> Result<Option<RawTable>, PassError> {
        let path = self.input.path();
        let mut reader = self.csv_reader(decoded);
        let mut builder = TableBuilder::new();
        let mut record = csv::StringRecord::new();
        let mut rows = RowCounter::default();
        let mut scratch = String::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => return Err(self.csv_error(error, encoding)),
            }
            if record.as_byte_record().as_slice().contains(&0) {
                return Err(PassError::Fatal(binary_data(path)));
            }
            // The stream ends with a line feed, so only a quoted cell left
            // open can make a record end at the end of the stream instead.
            let quote_open = reader.get_ref().is_exhausted();
            let row = rows.row(&record, reader.position().line(), quote_open);
            if quote_open {
                return Err(PassError::Fatal(unclosed_quote(
                    path, row, &record, builder,
                )));
            }
            strip_carriage_return(&mut record, &mut scratch);
            builder
                .push(row, &record)
                .map_err(|overflow| PassError::Fatal(super::overflow_error(path, overflow)))?;
            if rows.records % CANCEL_CHECK_RECORDS == 0 && self.progress.is_cancelled() {
                return Err(PassError::Fatal(cancelled(path)));
            }
        }
        Ok(builder.finish())
    }

    fn csv_reader<R: Read>(&self, decoded: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(64 * 1024)
            .from_reader(decoded)
    }

    fn csv_error(&self, error: csv::Error, encoding: &'static Encoding) -> PassError {
        let path = self.input.path();
        match error.into_kind() {
            csv::ErrorKind::Utf8 { .. } if encoding == UTF_8 => PassError::NotUtf8,
            csv::ErrorKind::Io(error) => PassError::Fatal(io_error(path, error, self.progress)),
            other => PassError::Fatal(SourceError::Unreadable {
                path: path.to_owned(),
                source: io::Error::other(format!("{other:?}")),
            }),
        }
    }
}

/// Numbers records as a spreadsheet program numbers rows. The `csv` crate
/// skips empty lines without reporting them, so a record's row is found
/// from the line count after reading it. The line breaks inside quoted
/// cells so far are subtracted, because a record spanning lines is one
/// row, and so is the record's own line feed. Records end at line feeds
/// only (see [`strip_carriage_return`]) and the stream always ends with one
/// (see [`TrailingNewline`]), so every record has consumed its line feed,
/// except one whose quoted cell is still open at the end of the stream.
#[derive(Debug, Default)]
struct RowCounter {
    records: u64,
    /// Line breaks inside the cells of the records read so far.
    inner_breaks: u64,
    previous: u32,
}

impl RowCounter {
    /// Returns the row of `record`, given the reader's line number after
    /// reading it. `quote_open` is true when the record ended at the end of
    /// the stream inside a quoted cell, so that it has no line feed of its
    /// own.
    fn row(&mut self, record: &csv::StringRecord, end_line: u64, quote_open: bool) -> u32 {
        self.records += 1;
        let bytes = record.as_byte_record().as_slice();
        self.inner_breaks += bytes.iter().filter(|&&byte| byte == b'\n').count() as u64;
        let own_line_feed = u64::from(!quote_open);
        let row = end_line.saturating_sub(self.inner_breaks + own_line_feed);
        let row = u32::try_from(row)
            .unwrap_or(u32::MAX)
            .max(self.previous.saturating_add(1));
        self.previous = row;
        row
    }
}

/// Removes the carriage return of a CRLF line end from the last field. The
/// reader splits records at line feeds only, so that each record's line
/// feed is consumed with it and the row count stays exact.
fn strip_carriage_return(record: &mut csv::StringRecord, scratch: &mut String) {
    let Some(last) = record.len().checked_sub(1) else {
        return;
    };
    let Some(kept) = record.get(last).and_then(|field| field.strip_suffix('\r')) else {
        return;
    };
    scratch.clear();
    scratch.push_str(kept);
    record.truncate(last);
    record.push_field(scratch);
}

/// Builds the error for a quoted cell still open at the end of the file.
/// The open cell is the last of `record`, which starts on `row`. Its
/// column is named by the header chosen among the rows read before it, if
/// that header row is above `row`, its cell is not blank, and it has more
/// than one filled cell. The last condition keeps a report title line from
/// naming the column when the quote opens on the real header row below it.
fn unclosed_quote(
    path: &Path,
    row: u32,
    record: &csv::StringRecord,
    builder: TableBuilder,
) -> SourceError {
    let column = record.len().saturating_sub(1);
    let header = builder
        .finish()
        .and_then(|raw| raw.header)
        .filter(|header| header.row < row && header.len() > 1)
        .map(|header| layout::clean_header(header.get(column)))
        .filter(|name| !name.is_empty());
    SourceError::UnclosedQuote {
        path: path.to_owned(),
        row,
        column,
        header,
    }
}

fn decoder<'a>(source: impl Read + 'a, encoding: &'static Encoding) -> Box<dyn Read + 'a> {
    if encoding == UTF_8 {
        // The csv crate checks UTF-8 itself when it builds each record.
        Box::new(source)
    } else {
        Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .build(source),
        )
    }
}

fn io_error(path: &Path, error: io::Error, progress: &Progress) -> SourceError {
    if progress.is_cancelled() {
        cancelled(path)
    } else {
        SourceError::Unreadable {
            path: path.to_owned(),
            source: error,
        }
    }
}

fn cancelled(path: &Path) -> SourceError {
    SourceError::Cancelled {
        path: path.to_owned(),
    }
}

/// Passes bytes through while hashing them, counting them on the progress
/// handle, and failing the read once the handle is cancelled.
struct Tap<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
    progress: &'a Progress,
}

impl<R: Read> Read for Tap<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.progress.is_cancelled() {
            return Err(io::Error::other("reading was cancelled"));
        }
        let count = self.inner.read(buf)?;
        let read = buf.get(..count).unwrap_or_default();
        self.hasher.update(read);
        self.progress.add_done(count as u64);
        Ok(count)
    }
}

/// Turns lone carriage returns into line feeds, for files from classic
/// Mac OS; the `csv` crate counts lines by line feeds only.
struct CrToLf<R>(R);

impl<R: Read> Read for CrToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.0.read(buf)?;
        for byte in buf.iter_mut().take(count) {
            if *byte == b'\r' {
                *byte = b'\n';
            }
        }
        Ok(count)
    }
}

/// Adds a line feed at the end of a stream that does not end with one, so
/// that the last record is terminated like the others.
struct TrailingNewline<R> {
    inner: R,
    last: Option<u8>,
    /// Set once `inner` has reported the end of its stream.
    finished: bool,
    /// Set once this reader has reported the end of its stream.
    exhausted: bool,
}

impl<R> TrailingNewline<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            last: None,
            finished: false,
            exhausted: false,
        }
    }

    /// Returns whether a read has returned 0 bytes for a non-empty buffer.
    /// The `csv` reader (csv 1.4 on csv-core 0.1.13) returns a record that
    /// ends with a line feed as soon as it has consumed that line feed,
    /// without reading further. So a record returned after this point ended
    /// inside a quoted cell.
    fn is_exhausted(&self) -> bool {
        self.exhausted
    }
}

impl<R: Read> TrailingNewline<R> {
    fn read_with_line_feed(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished {
            return Ok(0);
        }
        let count = self.inner.read(buf)?;
        if let Some(&last) = buf.get(..count).and_then(<[u8]>::last) {
            self.last = Some(last);
            return Ok(count);
        }
        self.finished = true;
        match (self.last, buf.first_mut()) {
            (Some(last), Some(first)) if last != b'\n' => {
                *first = b'\n';
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl<R: Read> Read for TrailingNewline<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let count = self.read_with_line_feed(buf)?;
        if count == 0 {
            self.exhausted = true;
        }
        Ok(count)
    }
}

/// Formats bytes as lowercase hexadecimal.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        write!(out, "{byte:02x}").ok();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<u32> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(TrailingNewline::new(text.as_bytes()));
        let mut counter = RowCounter::default();
        let mut record = csv::StringRecord::new();
        let mut out = Vec::new();
        while reader.read_record(&mut record).expect("valid csv") {
            let quote_open = reader.get_ref().is_exhausted();
            out.push(counter.row(&record, reader.position().line(), quote_open));
        }
        out
    }

    #[test]
    fn rows_count_blank_lines() {
        // The CRLF line is a record with one blank cell, left out later.
        assert_eq!(rows("a,b\n\n1,2\n\r\n3,4\n"), [1, 3, 4, 5]);
    }

    #[test]
    fn rows_count_multiline_record_once() {
        let text = "a,b\n1,\"x\ny\nz\"\n2,\"p\r\nq\"\n3,r\n";
        assert_eq!(rows(text), [1, 2, 3, 4]);
    }

    #[test]
    fn rows_after_title_lines() {
        assert_eq!(
            rows("Title\nSub\n\"As of 1, 2\"\n\na,b\n1,2"),
            [1, 2, 3, 5, 6]
        );
    }

    #[test]
    fn rows_with_crlf_and_blank_lines() {
        assert_eq!(rows("a,b\r\n\r\n1,2\r\n,\r\n3,4\r\n"), [1, 2, 3, 4, 5]);
        assert_eq!(rows("a,b\r\n\r\n\r\n1,2"), [1, 2, 3, 4]);
        assert_eq!(rows("a\n\n\nb"), [1, 4]);
    }

    #[test]
    fn rows_with_unclosed_quote() {
        assert_eq!(rows("a,b\r\n1,2\r\n3,\"x\r\ny"), [1, 2, 3]);
        assert_eq!(rows("a,b\n\n1,\"x\ny\n\nz\n"), [1, 3]);
        assert_eq!(rows("\"a,b\n1,2\n"), [1]);
    }

    /// Returns, for each record, whether it ended inside an open quote.
    /// Small buffers put a line feed at the end of a buffer, where the
    /// `csv` reader must not need the next read to finish the record.
    fn open_at_end(text: &str) -> Vec<bool> {
        let read_with = |capacity: usize| {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .buffer_capacity(capacity)
                .from_reader(TrailingNewline::new(text.as_bytes()));
            let mut record = csv::StringRecord::new();
            let mut out = Vec::new();
            while reader.read_record(&mut record).expect("valid csv") {
                out.push(reader.get_ref().is_exhausted());
            }
            out
        };
        let expected = read_with(64 * 1024);
        for capacity in 1..=8 {
            assert_eq!(read_with(capacity), expected, "buffer of {capacity} bytes");
        }
        expected
    }

    #[test]
    fn open_quote_detected_only_at_end() {
        assert_eq!(open_at_end("a,b\n1,2\n"), [false, false]);
        assert_eq!(open_at_end("a,b\n1,2"), [false, false]);
        assert_eq!(open_at_end("a,\"b\n\"\n1,\"x\n\""), [false, false]);
        assert_eq!(open_at_end("a,b\n1,\"x\n2,y\n"), [false, true]);
        assert_eq!(open_at_end("a,b\n1,\"x\"\"\n"), [false, true]);
        assert_eq!(open_at_end("a,b\n1,\"x"), [false, true]);
        assert_eq!(open_at_end("\"a,b\n1,2\r\n"), [true]);
    }

    #[test]
    fn trailing_newline_added_once() {
        let read = |text: &str| {
            let mut out = String::new();
            TrailingNewline::new(text.as_bytes())
                .read_to_string(&mut out)
                .expect("in memory");
            out
        };
        assert_eq!(read("a,b"), "a,b\n");
        assert_eq!(read("a,b\n"), "a,b\n");
        assert_eq!(read(""), "");
    }

    #[test]
    fn carriage_return_is_stripped() {
        let mut record = csv::StringRecord::from(vec!["a", "b\r"]);
        strip_carriage_return(&mut record, &mut String::new());
        assert_eq!(record, csv::StringRecord::from(vec!["a", "b"]));
        let mut empty = csv::StringRecord::new();
        strip_carriage_return(&mut empty, &mut String::new());
        assert!(empty.is_empty());
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn cr_line_ends_become_line_feeds() {
        let mut out = String::new();
        CrToLf("a,b\r1,2\r".as_bytes())
            .read_to_string(&mut out)
            .expect("in memory");
        assert_eq!(out, "a,b\n1,2\n");
    }
}
