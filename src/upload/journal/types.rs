//! The records the journal stores about a run and its rows.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::api::{Conflict, Merge};
use crate::check::CheckOptions;
use crate::customer::Customer;
use crate::environment::Environment;
use crate::fields::Mapping;

/// Handling of the rows of a run that meet an existing customer, chosen
/// once for all rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Leave the existing customer alone; the row ends as skipped.
    Skip,
    /// Add the row's new emails, phones and tags to the existing customer
    /// and fill its empty fields.
    Merge,
}

/// Choices of a run that are kept with it, so a resumed run behaves as the
/// original one did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// List each location's existing customers before sending and mark the
    /// rows that would conflict instead of sending them.
    pub check_existing: bool,
    /// Resolution applied to conflicts as they are found; `None` leaves
    /// them for the user to resolve.
    pub on_conflict: Option<Resolution>,
}

/// A run as recorded before its first request.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// Random UUID, shown to the user for `import --undo`.
    pub id: String,
    pub started_at: jiff::Timestamp,
    /// Set once no row is left to send or merge.
    pub finished_at: Option<jiff::Timestamp>,
    pub file_path: PathBuf,
    pub sheet: Option<String>,
    /// `SourceInfo::fingerprint` of the file, which `--resume` matches.
    pub fingerprint: String,
    /// Header of every column of the file, in file order, for the reports.
    pub headers: Vec<String>,
    pub mapping: Mapping,
    pub check_options: CheckOptions,
    pub options: RunOptions,
    pub environment: Environment,
    /// Base URL the run sends to, such as `http://127.0.0.1:8080/business`.
    pub base_url: String,
    /// Business location of rows that name none.
    pub location: String,
    /// Every location the rows go to, sorted.
    pub locations: Vec<String>,
    /// Tag added to every customer the run creates, such as
    /// `Imported 2026-12-04`.
    pub batch_tag: Option<String>,
    pub undo_started_at: Option<jiff::Timestamp>,
    pub undo_finished_at: Option<jiff::Timestamp>,
}

/// A row to record when a run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// Spreadsheet row number.
    pub row: u32,
    pub location: String,
    /// The customer exactly as it will be sent, batch tag included.
    pub customer: Customer,
    /// The row's cells as read from the file, for the reports.
    pub cells: Vec<String>,
    /// `Pending` for a row to send; `Failed` or `Skipped` for a row that
    /// will not be sent (invalid, or left out by the user).
    pub state: RowState,
}

/// State of a row. `Pending`, `Sending` and `Merging` rows are
/// unfinished; every other state is an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    Pending,
    /// Its create request may be on the wire. Found on resume, the request
    /// may or may not have created the customer.
    Sending,
    Created {
        customer_id: String,
    },
    /// An existing customer already has one of the row's emails or phones.
    Conflict {
        conflict: Conflict,
        /// Reason the row is still a conflict, such as a merge the server
        /// rejected or "found before sending".
        note: Option<String>,
    },
    /// The merge patch is recorded and may be on the wire.
    Merging {
        conflict: Conflict,
    },
    /// The row was merged into the existing customer.
    Merged {
        conflict: Conflict,
    },
    Failed {
        /// HTTP status of the final response, when there was one.
        status: Option<u16>,
        message: String,
    },
    Skipped {
        reason: String,
    },
}

impl RowState {
    /// Returns the name stored in the `state` column.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Created { .. } => "created",
            Self::Conflict { .. } => "conflict",
            Self::Merging { .. } => "merging",
            Self::Merged { .. } => "merged",
            Self::Failed { .. } => "failed",
            Self::Skipped { .. } => "skipped",
        }
    }

    /// Returns whether the row still needs work from a resumed run.
    pub fn is_unfinished(&self) -> bool {
        matches!(self, Self::Pending | Self::Sending | Self::Merging { .. })
    }
}

/// Result of undoing one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoState {
    /// The customer the row created was deleted.
    Deleted,
    /// The merged customer got back the values the merge changed.
    Restored,
    Failed {
        message: String,
    },
}

impl UndoState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::Restored => "restored",
            Self::Failed { .. } => "failed",
        }
    }
}

/// One row of a run as the journal has it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalRow {
    pub row: u32,
    pub location: String,
    pub customer: Customer,
    pub cells: Vec<String>,
    pub state: RowState,
    /// The customer the row created, conflicted with or merged into. It is
    /// kept when a later state names none, so a merge that ended in doubt
    /// (`failed`) still names the customer it may have changed.
    pub customer_id: Option<String>,
    /// Set once a create request of this row lost its answer, so a later
    /// `409` on its own email or phone may be its own earlier success.
    pub ambiguous: bool,
    /// Create requests sent so far, over every session of the run.
    pub attempts: u32,
    /// The merge patch and its inverse, recorded before the PATCH.
    pub merge: Option<Merge>,
    pub undo: Option<UndoState>,
    /// When the row's first create request was about to leave, by this
    /// computer's clock; `None` before the first request.
    pub first_sent_at: Option<jiff::Timestamp>,
}

/// Number of rows in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: u64,
    /// Rows whose create request is in flight, or was when the run stopped.
    pub sending: u64,
    pub created: u64,
    pub conflict: u64,
    pub merging: u64,
    pub merged: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Rows whose created customer was deleted by undo.
    pub deleted: u64,
    /// Rows whose merged customer was restored by undo.
    pub restored: u64,
    pub undo_failed: u64,
}

impl Counts {
    /// Adds one row in `state`.
    pub fn add(&mut self, state: &RowState) {
        *self.bucket(state.name()) += 1;
    }

    /// Moves one row from the state `from` to `to`.
    pub fn transfer(&mut self, from: &RowState, to: &RowState) {
        let bucket = self.bucket(from.name());
        *bucket = bucket.saturating_sub(1);
        self.add(to);
    }

    /// Adds one row whose undo ended in `state`.
    pub fn add_undo(&mut self, state: &UndoState) {
        match state {
            UndoState::Deleted => self.deleted += 1,
            UndoState::Restored => self.restored += 1,
            UndoState::Failed { .. } => self.undo_failed += 1,
        }
    }

    /// Adds `amount` rows to the bucket of a `state` or undo state column.
    pub(crate) fn add_named(&mut self, name: &str, amount: u64) {
        *self.bucket(name) += amount;
    }

    fn bucket(&mut self, name: &str) -> &mut u64 {
        match name {
            "pending" => &mut self.pending,
            "sending" => &mut self.sending,
            "created" => &mut self.created,
            "conflict" => &mut self.conflict,
            "merging" => &mut self.merging,
            "merged" => &mut self.merged,
            "failed" => &mut self.failed,
            "deleted" => &mut self.deleted,
            "restored" => &mut self.restored,
            "undo_failed" => &mut self.undo_failed,
            _ => &mut self.skipped,
        }
    }

    /// Returns the number of rows in the run.
    pub fn total(&self) -> u64 {
        self.pending
            + self.sending
            + self.created
            + self.conflict
            + self.merging
            + self.merged
            + self.failed
            + self.skipped
    }

    /// Returns the number of rows still to send or merge.
    pub fn unfinished(&self) -> u64 {
        self.pending + self.sending + self.merging
    }
}

/// A run and how many of its rows are in each state, for lists of runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub info: RunInfo,
    pub counts: Counts,
    /// When the user gave the run up to start the same file anew; its rows
    /// keep the outcomes they had, and it is never resumed.
    pub abandoned_at: Option<jiff::Timestamp>,
}

impl RunSummary {
    /// Returns whether the run has rows left to send or merge and was
    /// neither undone nor abandoned.
    pub fn is_unfinished(&self) -> bool {
        self.counts.unfinished() > 0
            && self.info.undo_started_at.is_none()
            && self.abandoned_at.is_none()
    }
}

/// What undoing a run would change, for the user to confirm first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UndoPlan {
    /// Customers the run created that would be deleted.
    pub deletes: u64,
    /// Existing customers a merge changed that would get their values back.
    pub restores: u64,
}

impl UndoPlan {
    pub fn is_empty(&self) -> bool {
        self.deletes == 0 && self.restores == 0
    }
}
