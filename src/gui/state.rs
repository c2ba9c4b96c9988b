//! Runtime state shared by several screens: the steps of the flow and the
//! spreadsheet being imported. None of it is saved between runs; what is
//! saved lives in [`crate::settings::Settings`].

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::check::{CheckOptions, RowCheck};
use crate::fields::Mapping;
use crate::normalize::{MAX_CELL_CHARS, clean_cell};
use crate::table::Table;

/// Number of sample values shown per column on the mapping screen.
const SAMPLE_COUNT: usize = 3;
/// Records searched for sample values of one column.
const SAMPLE_SCAN_LIMIT: usize = 1000;

/// The steps of an import, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Connect,
    Open,
    Map,
    Preview,
    Upload,
    Results,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Connect,
        Step::Open,
        Step::Map,
        Step::Preview,
        Step::Upload,
        Step::Results,
    ];

    /// Returns the name shown in the step header.
    pub fn label(self) -> &'static str {
        match self {
            Step::Connect => "Connect",
            Step::Open => "Open",
            Step::Map => "Map",
            Step::Preview => "Preview",
            Step::Upload => "Upload",
            Step::Results => "Results",
        }
    }
}

/// A spreadsheet that was read, its mapping and its checked rows.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// Shared with a check running in the background; a fix copies it
    /// first if a check still has a reference to it.
    pub table: Arc<Table>,
    /// A few distinct values of each column, joined for the mapping screen.
    pub samples: Vec<String>,
    pub mapping: Mapping,
    pub options: CheckOptions,
    /// Every record checked with the current mapping, in table order, or
    /// `None` until the first check finishes. Shared with background jobs
    /// (building the upload plan), so a fix copies it first if a job still
    /// has a reference to it.
    pub rows: Option<Arc<Vec<RowCheck>>>,
    /// Indexes into `table.records` of rows the user left out; they end as
    /// skipped.
    pub excluded: BTreeSet<usize>,
    /// Bumped whenever the table or mapping changes, so a check started
    /// before the change is recognised as stale.
    pub generation: u64,
    /// Bumped whenever `rows` or `excluded` change, so views derived from
    /// them know to rebuild.
    pub revision: u64,
    /// Counts of `rows` by status, kept up to date by
    /// [`Document::rows_changed`]; `None` while `rows` is.
    pub counts: Option<RowCounts>,
}

impl Document {
    pub fn new(table: Table, mapping: Mapping, options: CheckOptions) -> Self {
        let samples = (0..table.headers.len())
            .map(|column| {
                sample_values(&table, column)
                    .into_iter()
                    .map(sample_text)
                    .filter(|text| !text.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .collect();
        Self {
            table: Arc::new(table),
            samples,
            mapping,
            options,
            rows: None,
            excluded: BTreeSet::new(),
            generation: 0,
            revision: 0,
            counts: None,
        }
    }

    /// Records that `rows` or `excluded` changed: bumps the revision and
    /// counts the rows again (a pass over every row, once per change rather
    /// than once per frame).
    pub fn rows_changed(&mut self) {
        self.revision += 1;
        self.counts = self
            .rows
            .as_ref()
            .map(|rows| RowCounts::of(rows, &self.excluded));
    }

    /// Returns the number of rows that would be sent: checked, ready and not
    /// excluded.
    pub fn ready_count(&self) -> usize {
        self.counts.map_or(0, |counts| counts.ready)
    }
}

/// Characters of a sample value shown before "…". The column is far
/// narrower, and a cell of megabytes would otherwise be laid out each frame.
const SAMPLE_CHARS: usize = 60;

/// Returns a sample value as the check reads it (without Excel's text
/// marks such as a leading apostrophe), cut to [`SAMPLE_CHARS`]
/// characters. An overlong cell is only cut, since the check rejects it.
fn sample_text(value: &str) -> String {
    if value.len() > MAX_CELL_CHARS {
        shorten_sample(value)
    } else {
        shorten_sample(&clean_cell(value))
    }
}

/// Cuts a sample value to [`SAMPLE_CHARS`] characters.
fn shorten_sample(value: &str) -> String {
    match value.char_indices().nth(SAMPLE_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

/// Returns up to [`SAMPLE_COUNT`] distinct non-empty values of a column,
/// looking at no more than [`SAMPLE_SCAN_LIMIT`] records so a mostly empty
/// column of a big file costs little.
fn sample_values(table: &Table, column: usize) -> Vec<&str> {
    let mut samples: Vec<&str> = Vec::with_capacity(SAMPLE_COUNT);
    for record in table.records.iter().take(SAMPLE_SCAN_LIMIT) {
        let value = record.get(column).trim();
        if !value.is_empty() && !samples.contains(&value) {
            samples.push(value);
            if samples.len() == SAMPLE_COUNT {
                break;
            }
        }
    }
    samples
}

/// Counts of the checked rows, as the preview shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RowCounts {
    pub ready: usize,
    pub invalid: usize,
    /// Ready rows that carry at least one warning.
    pub warned: usize,
    pub excluded: usize,
}

impl RowCounts {
    /// Counts rows by status; an excluded row counts only as excluded.
    pub fn of(rows: &[RowCheck], excluded: &BTreeSet<usize>) -> Self {
        let mut counts = Self::default();
        for (index, row) in rows.iter().enumerate() {
            if excluded.contains(&index) {
                counts.excluded += 1;
            } else if row.is_ready() {
                counts.ready += 1;
                if row.has_warnings() {
                    counts.warned += 1;
                }
            } else {
                counts.invalid += 1;
            }
        }
        counts
    }
}
