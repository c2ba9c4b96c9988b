//! Running upload sessions: starting a run, pausing, resuming and
//! cancelling it, a new token after a `401`, resolving conflicts, saving
//! reports, undo, and resuming runs left unfinished by an earlier start.

use std::path::PathBuf;
use std::sync::Arc;

use crate::report;
use crate::secret::Secret;
use crate::upload::journal::{Journal, JournalRow};
use crate::upload::{
    Resolution, RowSelection, RunSummary, Session, SessionEnd, SessionKind, SessionSettings,
    TokenRefresher, UndoPlan, UploadEvent, Uploader,
};

use super::super::app::{ImporterApp, Modal, Notice};
use super::super::connect::{Credential, SandboxState};
use super::super::logic::Outcome;
use super::super::results::ResultsAction;
use super::super::run::{RunModal, RunState};
use super::super::run_modals::RunModalChoice;
use super::super::state::Step;
use super::super::tasks::TaskKind;
use super::super::upload::{UploadAction, UploadView};
use super::error_chain;

/// Number of runs "Past imports" lists, newest first.
const PAST_RUNS_SHOWN: usize = 20;

impl ImporterApp {
    fn journal_path(&self) -> PathBuf {
        match &self.paths {
            Some(paths) => paths.journal_file(),
            // NOTE: without a home folder the journal lives in the temporary
            // folder, so a run can still be resumed until that is cleaned.
            None => std::env::temp_dir().join("customer-importer-journal.sqlite3"),
        }
    }

    /// Returns an uploader; sessions it starts get new tokens from
    /// `refresher` when the server rejects one.
    pub(super) fn uploader(&self, refresher: Option<Arc<dyn TokenRefresher>>) -> Uploader {
        let sandbox_base_url = match &self.connect.status.sandbox {
            SandboxState::Running(sandbox) => Some(sandbox.base_url.clone()),
            _ => None,
        };
        let settings = SessionSettings {
            max_concurrency: self.settings.max_concurrency,
            refresher,
            sandbox_base_url,
            ..SessionSettings::default()
        };
        Uploader::new(self.tasks.runtime().clone(), self.journal_path(), settings)
    }

    /// Returns the token of the current connection and, for a service
    /// account, the source of new tokens; or why there is no connection.
    pub(super) fn upload_credentials(
        &self,
    ) -> Result<(Secret, Option<Arc<dyn TokenRefresher>>), String> {
        let connection = self.connect.connection().map_err(str::to_owned)?;
        match connection.credential {
            Credential::Token(token) => Ok((token, None)),
            Credential::ServiceAccount(account) => {
                let refresher: Arc<dyn TokenRefresher> = Arc::new(account.source);
                Ok((account.token, Some(refresher)))
            }
            Credential::Key(_) => {
                Err("Press Check on the Connect step to sign in with the key.".to_owned())
            }
        }
    }

    pub(crate) fn run_upload_action(&mut self, action: UploadAction) {
        let control = self.run.as_ref().and_then(|run| run.control.clone());
        match action {
            UploadAction::Start => self.prepare_upload(),
            UploadAction::LookForExisting => self.look_for_existing(),
            UploadAction::StopLooking => self.stop_looking(),
            UploadAction::Pause => control.iter().for_each(|control| control.pause()),
            UploadAction::Resume => control.iter().for_each(|control| control.resume()),
            UploadAction::Cancel => control.iter().for_each(|control| control.cancel()),
            UploadAction::NewToken => {
                self.modal = Some(Modal::Run(RunModal::NewToken {
                    message: "The server refused the token, so the upload is paused.".to_owned(),
                    input: String::new(),
                }));
            }
            UploadAction::ShowResults => self.step = Step::Results,
        }
    }

    pub(super) fn attach_session(&mut self, session: Session, kind: SessionKind) {
        let run = self.run.get_or_insert_with(RunState::default);
        run.run_id = Some(session.run_id().to_owned());
        run.control = Some(session.control());
        run.session = Some(session);
        run.kind = Some(kind);
        run.progress = None;
        run.paused = None;
        run.failure = None;
        run.ended = None;
        run.reports_message = None;
        run.pending_merges.clear();
    }

    /// Returns the facts the upload screen and its main action show.
    pub(crate) fn upload_view(&self) -> UploadView<'_> {
        let counts = self
            .document
            .as_ref()
            .and_then(|document| document.counts)
            .unwrap_or_default();
        let destination = self.connect.connection().map(|connection| {
            format!(
                "{}, location {}",
                connection.environment.label(),
                connection.location_id
            )
        });
        UploadView {
            destination,
            counts,
            run: self.run.as_ref(),
            starting: self.tasks.is_running(TaskKind::Plan),
            foresight_key: self.foresight_key(),
        }
    }

    pub(crate) fn apply_upload_event(&mut self, event: UploadEvent) {
        let Some(run) = &mut self.run else {
            return;
        };
        match event {
            UploadEvent::Started { run_id, counts, .. } => {
                run.run_id = Some(run_id);
                run.counts = counts;
            }
            UploadEvent::Progress(progress) => {
                run.counts = progress.counts;
                run.progress = Some(progress);
            }
            UploadEvent::RowFinished { .. } | UploadEvent::RowUndone { .. } => {}
            UploadEvent::Paused(reason) => run.paused = Some(reason),
            UploadEvent::TokenRequired { message } => {
                self.modal = Some(Modal::Run(RunModal::NewToken {
                    message,
                    input: String::new(),
                }));
            }
            UploadEvent::Resumed => run.paused = None,
            UploadEvent::Finished(end) => self.session_finished(end),
            UploadEvent::Failed { run_id, message } => {
                tracing::error!(
                    run_id = run_id.as_deref().unwrap_or(""),
                    "upload session failed: {message}"
                );
                run.failure = Some(message);
                run.session = None;
                run.control = None;
                self.load_run_rows();
            }
        }
    }

    fn session_finished(&mut self, end: SessionEnd) {
        let Some(run) = &mut self.run else {
            return;
        };
        tracing::info!(run_id = %end.run_id, cancelled = end.cancelled, "upload session finished");
        run.counts = end.counts;
        run.session = None;
        run.control = None;
        run.paused = None;
        let merges = std::mem::take(&mut run.pending_merges);
        let finished = !end.cancelled && end.kind != SessionKind::Undo;
        let chain_merges = finished && end.kind == SessionKind::Upload && !merges.is_empty();
        run.ended = Some(end);
        if chain_merges {
            self.merge_foreseen(merges);
            return;
        }
        if finished && self.step == Step::Upload {
            self.step = Step::Results;
        }
        self.load_run_rows();
    }

    /// Merges the rows found on file before sending that the user chose to
    /// merge; the upload session recorded them as conflicts.
    fn merge_foreseen(&mut self, rows: Vec<u32>) {
        tracing::debug!(
            rows = rows.len(),
            "merging rows found on file before sending"
        );
        let selection = RowSelection::Rows(rows);
        self.start_session(SessionKind::Resolve, move |uploader, run_id, token| {
            uploader.resolve(run_id, selection, Resolution::Merge, token)
        });
    }

    /// Reads every row of the run from the journal, for the results.
    fn load_run_rows(&mut self) {
        let Some(run_id) = self.run.as_ref().and_then(|run| run.run_id.clone()) else {
            return;
        };
        if let Some(run) = &mut self.run {
            run.rows = None;
        }
        let path = self.journal_path();
        self.tasks
            .spawn_blocking(TaskKind::Reports, "Loading the results", None, move || {
                let rows = Journal::open(&path)
                    .and_then(|journal| journal.rows(&run_id))
                    .map_err(|err| error_chain(&err));
                Outcome::RunRows(rows)
            });
    }

    pub(crate) fn apply_run_rows(&mut self, result: Result<Vec<JournalRow>, String>) {
        let Some(run) = &mut self.run else {
            return;
        };
        match result {
            Ok(rows) => run.rows = Some(rows),
            Err(message) => {
                tracing::error!("failed to read the run's rows from the journal: {message}");
                run.rows = Some(Vec::new());
                run.failure = Some(format!(
                    "The results could not be read from the journal ({message}). The import \
                     itself is recorded; restart the app to see them."
                ));
            }
        }
        self.rows_revision += 1;
    }

    pub(crate) fn run_results_action(&mut self, action: ResultsAction) {
        match action {
            ResultsAction::Resolve { rows, resolution } => {
                let selection = rows.map_or(RowSelection::All, RowSelection::Rows);
                self.start_session(SessionKind::Resolve, move |uploader, run_id, token| {
                    uploader.resolve(run_id, selection, resolution, token)
                });
            }
            ResultsAction::SaveReports => self.save_reports(),
            ResultsAction::Undo => self.plan_undo(),
            ResultsAction::NewImport => {
                self.run = None;
                self.document = None;
                self.step = Step::Open;
            }
        }
    }

    /// Starts a session on the current run with the current token.
    fn start_session(
        &mut self,
        kind: SessionKind,
        start: impl FnOnce(&Uploader, &str, Secret) -> Session,
    ) {
        let Some(run_id) = self.run.as_ref().and_then(|run| run.run_id.clone()) else {
            return;
        };
        match self.upload_credentials() {
            Ok((token, refresher)) => {
                let session = start(&self.uploader(refresher), &run_id, token);
                self.attach_session(session, kind);
            }
            Err(message) => self.show_notice(true, message),
        }
    }

    fn save_reports(&mut self) {
        let Some(run_id) = self.run.as_ref().and_then(|run| run.run_id.clone()) else {
            return;
        };
        let journal_path = self.journal_path();
        let fallback = self
            .paths
            .as_ref()
            .map(|paths| paths.data_dir.join("reports"));
        let dialogs = self.file_dialogs;
        self.tasks
            .spawn(TaskKind::Reports, "Saving reports", async move {
                let folder = if dialogs {
                    rfd::AsyncFileDialog::new()
                        .set_title("Choose a folder for the reports")
                        .pick_folder()
                        .await
                        .map(|handle| handle.path().to_path_buf())
                } else {
                    fallback
                };
                let Some(folder) = folder else {
                    return Outcome::ReportsSaved(Ok(None));
                };
                let written = tokio::task::spawn_blocking(move || {
                    let journal = Journal::open(&journal_path).map_err(|err| error_chain(&err))?;
                    report::write_reports(&journal, &run_id, &folder)
                        .map(|files| (folder, files.len()))
                        .map_err(|err| error_chain(&err))
                })
                .await
                .unwrap_or_else(|_| Err("the report writer stopped".to_owned()));
                Outcome::ReportsSaved(written.map(Some))
            });
    }

    pub(crate) fn apply_reports_saved(&mut self, result: Result<Option<(PathBuf, usize)>, String>) {
        let Some(run) = &mut self.run else {
            return;
        };
        run.reports_message = match result {
            Ok(None) => None,
            Ok(Some((folder, files))) => Some((
                false,
                format!("Saved {files} report files in {}.", folder.display()),
            )),
            Err(message) => {
                tracing::error!("failed to save reports: {message}");
                Some((true, format!("The reports could not be saved: {message}.")))
            }
        };
    }

    fn plan_undo(&mut self) {
        let Some(run_id) = self.run.as_ref().and_then(|run| run.run_id.clone()) else {
            return;
        };
        let uploader = self.uploader(None);
        self.tasks
            .spawn(TaskKind::Undo, "Preparing the undo", async move {
                let plan = uploader.undo_plan(&run_id).await;
                Outcome::UndoPlanned(plan.map_err(|err| error_chain(&err)))
            });
    }

    pub(crate) fn apply_undo_planned(&mut self, result: Result<UndoPlan, String>) {
        match result {
            Ok(plan) => self.modal = Some(Modal::Run(RunModal::ConfirmUndo(plan))),
            Err(message) => {
                tracing::error!("failed to prepare the undo: {message}");
                self.show_notice(true, format!("The undo could not be prepared: {message}."));
            }
        }
    }

    /// Looks in the journal for runs an earlier start left unfinished.
    /// With `from_menu`, shows a notice when there is none.
    pub(crate) fn find_unfinished_runs(&mut self, from_menu: bool) {
        let uploader = self.uploader(None);
        self.tasks.spawn(
            TaskKind::Upload,
            "Looking for unfinished imports",
            async move {
                let runs = uploader.unfinished_runs().await;
                Outcome::UnfinishedRuns {
                    result: runs.map_err(|err| error_chain(&err)),
                    from_menu,
                }
            },
        );
    }

    pub(crate) fn apply_unfinished_runs(
        &mut self,
        result: Result<Vec<RunSummary>, String>,
        from_menu: bool,
    ) {
        match result {
            Ok(runs) if runs.is_empty() => {
                self.unfinished_runs.clear();
                if from_menu {
                    self.show_notice(false, "There are no unfinished imports.".to_owned());
                }
            }
            Ok(runs) => {
                if self.modal.is_none() {
                    self.modal = Some(Modal::Run(RunModal::Resume(runs.clone())));
                }
                self.unfinished_runs = runs;
            }
            Err(message) => tracing::warn!("failed to list unfinished runs: {message}"),
        }
    }

    /// Lists the latest runs of the journal for "Past imports".
    pub(crate) fn find_past_runs(&mut self) {
        let path = self.journal_path();
        self.tasks.spawn_blocking(
            TaskKind::PastRuns,
            "Listing past imports",
            None,
            move || {
                let runs = Journal::open(&path)
                    .and_then(|journal| journal.runs())
                    .map(|mut runs| {
                        runs.truncate(PAST_RUNS_SHOWN);
                        runs
                    })
                    .map_err(|err| error_chain(&err));
                Outcome::PastRuns(runs)
            },
        );
    }

    pub(crate) fn apply_past_runs(&mut self, result: Result<Vec<RunSummary>, String>) {
        match result {
            Ok(runs) if runs.is_empty() => {
                self.show_notice(
                    false,
                    "No import has been made on this computer yet.".to_owned(),
                );
            }
            Ok(runs) => {
                // An earlier "no import yet" notice is out of date now.
                self.notice = None;
                if self.modal.is_none() {
                    self.modal = Some(Modal::Run(RunModal::Past(runs)));
                }
            }
            Err(message) => {
                tracing::warn!("failed to list past runs: {message}");
                self.show_notice(
                    true,
                    format!("The past imports could not be listed: {message}."),
                );
            }
        }
    }

    /// Opens the results of a past run, read again from the journal.
    fn show_past_results(&mut self, summary: Box<RunSummary>) {
        if self.run.as_ref().is_some_and(RunState::is_active) {
            return;
        }
        tracing::info!(
            run_id = summary.info.id,
            "showing the results of a past run"
        );
        self.run = Some(RunState {
            run_id: Some(summary.info.id),
            counts: summary.counts,
            ..RunState::default()
        });
        self.step = Step::Results;
        self.load_run_rows();
    }

    /// Marks an unfinished run as abandoned, and keeps the list of the
    /// others open while any is left.
    fn discard_run(&mut self, run_id: String, modal: Option<Modal>) {
        tracing::info!(run_id, "discarding an unfinished run");
        self.unfinished_runs.retain(|run| run.info.id != run_id);
        if let Some(Modal::Run(RunModal::Resume(mut runs))) = modal {
            runs.retain(|run| run.info.id != run_id);
            if !runs.is_empty() {
                self.modal = Some(Modal::Run(RunModal::Resume(runs)));
            }
        }
        let uploader = self.uploader(None);
        self.tasks.spawn(
            TaskKind::Discard,
            "Discarding an unfinished import",
            async move {
                let result = uploader.discard_unfinished(&run_id).await;
                Outcome::RunDiscarded(result.map_err(|err| error_chain(&err)))
            },
        );
    }

    pub(crate) fn apply_run_discarded(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) => self.show_notice(
                false,
                "The import is no longer offered. The customers it sent stay in Business App."
                    .to_owned(),
            ),
            Err(message) => {
                tracing::warn!("failed to discard an unfinished run: {message}");
                self.show_notice(
                    true,
                    format!("The import could not be discarded: {message}."),
                );
            }
        }
    }

    /// Returns why an unfinished run cannot be resumed now, if it cannot.
    pub(crate) fn resume_blocked(&self, run: &RunSummary) -> Option<String> {
        if self.run.as_ref().is_some_and(RunState::is_active) {
            return Some("Another upload is running".to_owned());
        }
        if self.settings.environment != run.info.environment {
            return Some(format!(
                "Choose {} on the Connect step first",
                run.info.environment.label()
            ));
        }
        // A run on the built-in sandbox resumes on the sandbox running now,
        // which keeps its customers in its state file across starts.
        self.upload_credentials().err()
    }

    pub(crate) fn run_run_modal_choice(&mut self, choice: RunModalChoice) {
        let modal = self.modal.take();
        match choice {
            RunModalChoice::Close => {}
            RunModalChoice::Discard(run_id) => self.discard_run(run_id, modal),
            RunModalChoice::ShowResults(summary) => self.show_past_results(summary),
            RunModalChoice::Resume(run_id) => {
                self.run = Some(RunState::default());
                if let Some(run) = &mut self.run {
                    run.run_id = Some(run_id);
                }
                self.unfinished_runs.clear();
                self.start_session(SessionKind::Upload, |uploader, run_id, token| {
                    uploader.resume(run_id, token)
                });
                self.step = Step::Upload;
            }
            RunModalChoice::UseNewToken => {
                if let Some(Modal::Run(RunModal::NewToken { input, .. })) = modal {
                    self.use_new_token(Secret::new(input.trim()));
                }
            }
            RunModalChoice::ConfirmUndo => {
                self.start_session(SessionKind::Undo, |uploader, run_id, token| {
                    uploader.undo(run_id, token)
                });
            }
        }
    }

    /// Hands a new token to the paused session and keeps it for the
    /// sessions that follow.
    fn use_new_token(&mut self, token: Secret) {
        if let Some(control) = self.run.as_ref().and_then(|run| run.control.clone()) {
            control.set_token(token.clone());
        }
        self.connect.status.token = Some(token);
        self.connect.status.token_remembered = false;
    }

    pub(crate) fn show_notice(&mut self, is_error: bool, message: String) {
        self.notice = Some(Notice { is_error, message });
    }
}
