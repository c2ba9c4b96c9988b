//! Writes `src/normalize/place_data.rs`, the country and subdivision table
//! that the importer reads, from the `keshvar` crate's data. Run it after
//! upgrading keshvar: `cargo run --example generate_places`.

#[path = "../src/normalize/place_generator.rs"]
mod place_generator;

use std::path::Path;

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let source = place_generator::render()?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(place_generator::OUTPUT_PATH);
    std::fs::write(&path, source).with_context(|| format!("failed to write {}", path.display()))
}
