//! Fuzz target for text files: any bytes, read as a file named
//! `fuzz.csv`. Besides never panicking or hanging, a table that comes back
//! must keep the reader's promises, checked in [`check_table`].

#![no_main]

use customer_importer::progress::Progress;
use customer_importer::source::{self, MAX_ROWS, ReadOptions};
use customer_importer::table::Table;
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
        assert!(record.len() <= table.headers.len());
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
