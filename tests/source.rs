//! Reading the handed sample files and hand-made hard cases with
//! `source::read`. Every sample is checked for its header row, headers and
//! data row numbers. Other tests cover detected encodings and delimiters,
//! file-level errors with their exact user messages, workbook cell text,
//! sheet choice and the row limit.

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};

use customer_importer::progress::Progress;
use customer_importer::source::{self, MAX_ROWS, ReadOptions, SourceError, clean_header};
use customer_importer::table::{SourceFormat, Table};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// One entry of a `manifest.json` beside the samples.
#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    expected: Option<String>,
    sheet: Option<String>,
    header_row: Option<u32>,
    #[serde(default)]
    header: Vec<String>,
    expect_error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExpectedRow {
    row: u32,
}

fn sample_dirs() -> [PathBuf; 2] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    [root.join("fixtures"), root.join("cases")]
}

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn manifest(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest is readable");
    serde_json::from_str(&text).expect("manifest is valid JSON")
}

fn expected_rows(path: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(path).expect("expected file is readable");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<ExpectedRow>(line)
                .expect("expected line has a row")
                .row
        })
        .collect()
}

fn read(path: &Path) -> Result<Table, SourceError> {
    source::read(path, &ReadOptions::default(), &Progress::new())
}

fn read_ok(path: &Path) -> Table {
    read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn read_err(path: &Path) -> SourceError {
    match read(path) {
        Ok(table) => panic!("{} read as {} records", path.display(), table.records.len()),
        Err(error) => error,
    }
}

fn bytes_err(bytes: &[u8], name: &str) -> SourceError {
    match source::read_bytes(bytes, name, &ReadOptions::default(), &Progress::new()) {
        Ok(table) => panic!("{name} read as {} records", table.records.len()),
        Err(error) => error,
    }
}

fn bytes_ok(bytes: &[u8], name: &str) -> Table {
    source::read_bytes(bytes, name, &ReadOptions::default(), &Progress::new())
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn column<'t>(table: &'t Table, header: &str) -> Vec<&'t str> {
    let index = table
        .headers
        .iter()
        .position(|name| name == header)
        .unwrap_or_else(|| panic!("no column {header:?} in {:?}", table.headers));
    table
        .records
        .iter()
        .map(|record| record.get(index))
        .collect()
}

#[test]
fn handed_files_header_and_data_rows() {
    let mut checked = 0;
    for dir in sample_dirs() {
        for entry in manifest(&dir) {
            let Some(expected) = &entry.expected else {
                continue;
            };
            let path = dir.join(&entry.file);
            let options = ReadOptions {
                sheet: entry.sheet.clone(),
            };
            let table = source::read(&path, &options, &Progress::new())
                .unwrap_or_else(|error| panic!("{}: {error}", entry.file));
            let rows: Vec<u32> = table.records.iter().map(|record| record.row).collect();
            let wanted_header: Vec<String> = entry.header.iter().map(|h| clean_header(h)).collect();
            assert_eq!(
                Some(table.header_row),
                entry.header_row,
                "{}: header row",
                entry.file
            );
            assert_eq!(table.headers, wanted_header, "{}: headers", entry.file);
            assert_eq!(
                rows,
                expected_rows(&dir.join(expected)),
                "{}: data rows",
                entry.file
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 38, "every handed file with expected rows was read");
}

#[test]
fn handed_file_level_errors() {
    let manifest = manifest(&sample_dirs()[1]);
    for name in ["empty.csv", "binary-renamed.csv", "truncated.xlsx"] {
        let entry = manifest
            .iter()
            .find(|entry| entry.file == name)
            .expect("case is in the manifest");
        let message = read_err(&case(name)).user_message();
        assert_eq!(Some(&message), entry.expect_error.as_ref(), "{name}");
    }
}

#[test]
fn million_rows_hit_row_limit() {
    let error = read_err(&case("million-rows.xlsx"));
    assert!(matches!(error, SourceError::TooManyRows { limit, .. } if limit == MAX_ROWS));
    let message = error.user_message();
    assert!(message.contains("200,000"), "{message}");
    assert!(message.contains("split"), "{message}");
}

#[test]
fn csv_row_limit() {
    let mut text = String::from("Name,Email\n");
    for index in 0..MAX_ROWS + 20 {
        text.push_str(&format!("N{index},n{index}@example.com\n"));
    }
    let error = bytes_err(text.as_bytes(), "big.csv");
    assert!(matches!(error, SourceError::TooManyRows { .. }), "{error}");
}

#[test]
fn encodings_and_delimiters_detected() {
    let cases = [
        (case("windows-1252.csv"), "windows-1252", b','),
        (case("utf16le-tab-renamed.csv"), "UTF-16LE", b'\t'),
        (case("bom-quoted-first-header.csv"), "UTF-8", b','),
        (case("semicolon-decimal-comma.csv"), "UTF-8", b';'),
        (case("ragged-semicolon.csv"), "UTF-8", b';'),
        (fixture("contacts-fr.csv"), "windows-1252", b';'),
        (fixture("contacts-unicode-text.txt"), "UTF-16LE", b'\t'),
        (fixture("outlook.csv"), "windows-1252", b','),
        (fixture("shopify-customers-legacy.csv"), "UTF-8", b','),
    ];
    for (path, encoding, delimiter) in cases {
        let table = read_ok(&path);
        let expected = SourceFormat::Csv {
            encoding: encoding.to_owned(),
            delimiter,
        };
        assert_eq!(table.source.format, expected, "{}", path.display());
    }
}

#[test]
fn windows_1252_names_decoded() {
    let table = read_ok(&case("windows-1252.csv"));
    let names = column(&table, "First Name");
    assert!(names.contains(&"José"), "{names:?}");
    assert!(names.contains(&"Zoë"), "{names:?}");
    assert!(names.contains(&"François"), "{names:?}");
}

#[test]
fn late_windows_1252_byte_rereads() {
    let mut bytes = b"Name,Email\r\n".to_vec();
    for index in 0..3000 {
        bytes.extend_from_slice(format!("Person {index},p{index}@example.com\r\n").as_bytes());
    }
    bytes.extend_from_slice(b"Jos\xe9,jose@example.com\r\n");
    assert!(bytes.len() > 64 * 1024);
    let table = bytes_ok(&bytes, "late.csv");
    let encoding = match &table.source.format {
        SourceFormat::Csv { encoding, .. } => encoding.clone(),
        other => panic!("read as {other:?}"),
    };
    assert_eq!(encoding, "windows-1252");
    assert_eq!(
        table.records.last().map(|record| record.get(0)),
        Some("José")
    );
    assert_eq!(table.records.len(), 3001);
}

#[test]
fn utf16_big_endian_without_bom() {
    let text = "Name\tEmail\r\nAna\tana@example.com\r\n";
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let table = bytes_ok(&bytes, "be.txt");
    assert_eq!(table.headers, ["Name", "Email"]);
    assert_eq!(column(&table, "Email"), ["ana@example.com"]);
}

#[test]
fn bom_before_quoted_header() {
    let table = read_ok(&case("bom-quoted-first-header.csv"));
    assert_eq!(table.headers.first().map(String::as_str), Some("Email"));
}

#[test]
fn decimal_commas_stay_whole() {
    let table = read_ok(&case("semicolon-decimal-comma.csv"));
    assert_eq!(column(&table, "Umsatz"), ["1.234,50", "99,90", "12.000,00"]);
}

#[test]
fn ragged_rows_padded_without_notes() {
    let table = read_ok(&case("ragged-trailing-commas.csv"));
    assert_eq!(table.headers, ["First Name", "Last Name", "Email", "Phone"]);
    assert_eq!(
        column(&table, "Phone"),
        ["313-555-0101", "", "313-555-0103"]
    );
    assert!(table.notes.is_empty(), "{:?}", table.notes);

    let table = read_ok(&case("ragged-semicolon.csv"));
    assert_eq!(column(&table, "Note"), ["", "", "call after 5"]);
    assert_eq!(column(&table, "Name")[0], "Smith, Ana");
}

#[test]
fn extra_filled_cells_get_note() {
    let table = bytes_ok(
        b"Name,Email\nAna,a@example.com,,VIP\nBo,b@example.com\n",
        "x.csv",
    );
    assert_eq!(table.headers, ["Name", "Email", "Column 4"]);
    assert_eq!(table.notes.len(), 1);
    assert_eq!(table.notes[0].row, 2);
}

#[test]
fn duplicate_headers_kept_by_position() {
    let table = read_ok(&case("duplicate-headers.csv"));
    assert_eq!(
        table.headers,
        ["Name", "Phone", "Phone", "Email", "Phone_1"]
    );
    assert_eq!(table.records[0].get(1), "313-555-0121");
    assert_eq!(table.records[0].get(2), "313-555-0122");
}

#[test]
fn quoted_line_breaks_stay_in_cell() {
    let table = read_ok(&case("quoted-newlines.csv"));
    let notes = column(&table, "Notes");
    assert!(notes[0].contains("Ring twice."), "{notes:?}");
    assert!(notes[1].contains("after 5 pm"), "{notes:?}");
}

#[test]
fn nbsp_and_zero_width_headers_cleaned() {
    let table = read_ok(&case("nbsp-and-zero-width.csv"));
    assert_eq!(table.headers, ["First Name", "Last Name", "Email", "Phone"]);
}

#[test]
fn report_title_and_total_skipped() {
    let table = read_ok(&case("report-title-and-total.csv"));
    assert_eq!(table.header_row, 5);
    assert_eq!(
        column(&table, "Customer"),
        ["Reyes, Camila", "Okafor, Ravi", "Old Client (deleted)"]
    );
}

#[test]
fn number_cells_read_as_digits() {
    let table = read_ok(&case("scientific-notation-phones-as-numbers.xlsx"));
    let mobiles = column(&table, "Mobile");
    assert_eq!(
        mobiles,
        [
            "3135550147",
            "13135550148",
            "3135550149",
            "3.13555E+09",
            "3135550150"
        ]
    );
    let table = read_ok(&case("leading-zeros-as-numbers.xlsx"));
    let cells: Vec<&str> = table.records.iter().flat_map(|r| r.cells()).collect();
    assert!(cells.contains(&"2079460123"), "{cells:?}");
    assert!(cells.contains(&"491570158"), "{cells:?}");
}

#[test]
fn xls_number_cells_read_as_digits() {
    let table = read_ok(&fixture("customers.xls"));
    assert_eq!(table.source.format, SourceFormat::Xls);
    let cells = column(&table, "Cell");
    assert!(
        cells
            .iter()
            .any(|cell| cell.len() == 10 && cell.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(cells.iter().all(|cell| !cell.ends_with(".0")), "{cells:?}");
}

#[test]
fn excel_dates_read_without_crash() {
    let table = read_ok(&case("excel-serial-birthdays.xlsx"));
    let birthdays = column(&table, "Birthday");
    assert_eq!(birthdays.len(), 6);
    assert_eq!(birthdays[0], "1990-07-04");
    assert_eq!(birthdays[2], "33058");
    assert_eq!(birthdays[3], "33058");
    assert_eq!(birthdays[4], "--04-14");
}

#[test]
fn inflated_used_range_reads_three_rows() {
    let table = read_ok(&case("inflated-used-range.xlsx"));
    assert_eq!(table.headers, ["First Name", "Last Name", "Email", "Phone"]);
    assert_eq!(table.records.len(), 3);
}

#[test]
fn customer_sheet_chosen_over_pivot() {
    let table = read_ok(&case("data-on-second-sheet.xlsx"));
    assert_eq!(table.source.sheet.as_deref(), Some("Customers"));
    assert_eq!(table.source.sheets.len(), 2);
    assert!(table.source.sheets.contains(&"Customers".to_owned()));
    assert_eq!(
        table.headers.first().map(String::as_str),
        Some("First Name")
    );
}

#[test]
fn unknown_sheet_lists_sheets() {
    let options = ReadOptions {
        sheet: Some("Clients".to_owned()),
    };
    let error = source::read(
        &case("data-on-second-sheet.xlsx"),
        &options,
        &Progress::new(),
    )
    .expect_err("no such sheet");
    let SourceError::SheetNotFound { sheets, .. } = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(sheets.len(), 2);
    assert!(error.user_message().contains("\u{201c}Customers\u{201d}"));
}

#[test]
fn formats_from_content_not_name() {
    assert_eq!(
        read_ok(&fixture("contacts.ods")).source.format,
        SourceFormat::Ods
    );
    assert_eq!(
        read_ok(&fixture("hubspot-contacts.xlsx")).source.format,
        SourceFormat::Xlsx
    );
    let bytes = std::fs::read(fixture("hubspot-contacts.xlsx")).expect("fixture");
    assert_eq!(
        bytes_ok(&bytes, "renamed.csv").source.format,
        SourceFormat::Xlsx
    );
}

#[test]
fn header_only_is_empty_table() {
    let table = read_ok(&case("header-only.csv"));
    assert_eq!(table.headers, ["First Name", "Last Name", "Email", "Phone"]);
    assert!(table.records.is_empty());
}

#[test]
fn blank_file_is_an_error() {
    let error = bytes_err(b" \r\n,,,\r\n\t\r\n", "blank.csv");
    assert!(matches!(error, SourceError::Blank { .. }), "{error}");
}

#[test]
fn nul_bytes_are_binary() {
    let error = bytes_err(b"Name,Email\nAna,\0\0\0\n", "nul.csv");
    assert_eq!(
        error.user_message(),
        "This file is not a spreadsheet or text file (it holds binary data); \
         export the customer list again as CSV or Excel."
    );
}

#[test]
fn html_export_is_unsupported() {
    let error = bytes_err(
        b"<html><body><table><tr><td>Name</td></tr></table>",
        "export.xls",
    );
    assert!(matches!(error, SourceError::Unsupported { .. }), "{error}");
}

#[test]
fn missing_file_is_unreadable() {
    let error = read_err(Path::new("/nonexistent/customers.csv"));
    assert!(matches!(error, SourceError::Unreadable { .. }), "{error}");
    assert!(error.user_message().starts_with("The file was not found"));
}

#[test]
fn cancelled_before_start() {
    let progress = Progress::new();
    progress.cancel();
    for path in [
        fixture("google-contacts.csv"),
        fixture("hubspot-contacts.xlsx"),
    ] {
        let error = source::read(&path, &ReadOptions::default(), &progress).expect_err("cancelled");
        assert!(matches!(error, SourceError::Cancelled { .. }), "{error}");
    }
}

#[test]
fn progress_counts_bytes_and_fingerprint() {
    let path = fixture("square-customers.csv");
    let bytes = std::fs::read(&path).expect("fixture");
    let progress = Progress::new();
    let table = source::read(&path, &ReadOptions::default(), &progress).expect("reads");
    assert_eq!(progress.done(), bytes.len() as u64);
    assert_eq!(progress.total(), bytes.len() as u64);
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(table.source.fingerprint, digest);
    let from_bytes = bytes_ok(&bytes, "square-customers.csv");
    assert_eq!(from_bytes.records, table.records);
    assert_eq!(from_bytes.source.fingerprint, digest);
}

/// Builds a zip archive from `(name, content)` entries.
fn zip_of<C: AsRef<[u8]>>(entries: &[(String, C)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in entries {
        zip.start_file(name.as_str(), options).expect("zip entry");
        zip.write_all(content.as_ref()).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}

const SPREADSHEET_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const PACKAGE_RELS_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOCUMENT_RELS_NS: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Builds a minimal XLSX with one sheet per `(name, sheet body)`; the body
/// is the XML inside `<worksheet>`.
fn xlsx(sheets: &[(&str, String)]) -> Vec<u8> {
    zip_of(&xlsx_entries(sheets))
}

/// Returns the zip entries of [`xlsx`], the sheets last.
fn xlsx_entries(sheets: &[(&str, String)]) -> Vec<(String, Vec<u8>)> {
    let numbers = 1..=sheets.len();
    let overrides: String = numbers
        .clone()
        .map(|n| {
            format!(
                "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/\
                 vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            )
        })
        .collect();
    let content_types = format!(
        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         {overrides}</Types>"
    );
    let package_rels = format!(
        "<Relationships xmlns=\"{PACKAGE_RELS_NS}\"><Relationship Id=\"rId1\" \
         Type=\"{DOCUMENT_RELS_NS}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
    );

    let sheet_entries: String = sheets
        .iter()
        .zip(numbers.clone())
        .map(|((name, _), n)| format!("<sheet name=\"{name}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>"))
        .collect();
    let workbook = format!(
        "<workbook xmlns=\"{SPREADSHEET_NS}\" xmlns:r=\"{DOCUMENT_RELS_NS}\">\
         <sheets>{sheet_entries}</sheets></workbook>"
    );
    let links: String = numbers
        .map(|n| {
            format!(
                "<Relationship Id=\"rId{n}\" Type=\"{DOCUMENT_RELS_NS}/worksheet\" \
                 Target=\"worksheets/sheet{n}.xml\"/>"
            )
        })
        .collect();
    let workbook_rels =
        format!("<Relationships xmlns=\"{PACKAGE_RELS_NS}\">{links}</Relationships>");

    let mut entries = vec![
        ("[Content_Types].xml".to_owned(), content_types.into_bytes()),
        ("_rels/.rels".to_owned(), package_rels.into_bytes()),
        ("xl/workbook.xml".to_owned(), workbook.into_bytes()),
        (
            "xl/_rels/workbook.xml.rels".to_owned(),
            workbook_rels.into_bytes(),
        ),
    ];
    for (index, (_, body)) in sheets.iter().enumerate() {
        let name = format!("xl/worksheets/sheet{}.xml", index + 1);
        let sheet = format!("<worksheet xmlns=\"{SPREADSHEET_NS}\">{body}</worksheet>");
        entries.push((name, sheet.into_bytes()));
    }
    entries
}

/// Returns a `<row>` of inline string cells starting at column A.
fn xlsx_row(row: u32, cells: &[&str]) -> String {
    let cells: String = cells
        .iter()
        .enumerate()
        .filter(|(_, text)| !text.is_empty())
        .map(|(index, text)| {
            let letter = char::from(b'A' + index as u8);
            format!("<c r=\"{letter}{row}\" t=\"inlineStr\"><is><t>{text}</t></is></c>")
        })
        .collect();
    format!("<row r=\"{row}\">{cells}</row>")
}

#[test]
fn merged_cells_fill_down_in_data() {
    let rows = [
        xlsx_row(1, &["Company", "Name", "Email"]),
        xlsx_row(2, &["Acme", "Ana", "ana@example.com"]),
        xlsx_row(3, &["", "Bo", "bo@example.com"]),
        xlsx_row(4, &["Beta", "Cy", "cy@example.com"]),
    ]
    .concat();
    let body = format!(
        "<sheetData>{rows}</sheetData><mergeCells count=\"1\"><mergeCell ref=\"A2:A3\"/></mergeCells>"
    );
    let table = bytes_ok(&xlsx(&[("Sheet1", body)]), "merged.xlsx");
    assert_eq!(column(&table, "Company"), ["Acme", "Acme", "Beta"]);
}

#[test]
fn merged_title_above_header_skipped() {
    let rows = [
        xlsx_row(1, &["Customer list"]),
        xlsx_row(3, &["Name", "Email", "Phone"]),
        xlsx_row(4, &["Ana", "ana@example.com", "313-555-0101"]),
    ]
    .concat();
    let body = format!(
        "<sheetData>{rows}</sheetData><mergeCells count=\"1\"><mergeCell ref=\"A1:C2\"/></mergeCells>"
    );
    let table = bytes_ok(&xlsx(&[("Sheet1", body)]), "title.xlsx");
    assert_eq!(table.header_row, 3);
    assert_eq!(table.records.len(), 1);
}

#[test]
fn workbook_without_header_keeps_first_row() {
    let rows = [
        xlsx_row(1, &["Ana", "ana@example.com"]),
        xlsx_row(2, &["Bo", "bo@example.com"]),
    ]
    .concat();
    let table = bytes_ok(
        &xlsx(&[("Sheet1", format!("<sheetData>{rows}</sheetData>"))]),
        "x.xlsx",
    );
    assert_eq!(table.header_row, 0);
    assert_eq!(table.headers, ["Column 1", "Column 2"]);
    assert_eq!(table.records.len(), 2);
}

#[test]
fn blank_sheet_names_sheet() {
    let options = ReadOptions {
        sheet: Some("Empty".to_owned()),
    };
    let bytes = xlsx(&[("Empty", "<sheetData/>".to_owned())]);
    let error =
        source::read_bytes(&bytes, "x.xlsx", &options, &Progress::new()).expect_err("blank sheet");
    assert_eq!(
        error.user_message(),
        "The sheet \u{201c}Empty\u{201d} contains only blank rows; choose another sheet."
    );
}

#[test]
fn encrypted_workbook_asks_for_password_removal() {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("cfb");
    for name in ["/EncryptionInfo", "/EncryptedPackage"] {
        let mut stream = file.create_stream(name).expect("stream");
        stream.write_all(&[1; 600]).expect("write");
    }
    file.flush().expect("flush");
    let bytes = file.into_inner().into_inner();
    let error = bytes_err(&bytes, "locked.xlsx");
    assert!(
        matches!(error, SourceError::PasswordProtected { .. }),
        "{error}"
    );
    assert!(error.user_message().contains("password"));
}

#[test]
fn other_containers_named() {
    let plain = zip_of(&[("notes.txt".to_owned(), "hello".to_owned())]);
    let error = bytes_err(&plain, "customers.csv");
    assert!(
        error.user_message().contains("(it holds a ZIP archive)"),
        "{error}"
    );

    let word = zip_of(&[
        ("[Content_Types].xml".to_owned(), "<x/>".to_owned()),
        ("word/document.xml".to_owned(), "<x/>".to_owned()),
    ]);
    let error = bytes_err(&word, "customers.xlsx");
    assert!(
        error.user_message().contains("(it holds a Word document)"),
        "{error}"
    );
}

#[test]
fn garbage_after_zip_signature_is_damaged() {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(&[0x55; 200]);
    let error = bytes_err(&bytes, "customers.xlsx");
    assert!(matches!(error, SourceError::Damaged { .. }), "{error}");
}

/// Returns the file that the workbook fuzz target reads for `data`: the
/// first byte chooses a whole XLSX (0), a sheet's XML inside an XLSX (1),
/// an ODS content.xml (2) or a whole XLS (3).
fn fuzz_workbook_input(data: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    let (&mode, rest) = data.split_first()?;
    let input = match mode % 4 {
        0 => (rest.to_vec(), "fuzz.xlsx"),
        1 => {
            let mut entries = xlsx_entries(&[("Sheet1", String::new())]);
            if let Some(sheet) = entries.last_mut() {
                sheet.1 = rest.to_vec();
            }
            (zip_of(&entries), "fuzz.xlsx")
        }
        2 => {
            let manifest = "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:\
                            xmlns:manifest:1.0\"/>";
            let entries = [
                (
                    "mimetype".to_owned(),
                    b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
                ),
                (
                    "META-INF/manifest.xml".to_owned(),
                    manifest.as_bytes().to_vec(),
                ),
                ("content.xml".to_owned(), rest.to_vec()),
            ];
            (zip_of(&entries), "fuzz.ods")
        }
        _ => (rest.to_vec(), "fuzz.xls"),
    };
    Some(input)
}

/// Builds one BIFF record.
fn biff(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_le_bytes().to_vec();
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Builds the data of a cell record: row, column, format index, `rest`.
fn biff_cell(row: u16, column: u16, rest: &[u8]) -> Vec<u8> {
    [&row.to_le_bytes()[..], &column.to_le_bytes(), &[0, 0], rest].concat()
}

/// Builds a BIFF8 LABEL record holding `text` (Latin-1).
fn biff_label(row: u16, column: u16, text: &str) -> Vec<u8> {
    let string = [
        &(text.len() as u16).to_le_bytes()[..],
        &[0],
        text.as_bytes(),
    ]
    .concat();
    biff(0x0204, &biff_cell(row, column, &string))
}

/// Builds an XLS file (BIFF8) whose globals end with `globals` and whose
/// one sheet, named "Sheet1", contains the records `cells`.
fn xls_of(globals: &[Vec<u8>], cells: &[Vec<u8>]) -> Vec<u8> {
    let bof = |kind: u8| {
        biff(
            0x0809,
            &[0x00, 0x06, kind, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        )
    };
    let boundsheet = |offset: u32| {
        let data = [&offset.to_le_bytes()[..], &[0, 0, 6, 0], b"Sheet1"].concat();
        biff(0x0085, &data)
    };
    let eof = biff(0x000A, &[]);
    let globals = [globals.concat(), eof.clone()].concat();
    let offset = bof(5).len() + boundsheet(0).len() + globals.len();
    let stream = [
        bof(5),
        boundsheet(offset as u32),
        globals,
        bof(0x10),
        cells.concat(),
        eof,
    ]
    .concat();
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("cfb");
    let mut out = file.create_stream("/Workbook").expect("stream");
    out.write_all(&stream).expect("write");
    drop(out);
    file.flush().expect("flush");
    file.into_inner().into_inner()
}

#[test]
fn xls_formula_reads_cached_value() {
    let mut formula = biff_cell(1, 0, &42.0_f64.to_le_bytes());
    formula.extend_from_slice(&[0; 6]);
    // The tokens: a 2-byte integer 42 (ptgInt).
    formula.extend_from_slice(&[3, 0, 0x1E, 42, 0]);
    let bytes = xls_of(&[], &[biff_label(0, 0, "Total"), biff(0x0006, &formula)]);
    let table = bytes_ok(&bytes, "formula.xls");
    assert_eq!(table.headers, ["Total"]);
    assert_eq!(table.records[0].get(0), "42");
}

#[test]
fn xls_shared_string_copies_hit_text_limit() {
    let text = "x".repeat(8_000);
    let string = [
        &(text.len() as u16).to_le_bytes()[..],
        &[0],
        text.as_bytes(),
    ]
    .concat();
    let sst = biff(0x00FC, &[&[1, 0, 0, 0, 1, 0, 0, 0][..], &string].concat());
    // Each cell is a copy of the 8,000 characters, estimated at 24 KB.
    let copies = source::MAX_TEXT_BYTES / 24_000 + 1;
    let cells: Vec<Vec<u8>> = (0..copies)
        .map(|row| biff(0x00FD, &biff_cell(row as u16, 0, &0_u32.to_le_bytes())))
        .collect();
    let error = bytes_err(&xls_of(&[sst], &cells), "copies.xls");
    assert!(matches!(error, SourceError::TooMuchText { .. }), "{error}");
    assert!(error.user_message().contains("256 MB of text"), "{error}");
}

#[test]
fn xls_short_sector_chain_is_checked() {
    // The workbook stream's directory entry claims 4 MB, but its sector
    // chain ends after 16 KB; the cells in those 16 KB span 32 million.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/workbook/oom-cc585f979c6666abf9609cab3090c1caed95ac8d");
    let data = std::fs::read(path).expect("regression input");
    let error = bytes_err(&data[1..], "short-chain.xls");
    assert!(matches!(error, SourceError::TooManyCells { .. }), "{error}");
}

/// Replays the inputs that once crashed a fuzz target (kept in
/// fuzz/regressions) the way the targets read them. Reading may fail with
/// a message for the user, but must not panic.
#[test]
fn fuzz_regressions_read_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let files = |target: &str| -> Vec<Vec<u8>> {
        let entries = std::fs::read_dir(root.join(target)).expect("regressions folder");
        entries
            .map(|entry| std::fs::read(entry.expect("folder entry").path()).expect("input"))
            .collect()
    };
    let options = ReadOptions::default();
    let mut replayed = 0;
    for data in files("text") {
        if let Err(error) = source::read_bytes(&data, "fuzz.csv", &options, &Progress::new()) {
            assert!(!error.user_message().is_empty(), "{error}");
        }
        replayed += 1;
    }
    for data in files("workbook") {
        let Some((bytes, name)) = fuzz_workbook_input(&data) else {
            continue;
        };
        if let Err(error) = source::read_bytes(&bytes, name, &options, &Progress::new()) {
            assert!(!error.user_message().is_empty(), "{error}");
        }
        replayed += 1;
    }
    assert!(replayed >= 2, "only {replayed} regression inputs found");
}

/// Returns the parts of a [`SourceError::UnclosedQuote`], failing the test
/// on any other outcome.
fn unclosed_quote(error: &SourceError) -> (&Path, u32, usize, Option<&str>) {
    match error {
        SourceError::UnclosedQuote {
            path,
            row,
            column,
            header,
        } => (path, *row, *column, header.as_deref()),
        other => panic!("expected an unclosed quote, got: {other}"),
    }
}

#[test]
fn unclosed_quote_names_row_and_column() {
    let path = case("unclosed-quote.csv");
    let error = read_err(&path);
    let (error_path, row, column, header) = unclosed_quote(&error);
    assert_eq!(error_path, path);
    assert_eq!(row, 2);
    assert_eq!(column, 2);
    assert_eq!(header, Some("Notes"));
    let display = error.to_string();
    assert!(display.contains("unclosed-quote.csv"), "{display}");
    let message = error.user_message();
    assert!(
        message.starts_with("Row 2, column \u{201c}Notes\u{201d} opens a quote"),
        "{message}"
    );
    assert!(message.contains("text editor"), "{message}");
}

#[test]
fn unclosed_quote_in_header_row() {
    let path = case("unclosed-quote-in-header.csv");
    let error = read_err(&path);
    let (error_path, row, column, header) = unclosed_quote(&error);
    assert_eq!(error_path, path);
    assert_eq!(row, 1);
    assert_eq!(column, 0);
    assert_eq!(header, None);
    let message = error.user_message();
    assert!(
        message.starts_with("Row 1, column 1 opens a quote"),
        "{message}"
    );
}

#[test]
fn unclosed_quote_cases_match_manifest() {
    let manifest = manifest(&sample_dirs()[1]);
    for name in ["unclosed-quote.csv", "unclosed-quote-in-header.csv"] {
        let entry = manifest
            .iter()
            .find(|entry| entry.file == name)
            .expect("case is in the manifest");
        let message = read_err(&case(name)).user_message();
        assert_eq!(Some(&message), entry.expect_error.as_ref(), "{name}");
    }
}

#[test]
fn unclosed_quote_rows_counted_exactly() {
    // A title line, blank lines and a closed multi-line cell come before
    // the quote that stays open. The header is found below the title.
    let text = "Customer list\n\nFirst Name,Email,Notes\r\nAnn,ann@example.com,\"two\r\nlines\"\r\n\
                \r\nBo,bo@example.com,\"never closed\r\nCy,cy@example.com,\r\n";
    let error = bytes_err(text.as_bytes(), "titled.csv");
    let (path, row, column, header) = unclosed_quote(&error);
    assert_eq!(path, Path::new("titled.csv"));
    assert_eq!(row, 6);
    assert_eq!(column, 2);
    assert_eq!(header, Some("Notes"));
}

#[test]
fn unclosed_quote_below_title_line() {
    let text = "Customer list\n\"First Name,Email,Notes\nAnn,ann@example.com,fine\n";
    let error = bytes_err(text.as_bytes(), "titled.csv");
    let (_, row, column, header) = unclosed_quote(&error);
    assert_eq!(row, 2);
    assert_eq!(column, 0);
    assert_eq!(header, None);
}

#[test]
fn unclosed_quote_without_final_line_feed() {
    let text = "First Name,Email,Notes\nAnn,ann@example.com,\"oops";
    let error = bytes_err(text.as_bytes(), "last.csv");
    let (_, row, column, header) = unclosed_quote(&error);
    assert_eq!(row, 2);
    assert_eq!(column, 2);
    assert_eq!(header, Some("Notes"));
}

#[test]
fn unclosed_quote_found_in_windows_1252() {
    let mut bytes = b"First Name;Email;Notes\nJos\xe9;jose@example.com;ok\n".to_vec();
    bytes.extend_from_slice(b"Zo\xeb;zoe@example.com;\"caf\xe9\nAl;al@example.com;ok\n");
    let error = bytes_err(&bytes, "latin.csv");
    let (_, row, column, header) = unclosed_quote(&error);
    assert_eq!(row, 3);
    assert_eq!(column, 2);
    assert_eq!(header, Some("Notes"));
}

#[test]
fn closed_quote_ending_in_line_break_reads() {
    let text = "First Name,Email,Notes\nAnn,ann@example.com,\"ends with a break\n\"\n";
    let table = bytes_ok(text.as_bytes(), "closed.csv");
    let rows: Vec<u32> = table.records.iter().map(|record| record.row).collect();
    assert_eq!(rows, [2]);
    assert_eq!(column(&table, "Notes"), ["ends with a break\n"]);
}
