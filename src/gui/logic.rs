//! Per-frame work that draws nothing: receiving the results of background
//! jobs within a time budget, and taking files dropped on the window.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::check::RowCheck;
use crate::upload::journal::JournalRow;
use crate::upload::{RunSummary, UndoPlan, UploadPlan};

use super::actions::{Action, PresetsUpdate};
use super::app::ImporterApp;
use crate::auth::ServiceAccountKey;

use super::backend::{KeychainProblem, LoadedKey, LoadedToken, SandboxConnection, SavedSecret};
use super::connect::ServiceAccount;
use super::run::{ForeseenRow, ForesightKey};
use super::state::Document;

/// Time per frame spent applying background results; the rest waits for
/// the next frame so the window stays responsive.
const DRAIN_BUDGET: Duration = Duration::from_millis(8);
/// How often the window repaints while a job with a progress bar runs.
const PROGRESS_REPAINT: Duration = Duration::from_millis(100);

/// Result of a background job.
#[derive(Debug)]
pub(crate) enum Outcome {
    Sandbox(Result<SandboxConnection, String>),
    /// The token and service-account key saved for a keychain account.
    SecretsLoaded {
        account: String,
        token: Result<LoadedToken, KeychainProblem>,
        key: Result<LoadedKey, KeychainProblem>,
    },
    TokenSaved(Result<SavedSecret, KeychainProblem>),
    TokenDeleted(Result<(), KeychainProblem>),
    /// A chosen key file was read and checked; `saved` is set when it was
    /// also saved in the keychain.
    KeyFileRead {
        path: PathBuf,
        key: Result<ServiceAccountKey, String>,
        saved: Option<Result<SavedSecret, KeychainProblem>>,
    },
    KeySaved(Result<SavedSecret, KeychainProblem>),
    KeyDeleted(Result<(), KeychainProblem>),
    /// The access check, and the service account it signed in with when
    /// the credential is a key file.
    Access {
        result: Result<(), String>,
        signed_in: Option<ServiceAccount>,
    },
    /// A file dialog closed: the chosen path, or `None` when cancelled.
    FileChosen(Option<PathBuf>),
    KeyFileChosen(Option<PathBuf>),
    /// A file was read and its mapping guessed.
    FileRead(Result<Box<Document>, String>),
    /// All rows checked for the document generation given.
    Checked {
        generation: u64,
        rows: Vec<RowCheck>,
    },
    Presets(PresetsUpdate),
    /// The rows already on file, and the number of customers listed, for
    /// the rows and destination of `key`.
    Foreseen {
        key: ForesightKey,
        result: Result<(Vec<ForeseenRow>, usize), String>,
    },
    /// The plan of a new run, and the rows to merge once it is sent.
    PlanBuilt {
        plan: Box<UploadPlan>,
        merges: Vec<u32>,
    },
    /// Every row of the run, read from the journal.
    RunRows(Result<Vec<JournalRow>, String>),
    /// The folder and number of report files written, or `None` when the
    /// folder dialog was cancelled.
    ReportsSaved(Result<Option<(PathBuf, usize)>, String>),
    UndoPlanned(Result<UndoPlan, String>),
    UnfinishedRuns {
        result: Result<Vec<RunSummary>, String>,
        /// Whether the request came from the menu, which gets a notice when
        /// there is no unfinished run.
        from_menu: bool,
    },
    RunDiscarded(Result<(), String>),
    PastRuns(Result<Vec<RunSummary>, String>),
    SettingsSaved(Result<(), String>),
    LogFolderOpened(Result<(), String>),
}

impl ImporterApp {
    /// Applies background results that arrived since the last frame, for at
    /// most [`DRAIN_BUDGET`].
    pub(crate) fn receive_events(&mut self, ctx: &egui::Context) {
        let started = Instant::now();
        while let Ok(event) = self.events.try_recv() {
            if self.tasks.accept(&event) {
                self.apply_outcome(event.outcome);
            } else {
                tracing::debug!(kind = ?event.kind, "dropped the result of a superseded task");
            }
            if started.elapsed() > DRAIN_BUDGET {
                ctx.request_repaint();
                break;
            }
        }
        self.receive_upload_events(ctx, started);
        let uploading = self.run.as_ref().is_some_and(|run| run.is_active());
        let shows_progress = self.tasks.iter().any(|(_, task)| task.progress.is_some());
        // The upload session's channel does not wake the window, so it is
        // polled while a session runs.
        if shows_progress || uploading {
            ctx.request_repaint_after(PROGRESS_REPAINT);
        }
    }

    /// Applies the events of the running upload session within what is
    /// left of the frame's budget.
    fn receive_upload_events(&mut self, ctx: &egui::Context, started: Instant) {
        while started.elapsed() <= DRAIN_BUDGET {
            let event = self
                .run
                .as_mut()
                .and_then(|run| run.session.as_mut())
                .and_then(|session| session.try_next_event());
            let Some(event) = event else {
                return;
            };
            self.apply_upload_event(event);
        }
        ctx.request_repaint();
    }

    fn apply_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Sandbox(result) => self.apply_sandbox(result),
            Outcome::SecretsLoaded {
                account,
                token,
                key,
            } => self.apply_secrets_loaded(&account, token, key),
            Outcome::TokenSaved(result) => self.apply_token_saved(result),
            Outcome::TokenDeleted(result) => self.apply_token_deleted(result),
            Outcome::KeyFileRead { path, key, saved } => self.apply_key_file_read(path, key, saved),
            Outcome::KeySaved(result) => self.apply_key_saved(result),
            Outcome::KeyDeleted(result) => self.apply_key_deleted(result),
            Outcome::Access { result, signed_in } => self.apply_access(result, signed_in),
            Outcome::FileChosen(path) => self.apply_file_chosen(path),
            Outcome::KeyFileChosen(path) => self.apply_key_file_chosen(path),
            Outcome::FileRead(result) => self.apply_file_read(result),
            Outcome::Checked { generation, rows } => self.apply_checked(generation, rows),
            Outcome::Presets(update) => self.apply_presets_update(update),
            Outcome::Foreseen { key, result } => self.apply_foreseen(key, result),
            Outcome::PlanBuilt { plan, merges } => self.apply_plan_built(*plan, merges),
            Outcome::RunRows(result) => self.apply_run_rows(result),
            Outcome::ReportsSaved(result) => self.apply_reports_saved(result),
            Outcome::UndoPlanned(result) => self.apply_undo_planned(result),
            Outcome::UnfinishedRuns { result, from_menu } => {
                self.apply_unfinished_runs(result, from_menu)
            }
            Outcome::RunDiscarded(result) => self.apply_run_discarded(result),
            Outcome::PastRuns(result) => self.apply_past_runs(result),
            Outcome::SettingsSaved(result) => self.apply_settings_saved(result),
            Outcome::LogFolderOpened(result) => self.apply_log_folder_opened(result),
        }
    }

    /// Opens the first file dropped on the window, whatever the screen.
    pub(crate) fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|input| {
            input
                .raw
                .dropped_files
                .iter()
                .map(|file| file.path().to_path_buf())
                .find(|path| !path.as_os_str().is_empty())
        });
        if let Some(path) = dropped {
            self.pending.push(Action::OpenFile(path));
        }
    }
}
