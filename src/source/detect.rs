//! Content sniffing: what kind of file the first bytes belong to, which
//! text encoding a text file uses, and which delimiter separates its
//! fields. The file name is never trusted for any of these.

use std::io::{Cursor, Read};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// Number of bytes read from the start of a file to sniff it.
pub(super) const HEAD_LEN: usize = 64 * 1024;

const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";
const OLE_SIGNATURE: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

/// The kind of file that its first bytes indicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sniffed {
    /// A zip container: XLSX, ODS or something else, see [`classify_zip`].
    Zip,
    /// An OLE2 compound file: XLS, an encrypted Office file or something
    /// else, see [`classify_ole`].
    Ole,
    /// A known binary format, named with its article.
    Binary(&'static str),
    /// Text in an encoding the importer does not decode.
    UnsupportedText(&'static str),
    /// Anything else is read as delimited text.
    Text,
}

/// The kind of document inside a zip or OLE2 container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Xlsx,
    Xls,
    Ods,
    /// A container of another kind, named with its article.
    Other(&'static str),
    /// A spreadsheet format the importer does not read, with its article.
    Unsupported(&'static str),
    PasswordProtected,
    Damaged,
}

/// Binary signatures at the start of a file, with the kind they name.
const SIGNATURES: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
    (b"\x7fELF", "a Linux program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"SQLite format 3\x00", "an SQLite database"),
];

/// Classifies a file by its first bytes (at most [`HEAD_LEN`]).
pub(super) fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(ZIP_SIGNATURE) {
        return Sniffed::Zip;
    }
    if head.starts_with(OLE_SIGNATURE) {
        return Sniffed::Ole;
    }
    if head.starts_with(b"\xff\xfe\x00\x00") || head.starts_with(b"\x00\x00\xfe\xff") {
        return Sniffed::UnsupportedText("UTF-32 text");
    }
    if let Some((_, kind)) = SIGNATURES
        .iter()
        .find(|(signature, _)| head.starts_with(signature))
    {
        return Sniffed::Binary(kind);
    }
    // These short signatures also start ordinary words, so a NUL byte must
    // follow closely for the file to count as binary.
    let early_nul = head.iter().take(64).any(|&byte| byte == 0);
    if early_nul {
        if head.starts_with(b"MZ") {
            return Sniffed::Binary("a Windows program");
        }
        if head.starts_with(b"ID3") {
            return Sniffed::Binary("an MP3 audio file");
        }
        if head.get(4..8) == Some(b"ftyp") {
            return Sniffed::Binary("a video file");
        }
    }
    if head.starts_with(b"RIFF") {
        match head.get(8..12) {
            Some(b"WEBP") => return Sniffed::Binary("a WebP image"),
            Some(b"WAVE") => return Sniffed::Binary("a WAV audio file"),
            Some(b"AVI ") => return Sniffed::Binary("a video file"),
            _ => {}
        }
    }
    Sniffed::Text
}

/// Lists the files in the zip container to tell an XLSX from an ODS,
/// another Office document, or a plain archive. A container that cannot be
/// opened is damaged.
pub(super) fn classify_zip(bytes: &[u8]) -> Container {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Container::Damaged;
    };
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.into_owned())
        .collect();
    let has = |prefix: &str| names.iter().any(|name| name.starts_with(prefix));
    if names.iter().any(|name| name == "[Content_Types].xml") {
        return if names.iter().any(|name| name == "xl/workbook.bin") {
            Container::Unsupported("an Excel binary workbook (.xlsb)")
        } else if has("xl/") {
            Container::Xlsx
        } else if has("word/") {
            Container::Other("a Word document")
        } else if has("ppt/") {
            Container::Other("a PowerPoint presentation")
        } else {
            Container::Other("an Office document")
        };
    }
    let Ok(file) = archive.by_name("mimetype") else {
        return Container::Other("a ZIP archive");
    };
    let mut mimetype = String::new();
    if file.take(128).read_to_string(&mut mimetype).is_err() {
        return Container::Damaged;
    }
    classify_opendocument(mimetype.trim())
}

fn classify_opendocument(mimetype: &str) -> Container {
    match mimetype.strip_prefix("application/vnd.oasis.opendocument.") {
        Some("spreadsheet") => Container::Ods,
        Some("spreadsheet-template") => {
            Container::Unsupported("an OpenDocument spreadsheet template (.ots)")
        }
        Some(kind) if kind.starts_with("text") => Container::Other("an OpenDocument text document"),
        Some(kind) if kind.starts_with("presentation") => {
            Container::Other("an OpenDocument presentation")
        }
        _ => Container::Other("a ZIP archive"),
    }
}

/// Returns whether a zip whose central directory cannot be read was meant
/// to be a workbook, judging by the name of its first entry. The name sits
/// in the local file header, which survives truncation.
pub(super) fn zip_looks_like_workbook(bytes: &[u8]) -> bool {
    let name_len = bytes
        .get(26..28)
        .map_or(0, |len| usize::from(u16::from_le_bytes([len[0], len[1]])));
    let name = bytes.get(30..30 + name_len).unwrap_or_default();
    [
        &b"[Content_Types].xml"[..],
        b"_rels/",
        b"docProps/",
        b"xl/",
        b"mimetype",
        b"META-INF/",
        b"content.xml",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

/// Looks inside an OLE2 compound file for the streams that tell an Excel
/// 97-2003 workbook from an encrypted Office file or another document.
pub(super) fn classify_ole(bytes: &[u8]) -> Container {
    let Ok(file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return Container::Damaged;
    };
    let names: Vec<String> = file
        .read_root_storage()
        .map(|entry| entry.name().to_owned())
        .collect();
    let has = |name: &str| names.iter().any(|entry| entry == name);
    if has("EncryptedPackage") || has("EncryptionInfo") {
        Container::PasswordProtected
    } else if has("Workbook") || has("Book") {
        Container::Xls
    } else if has("WordDocument") {
        Container::Other("a Word document")
    } else if has("PowerPoint Document") {
        Container::Other("a PowerPoint presentation")
    } else if names.iter().any(|name| name.starts_with("__substg1.0_")) {
        Container::Other("an Outlook message")
    } else {
        Container::Other("an Office file that is not a workbook")
    }
}

/// The encoding a text file was found to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TextEncoding {
    pub encoding: &'static Encoding,
    /// Length of the byte order mark to skip.
    pub bom_len: usize,
}

/// Detects the encoding from a byte order mark, from the NUL pattern of
/// UTF-16 without one, or from whether the bytes are valid UTF-8; anything
/// else is Windows-1252, the encoding of Excel's "CSV (Comma delimited)".
/// `head` is the start of the file, possibly cut in the middle of a
/// character. UTF-8 is only a guess until the whole file is read.
pub(super) fn text_encoding(head: &[u8]) -> TextEncoding {
    let found = |encoding, bom_len| TextEncoding { encoding, bom_len };
    if head.starts_with(b"\xef\xbb\xbf") {
        return found(UTF_8, 3);
    }
    if head.starts_with(b"\xff\xfe") {
        return found(UTF_16LE, 2);
    }
    if head.starts_with(b"\xfe\xff") {
        return found(UTF_16BE, 2);
    }
    if let Some(encoding) = utf16_without_bom(head) {
        return found(encoding, 0);
    }
    match std::str::from_utf8(head) {
        Ok(_) => found(UTF_8, 0),
        // A character cut at the end of the sample is no evidence against
        // UTF-8.
        Err(error) if error.error_len().is_none() => found(UTF_8, 0),
        Err(_) => found(WINDOWS_1252, 0),
    }
}

/// Recognises UTF-16 without a byte order mark by its zero bytes: text in
/// Latin script has a zero in every other byte, on the same side.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let sample = &head[..head.len().min(4096) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zeros_at = |offset: usize| {
        sample
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|&&byte| byte == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let mostly = |count: usize| count * 10 >= pairs * 3;
    let rarely = |count: usize| count * 20 <= pairs;
    if mostly(odd) && rarely(even) {
        Some(UTF_16LE)
    } else if mostly(even) && rarely(odd) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Decodes the sniffed start of a file for delimiter detection, replacing
/// invalid sequences, and drops the last line when the sample was cut.
pub(super) fn decode_sample(head: &[u8], encoding: TextEncoding, complete: bool) -> String {
    let body = head.get(encoding.bom_len..).unwrap_or_default();
    let (text, _) = encoding.encoding.decode_without_bom_handling(body);
    let mut text = text.into_owned();
    if !complete && let Some(end) = text.rfind('\n') {
        text.truncate(end + 1);
    }
    text
}

/// If decoded text is really a web page or an Excel 2003 XML file saved
/// with a spreadsheet name, names it.
pub(super) fn markup_kind(sample: &str) -> Option<&'static str> {
    let start: String = sample
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .chars()
        .take(512)
        .collect::<String>()
        .to_lowercase();
    if start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || start.starts_with("<table")
    {
        Some("a web page (HTML) saved under a spreadsheet name")
    } else if start.starts_with("<?xml")
        && sample.contains("urn:schemas-microsoft-com:office:spreadsheet")
    {
        Some("an Excel 2003 XML spreadsheet")
    } else {
        None
    }
}

/// Delimiters tried, in order of preference when they fit equally well.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Chooses the delimiter that splits the sample into the most consistent
/// field counts, with quotes honoured so that delimiters inside quoted
/// cells do not count. For each candidate, the most common field count
/// above one is found. The candidate whose count covers the largest share
/// of records wins. On a tie, the one that makes more fields wins. A
/// sample that no candidate splits is read with commas.
pub(super) fn sniff_delimiter(sample: &str) -> u8 {
    let mut best = (b',', 0.0_f64, 0_usize);
    for delimiter in DELIMITERS {
        let Some((share, fields)) = consistency(sample, delimiter) else {
            continue;
        };
        let better = share > best.1 + 1e-9 || ((share - best.1).abs() <= 1e-9 && fields > best.2);
        if better {
            best = (delimiter, share, fields);
        }
    }
    best.0
}

/// Returns the share of records that have the most common field count
/// (among counts above one), and that count. Returns `None` when no record
/// has more than one field. Trailing empty fields are not counted, so
/// ragged rows that only lack empty cells still agree.
fn consistency(sample: &str, delimiter: u8) -> Option<(f64, usize)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(sample.as_bytes());
    let mut counts: Vec<usize> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        let filled = record
            .iter()
            .rposition(|field| !field.iter().all(u8::is_ascii_whitespace))
            .map_or(0, |last| last + 1);
        counts.push(filled.max(1));
    }
    let mut tally: Vec<(usize, usize)> = Vec::new();
    for &count in counts.iter().filter(|&&count| count > 1) {
        match tally.iter_mut().find(|(fields, _)| *fields == count) {
            Some(entry) => entry.1 += 1,
            None => tally.push((count, 1)),
        }
    }
    let (fields, hits) = tally
        .into_iter()
        .max_by_key(|&(fields, hits)| (hits, fields))?;
    Some((hits as f64 / counts.len() as f64, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_known_signatures() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Sniffed::Binary("a PNG image")
        );
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Binary("a PDF document"));
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(OLE_SIGNATURE), Sniffed::Ole);
        assert_eq!(
            sniff(b"MZ\x90\x00\x03\x00"),
            Sniffed::Binary("a Windows program")
        );
    }

    #[test]
    fn sniff_text_that_starts_like_signature() {
        assert_eq!(sniff(b"MZ Smith,mz@example.com\n"), Sniffed::Text);
        assert_eq!(sniff(b"ID3,Name\n1,Ana\n"), Sniffed::Text);
        assert_eq!(sniff(b"First Name,Email\n"), Sniffed::Text);
    }

    #[test]
    fn encoding_from_bom() {
        assert_eq!(text_encoding(b"\xef\xbb\xbfa,b").encoding, UTF_8);
        assert_eq!(text_encoding(b"\xef\xbb\xbfa,b").bom_len, 3);
        assert_eq!(text_encoding(b"\xff\xfea\0").encoding, UTF_16LE);
        assert_eq!(text_encoding(b"\xfe\xff\0a").encoding, UTF_16BE);
    }

    #[test]
    fn encoding_without_bom() {
        assert_eq!(text_encoding("Zoë,Brontë\n".as_bytes()).encoding, UTF_8);
        assert_eq!(text_encoding(b"Zo\xeb,Bront\xeb\n").encoding, WINDOWS_1252);
        // A two-byte character cut by the end of the sample.
        assert_eq!(text_encoding(b"Name,Zo\xc3").encoding, UTF_8);
        let utf16: Vec<u8> = "Name\tEmail\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(text_encoding(&utf16).encoding, UTF_16LE);
        assert_eq!(text_encoding(&utf16).bom_len, 0);
    }

    #[test]
    fn delimiter_semicolon_with_decimal_commas() {
        let sample = "Vorname;Nachname;E-Mail;Telefon;Umsatz\r\n\
                      Jonas;Weber;j@example.com;+1 416 555 0142;1.234,50\r\n\
                      Lena;Fischer;l@example.net;;99,90\r\n\
                      Marie;Schulz;;(416) 555-0143;12.000,00\r\n";
        assert_eq!(sniff_delimiter(sample), b';');
    }

    #[test]
    fn delimiter_ignores_quoted_commas() {
        let sample = "Name;Phone;City;Note\r\n\
                      \"Smith, Ana\";313-555-0101;Detroit;\r\n\
                      \"Lee, Bo\";313-555-0102;Detroit\r\n\
                      \"Diaz, Cy\";313-555-0103;Detroit;call after 5\r\n";
        assert_eq!(sniff_delimiter(sample), b';');
    }

    #[test]
    fn delimiter_tab_and_pipe() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("a|b|c\n1|2|3\n"), b'|');
        assert_eq!(sniff_delimiter("Email\nana@example.com\n"), b',');
    }

    #[test]
    fn delimiter_with_title_lines() {
        let sample = "Lakeside Florist LLC\r\n\"As of October 1, 2024\"\r\n\r\n\
                      Customer,Phone,Email\r\n\"Reyes, Camila\",313,c@example.com\r\n";
        assert_eq!(sniff_delimiter(sample), b',');
    }

    #[test]
    fn markup_is_recognised() {
        assert!(markup_kind("  <!DOCTYPE html><html>").is_some());
        assert!(markup_kind("<table><tr><td>").is_some());
        assert!(markup_kind("Name,Email\n").is_none());
    }

    #[test]
    fn opendocument_mimetypes() {
        assert_eq!(
            classify_opendocument("application/vnd.oasis.opendocument.spreadsheet"),
            Container::Ods
        );
        assert_eq!(
            classify_opendocument("application/vnd.oasis.opendocument.text"),
            Container::Other("an OpenDocument text document")
        );
    }

    #[test]
    fn truncated_zip_named_by_first_entry() {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(&[0; 22]);
        bytes.extend_from_slice(&16u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 2]);
        bytes.extend_from_slice(b"docProps/app.xml");
        assert!(zip_looks_like_workbook(&bytes));
        assert!(!zip_looks_like_workbook(b"PK\x03\x04"));
    }
}
