//! Running upload sessions: starting a run, pausing, resuming and
//! cancelling it, a new token after a `401`, resolving conflicts, saving
//! reports, undo, and resuming runs left unfinished by an earlier start.

use std::path::PathBuf;
use std::sync::Arc;

use crate::environment::Environment;
use crate::report;
use crate::secret::Secret;
use crate::upload::journal::{Journal, JournalRow};
use crate::upload::{
    RowSelection, RunSummary, Session, SessionEnd, SessionKind, SessionSettings, Target,
    TokenRefresher, UndoPlan, UploadEvent, UploadPlan, Uploader,
};

use super::super::app::{ImporterApp, Modal, Notice};
use super::super::connect::Credential;
use super::super::logic::Outcome;
use super::super::results::ResultsAction;
use super::super::run::{RunModal, RunState};
use super::super::run_modals::RunModalChoice;
use super::super::state::Step;
use super::super::tasks::TaskKind;
use super::super::upload::UploadAction;
use super::error_chain;

/// Reason recorded for rows the user excluded in the preview.
const EXCLUDED_REASON: &str = "Excluded in the preview";

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
    fn uploader(&self, refresher: Option<Arc<dyn TokenRefresher>>) -> Uploader {
        let settings = SessionSettings {
            max_concurrency: self.settings.max_concurrency,
            refresher,
            ..SessionSettings::default()
        };
        Uploader::new(self.tasks.runtime().clone(), self.journal_path(), settings)
    }

    /// Returns the token of the current connection and, for a service
    /// account, the source of new tokens; or why there is no connection.
    fn upload_credentials(&self) -> Result<(Secret, Option<Arc<dyn TokenRefresher>>), String> {
        let connection = self.connect.connection().map_err(str::to_owned)?;
        match connection.credential {
            Credential::Token(token) => Ok((token, None)),
            Credential::ServiceAccount(account) => {
                let refresher: Arc<dyn TokenRefresher> = Arc::new(account.source);
                Ok((account.token, Some(refresher)))
            }
            Credential::KeyFile(_) => {
                Err("Press Check on the Connect step to sign in with the key file.".to_owned())
            }
        }
    }

    pub(crate) fn run_upload_action(&mut self, action: UploadAction) {
        let control = self.run.as_ref().and_then(|run| run.control.clone());
        match action {
            UploadAction::Start => self.start_upload(),
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

    /// Builds the run from the checked rows and starts sending.
    // NOTE: building the plan copies every row's cells on the UI thread;
    // about 50 ms for 100,000 rows, once per run.
    fn start_upload(&mut self) {
        let (token, refresher) = match self.upload_credentials() {
            Ok(credentials) => credentials,
            Err(message) => return self.show_notice(true, message),
        };
        let (Ok(connection), Some(document)) = (self.connect.connection(), &self.document) else {
            return;
        };
        let Some(rows) = &document.rows else {
            return;
        };
        let target = Target {
            environment: connection.environment,
            base_url: connection.base_url,
            location: connection.location_id,
        };
        let mut plan = UploadPlan::new(
            &document.table,
            rows.clone(),
            document.mapping.clone(),
            document.options.clone(),
            target,
        );
        for index in &document.excluded {
            if let Some(row) = plan.rows.get_mut(*index) {
                row.excluded = Some(EXCLUDED_REASON.to_owned());
            }
        }
        plan.batch_tag = self
            .settings
            .batch_tag
            .then(|| self.upload_form.batch_tag.trim().to_owned());
        plan.options.check_existing = self.upload_form.check_existing;
        self.save_settings();
        let session = self.uploader(refresher).start(plan, token);
        self.attach_session(session, SessionKind::Upload);
    }

    fn attach_session(&mut self, session: Session, kind: SessionKind) {
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
        let show_results = end.kind == SessionKind::Upload && !end.cancelled;
        run.ended = Some(end);
        if show_results && self.step == Step::Upload {
            self.step = Step::Results;
        }
        self.load_run_rows();
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
    pub(crate) fn find_unfinished_runs(&mut self) {
        let uploader = self.uploader(None);
        self.tasks.spawn(
            TaskKind::Upload,
            "Looking for unfinished imports",
            async move {
                let runs = uploader.unfinished_runs().await;
                Outcome::UnfinishedRuns(runs.map_err(|err| error_chain(&err)))
            },
        );
    }

    pub(crate) fn apply_unfinished_runs(&mut self, result: Result<Vec<RunSummary>, String>) {
        match result {
            Ok(runs) if runs.is_empty() => {}
            Ok(runs) => {
                if self.modal.is_none() {
                    self.modal = Some(Modal::Run(RunModal::Resume(runs.clone())));
                }
                self.unfinished_runs = runs;
            }
            Err(message) => tracing::warn!("failed to list unfinished runs: {message}"),
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
        // The built-in sandbox starts empty on a new port each time, so a
        // run on an earlier one has nothing to go back to.
        let connection = self.connect.connection();
        if run.info.environment == Environment::Sandbox
            && connection.is_ok_and(|connection| connection.base_url != run.info.base_url)
        {
            return Some(
                "This import went to the sandbox of an earlier session, which is gone".to_owned(),
            );
        }
        self.upload_credentials().err()
    }

    pub(crate) fn run_run_modal_choice(&mut self, choice: RunModalChoice) {
        let modal = self.modal.take();
        match choice {
            RunModalChoice::Close => {}
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
