//! Fuzz target for workbooks. The first byte chooses how the rest is used,
//! so that mutations reach the XML and record parsers instead of failing
//! the zip checksums:
//!
//! - 0: the rest is a whole file named `fuzz.xlsx`;
//! - 1: the rest is the XML of the only sheet of a well-formed XLSX;
//! - 2: the rest is `content.xml` of a well-formed ODS;
//! - 3: the rest is a whole file named `fuzz.xls`.

#![no_main]

use std::io::{Cursor, Write as _};

use customer_importer::progress::Progress;
use customer_importer::source::{self, ReadOptions};
use libfuzzer_sys::fuzz_target;

/// Replaces the panic hook of `libfuzzer-sys`, which aborts on every
/// panic, with one that prints a single line. The reader catches panics
/// inside `calamine` and reports a damaged workbook, and those caught
/// panics must not end the run. A panic that escapes the reader still
/// aborts, because `libfuzzer-sys` also catches it at the target's edge.
fn print_panics_briefly() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    });
}

fuzz_target!(|data: &[u8]| {
    print_panics_briefly();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (bytes, name) = match mode % 4 {
        0 => (rest.to_vec(), "fuzz.xlsx"),
        1 => (xlsx_around(rest), "fuzz.xlsx"),
        2 => (ods_around(rest), "fuzz.ods"),
        _ => (rest.to_vec(), "fuzz.xls"),
    };
    if let Err(error) = source::read_bytes(&bytes, name, &ReadOptions::default(), &Progress::new())
    {
        assert!(!error.user_message().is_empty());
    }
});

/// Builds a zip from `(name, content)` entries, stored uncompressed.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        if zip.start_file(*name, options).is_err() || zip.write_all(content).is_err() {
            return Vec::new();
        }
    }
    zip.finish().map(Cursor::into_inner).unwrap_or_default()
}

fn xlsx_around(sheet: &[u8]) -> Vec<u8> {
    zip(&[
        (
            "[Content_Types].xml",
            br#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ])
}

fn ods_around(content: &[u8]) -> Vec<u8> {
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        (
            "META-INF/manifest.xml",
            br#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
        ),
        ("content.xml", content),
    ])
}
