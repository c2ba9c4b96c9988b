//! Fuzz target for text files: any bytes, read as a file named
//! `fuzz.csv`. Besides never panicking or hanging, a table that comes back
//! must keep the reader's promises, checked in [`check_table`].

#![no_main]

use customer_importer::progress::Progress;
use customer_importer::source::{self, MAX_ROWS, ReadOptions};
use customer_importer::table::Table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match source::read_bytes(data, "fuzz.csv", &ReadOptions::default(), &Progress::new()) {
        Ok(table) => check_table(&table),
        Err(error) => {
            let message = error.user_message();
            assert!(!message.is_empty(), "empty message for {error}");
        }
    }
});

/// Panics when a table breaks a promise of `source::read`: rows in
/// increasing order below the header, no record wider than the headers,
/// no blank header, and at most `MAX_ROWS` records.
fn check_table(table: &Table) {
    assert!(table.records.len() <= MAX_ROWS);
    let mut previous = table.header_row;
    for record in &table.records {
        assert!(record.row > previous, "row {} after {previous}", record.row);
        assert!(record.fields.len() <= table.headers.len());
        previous = record.row;
    }
    for header in &table.headers {
        assert!(
            !header.trim().is_empty(),
            "blank header in {:?}",
            table.headers
        );
    }
}
