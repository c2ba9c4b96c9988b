//! Runtime state of an upload run: the session that is sending (or
//! resolving conflicts, or undoing), what it reported, and the run's rows
//! as the journal has them once a session ends.

use std::time::Duration;

use crate::api::Conflict;
use crate::upload::journal::JournalRow;
use crate::upload::{
    Counts, PauseReason, Resolution, RunSummary, Session, SessionEnd, SessionKind, UndoPlan,
    UploadControl, UploadProgress,
};

/// One run, from its first session on.
#[derive(Debug, Default)]
pub(crate) struct RunState {
    /// Set once the journal has recorded the run.
    pub run_id: Option<String>,
    /// The session running now; `None` between sessions.
    pub session: Option<Session>,
    pub control: Option<UploadControl>,
    pub kind: Option<SessionKind>,
    pub progress: Option<UploadProgress>,
    /// Rows of the run in each state, from the latest event.
    pub counts: Counts,
    pub paused: Option<PauseReason>,
    /// Reason the session stopped early, for the user.
    pub failure: Option<String>,
    /// End of the last session.
    pub ended: Option<SessionEnd>,
    /// Every row of the run, read from the journal after a session ends.
    pub rows: Option<Vec<JournalRow>>,
    /// Files written by "Save reports", or why they could not be.
    pub reports_message: Option<(bool, String)>,
    /// Rows found on file before sending that the user chose to merge.
    /// The upload session records them as conflicts; once it ends, a
    /// resolve session merges them.
    pub pending_merges: Vec<u32>,
}

impl RunState {
    /// Returns whether a session is sending now.
    pub fn is_active(&self) -> bool {
        self.session.is_some()
    }
}

/// Options of the upload screen that are not saved between runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadForm {
    /// Whether existing customers are listed first to foresee conflicts.
    pub check_existing: bool,
    /// Tag added to every created customer when tagging is on.
    pub batch_tag: String,
    /// The last look for existing customers, while "Look for existing
    /// customers first" is ticked.
    pub foresight: Option<Foresight>,
}

/// A look for existing customers before sending: the rows whose email or
/// phone is already on file, and what the user chose for each.
#[derive(Debug, Clone)]
pub(crate) struct Foresight {
    /// Rows and destination the look was made for. A change of either
    /// makes it stale.
    pub key: ForesightKey,
    pub state: ForesightState,
}

/// The rows and destination a [`Foresight`] was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForesightKey {
    /// `Document::revision` of the rows.
    pub revision: u64,
    pub base_url: String,
    pub location: String,
}

#[derive(Debug, Clone)]
pub(crate) enum ForesightState {
    Looking,
    /// Sentence for the user.
    Failed(String),
    /// Rows already on file, in row order, and the number of existing
    /// customers listed.
    Found {
        rows: Vec<ForeseenRow>,
        existing: usize,
    },
}

/// A ready row whose email or phone an existing customer already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeseenRow {
    /// Spreadsheet row number.
    pub row: u32,
    pub name: String,
    pub conflict: Conflict,
    /// Skip leaves it out; merge adds its details to the existing customer.
    pub choice: Resolution,
}

impl Foresight {
    /// Returns the rows found on file, or `None` while looking or after a
    /// failure.
    pub fn found(&self) -> Option<&[ForeseenRow]> {
        match &self.state {
            ForesightState::Found { rows, .. } => Some(rows),
            _ => None,
        }
    }
}

/// A modal about runs: resuming, a new token, confirming undo.
#[derive(Debug, Clone)]
pub(crate) enum RunModal {
    /// Unfinished runs found in the journal at start.
    Resume(Vec<RunSummary>),
    /// The latest runs in the journal, to see their results again.
    Past(Vec<RunSummary>),
    /// The server refused the token mid-run.
    NewToken { message: String, input: String },
    /// Changes undo would make, for confirmation.
    ConfirmUndo(UndoPlan),
}

/// Formats a duration as people read it: "45 s", "3 min", "1 h 20 min".
pub(crate) fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds < 60 {
        format!("{seconds} s")
    } else if seconds < 3600 {
        format!("{} min", seconds.div_ceil(60))
    } else {
        format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(45)), "45 s");
        assert_eq!(format_duration(Duration::from_secs(121)), "3 min");
        assert_eq!(format_duration(Duration::from_secs(4800)), "1 h 20 min");
    }
}
