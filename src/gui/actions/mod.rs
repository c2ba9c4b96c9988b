//! Running the intents the screens return, once per frame, and applying
//! the results of the background jobs they start.
//!
//! `connect.rs` covers the connection (sandbox, keychain, access check),
//! `document.rs` the spreadsheet (reading, mapping, checking, fixing),
//! `presets.rs` saved mappings, `upload.rs` upload sessions and results.

mod connect;
mod document;
mod plan;
mod presets;
mod upload;

pub(crate) use presets::PresetsUpdate;

use std::path::PathBuf;

use crate::paths::AppPaths;

use super::app::{ImporterApp, Modal, Notice};
use super::connect::ConnectAction;
use super::fix_row::FixRowChoice;
use super::mapping::MapAction;
use super::open::OpenAction;
use super::preview::PreviewAction;
use super::results::ResultsAction;
use super::run::RunModal;
use super::run_modals::RunModalChoice;
use super::state::Step;
use super::tasks::TaskKind;
use super::upload::UploadAction;

/// Something the user asked for, run by the app after the frame is drawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    GoTo(Step),
    Connect(ConnectAction),
    Open(OpenAction),
    /// Read a file given on the command line, dropped or chosen.
    OpenFile(PathBuf),
    Map(MapAction),
    Preview(PreviewAction),
    FixRow(FixRowChoice),
    Upload(UploadAction),
    Results(ResultsAction),
    RunModal(RunModalChoice),
    ShowUnfinishedRuns,
    ShowPastRuns,
    /// Delete every customer of the built-in sandbox (confirmed).
    ResetSandbox,
    DismissWelcome,
    ShowAbout,
    CloseModal,
    OpenLogFolder,
    Quit,
}

impl ImporterApp {
    /// Runs every action collected so far, in order.
    pub(crate) fn run_pending_actions(&mut self, ctx: &egui::Context) {
        while !self.pending.is_empty() {
            let actions = std::mem::take(&mut self.pending);
            for action in actions {
                self.run_action(ctx, action);
            }
        }
    }

    fn run_action(&mut self, ctx: &egui::Context, action: Action) {
        tracing::debug!(?action, "running action");
        match action {
            Action::GoTo(step) => self.go_to(step),
            Action::Connect(action) => self.run_connect_action(action),
            Action::Open(action) => self.run_open_action(action),
            Action::OpenFile(path) => self.read_file(path, None),
            Action::Map(action) => self.run_map_action(action),
            Action::Preview(action) => self.run_preview_action(action),
            Action::FixRow(choice) => self.run_fix_row_choice(choice),
            Action::Upload(action) => self.run_upload_action(action),
            Action::Results(action) => self.run_results_action(action),
            Action::RunModal(choice) => self.run_run_modal_choice(choice),
            Action::ShowUnfinishedRuns => self.find_unfinished_runs(true),
            Action::ShowPastRuns => self.find_past_runs(),
            Action::ResetSandbox => self.reset_sandbox(),
            Action::DismissWelcome => self.dismiss_welcome(),
            Action::ShowAbout => self.modal = Some(Modal::About),
            Action::CloseModal => self.modal = None,
            Action::OpenLogFolder => self.open_log_folder(),
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
        }
    }

    /// Moves to a step; entering the preview checks the rows when they are
    /// stale.
    pub(crate) fn go_to(&mut self, step: Step) {
        self.step = step;
        match step {
            Step::Preview => self.ensure_checked(),
            Step::Upload => self.ensure_foresight(),
            _ => {}
        }
    }

    fn dismiss_welcome(&mut self) {
        self.modal = None;
        if !self.unfinished_runs.is_empty() {
            self.modal = Some(Modal::Run(RunModal::Resume(self.unfinished_runs.clone())));
        }
        self.settings.welcome_dismissed = true;
        self.save_settings();
    }

    /// Saves the settings in the background; a failure shows in the status
    /// bar.
    pub(crate) fn save_settings(&mut self) {
        let Some(paths) = &self.paths else {
            return;
        };
        let path = paths.settings_file();
        let settings = self.settings.clone();
        self.tasks
            .spawn_blocking(TaskKind::Settings, "Saving settings", None, move || {
                super::logic::Outcome::SettingsSaved(
                    settings.save(&path).map_err(|err| error_chain(&err)),
                )
            });
    }

    pub(crate) fn apply_settings_saved(&mut self, result: Result<(), String>) {
        if let Err(message) = result {
            tracing::warn!("failed to save settings: {message}");
            self.notice = Some(Notice {
                is_error: true,
                message: format!(
                    "Your settings could not be saved ({message}). They apply until the app \
                     closes."
                ),
            });
        }
    }

    fn open_log_folder(&mut self) {
        let Some(AppPaths { log_dir, .. }) = self.paths.clone() else {
            self.notice = Some(Notice {
                is_error: true,
                message: "This computer has no home folder, so the app keeps no log files."
                    .to_owned(),
            });
            return;
        };
        self.tasks.spawn_blocking(
            TaskKind::LogFolder,
            "Opening the log folder",
            None,
            move || {
                let result = std::fs::create_dir_all(&log_dir)
                    .and_then(|()| open::that_detached(&log_dir))
                    .map_err(|err| format!("{}: {err}", log_dir.display()));
                super::logic::Outcome::LogFolderOpened(result)
            },
        );
    }

    pub(crate) fn apply_log_folder_opened(&mut self, result: Result<(), String>) {
        if let Err(message) = result {
            tracing::warn!("failed to open the log folder: {message}");
            self.notice = Some(Notice {
                is_error: true,
                message: format!(
                    "The log folder could not be opened with the file manager ({message}). \
                     Open that folder by hand."
                ),
            });
        }
    }
}

/// Formats an error with its sources, joined by `: `.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
