//! Running the actions about the spreadsheet: choosing and reading a file,
//! changing the mapping, checking rows in the background, excluding rows
//! and fixing values.

use std::path::PathBuf;
use std::sync::Arc;

use crate::check::{self, CheckOptions, RowCheck};
use crate::progress::Progress;

use super::super::app::{ImporterApp, Modal};
use super::super::backend;
use super::super::fix_row::{FixRowChoice, FixRowState};
use super::super::logic::Outcome;
use super::super::mapping::MapAction;
use super::super::open::{OpenAction, SPREADSHEET_EXTENSIONS};
use super::super::preview::PreviewAction;
use super::super::state::{Document, Step};
use super::super::tasks::TaskKind;
use super::super::widgets;

/// Hint shown when no file dialog can be used.
const NO_DIALOG_HINT: &str =
    "No file dialog can be shown on this computer. Drag the spreadsheet onto this window instead.";

impl ImporterApp {
    pub(crate) fn run_open_action(&mut self, action: OpenAction) {
        match action {
            OpenAction::ChooseFile => self.choose_file(),
            OpenAction::CancelRead => {
                self.tasks.cancel(TaskKind::Read);
                self.open.note = Some("Reading was cancelled.".to_owned());
            }
            OpenAction::SelectSheet(sheet) => {
                if let Some(document) = &self.document {
                    let path = document.table.source.path.clone();
                    self.read_file(path, Some(sheet));
                }
            }
            OpenAction::Continue => self.go_to(Step::Map),
        }
    }

    fn choose_file(&mut self) {
        if !self.file_dialogs {
            self.open.note = Some(NO_DIALOG_HINT.to_owned());
            return;
        }
        self.open.note = None;
        self.tasks
            .spawn(TaskKind::Dialog, "Choosing a spreadsheet", async {
                let file = rfd::AsyncFileDialog::new()
                    .set_title("Open a customer list")
                    .add_filter("Spreadsheets", &SPREADSHEET_EXTENSIONS)
                    .add_filter("All files", &["*"])
                    .pick_file()
                    .await;
                Outcome::FileChosen(file.map(|handle| handle.path().to_path_buf()))
            });
    }

    pub(crate) fn apply_file_chosen(&mut self, path: Option<PathBuf>) {
        match path {
            Some(path) => self.read_file(path, None),
            // rfd returns `None` both when the user cancels and when no
            // dialog could be shown, so the hint covers both.
            None => {
                self.open.note = Some(
                    "No file was chosen. You can also drag the spreadsheet onto this window."
                        .to_owned(),
                );
            }
        }
    }

    /// Reads a file in the background; on success the app moves on to the
    /// mapping step.
    pub(crate) fn read_file(&mut self, path: PathBuf, sheet: Option<String>) {
        if self.step == Step::Connect && self.connect.form.credential_is_key_file() {
            // A JSON file dropped while choosing a key file is the key file.
            if path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
            {
                self.apply_key_file_chosen(Some(path));
                return;
            }
        }
        self.open.error = None;
        self.open.note = None;
        self.tasks.cancel(TaskKind::Check);
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let progress = Progress::new();
        let job_progress = progress.clone();
        let options = self.check_options();
        self.tasks.spawn_blocking(
            TaskKind::Read,
            format!("Reading {name}…"),
            Some(progress),
            move || {
                // Guessing samples every column's values, so it runs here
                // too rather than on the UI thread.
                let document = backend::read_table(&path, sheet, &job_progress).map(|table| {
                    let mapping = backend::guess_mapping(&table);
                    Box::new(Document::new(table, mapping, options))
                });
                Outcome::FileRead(document)
            },
        );
        if self.step != Step::Map {
            self.step = Step::Open;
        }
    }

    pub(crate) fn apply_file_read(&mut self, result: Result<Box<Document>, String>) {
        let document = match result {
            Ok(document) => *document,
            Err(message) => {
                // `backend::read_table` logged the error with its path.
                self.open.error = Some(message);
                self.step = Step::Open;
                return;
            }
        };
        tracing::debug!(rows = document.table.records.len(), "spreadsheet read");
        let has_rows = !document.table.records.is_empty();
        let headers = document.table.headers.clone();
        self.document = Some(document);
        self.preview = Default::default();
        self.find_matching_preset(headers);
        self.step = if has_rows { Step::Map } else { Step::Open };
    }

    fn check_options(&self) -> CheckOptions {
        CheckOptions {
            default_country: Some(self.settings.default_country.clone()),
        }
    }

    pub(crate) fn run_map_action(&mut self, action: MapAction) {
        match action {
            MapAction::Changed => self.mapping_changed(),
            MapAction::Open(action) => self.run_open_action(action),
            MapAction::Preset(action) => self.run_preset_action(action),
            MapAction::Continue => self.go_to(Step::Preview),
        }
    }

    /// Marks the checked rows stale after the mapping or default country
    /// changed; the preview checks again when shown.
    pub(crate) fn mapping_changed(&mut self) {
        let options = self.check_options();
        let Some(document) = &mut self.document else {
            return;
        };
        if document.options != options {
            document.options = options;
            self.save_settings();
        }
        if let Some(document) = &mut self.document {
            document.generation += 1;
            document.rows = None;
            document.rows_changed();
        }
        self.tasks.cancel(TaskKind::Check);
    }

    /// Starts checking every row unless the rows are up to date or a check
    /// of the current generation is running.
    pub(crate) fn ensure_checked(&mut self) {
        let needs_check = self
            .document
            .as_ref()
            .is_some_and(|document| document.rows.is_none());
        if needs_check && !self.tasks.is_running(TaskKind::Check) {
            self.start_check();
        }
    }

    /// Checks every row in the background; rows already shown stay until
    /// the new ones arrive.
    fn start_check(&mut self) {
        let Some(document) = &self.document else {
            return;
        };
        let table = Arc::clone(&document.table);
        let mapping = document.mapping.clone();
        let options = document.options.clone();
        let generation = document.generation;
        let progress = Progress::new();
        progress.set_total(table.records.len() as u64);
        let job_progress = progress.clone();
        let label = format!(
            "Checking {}…",
            widgets::counted(table.records.len(), "row", "rows")
        );
        self.tasks
            .spawn_blocking(TaskKind::Check, label, Some(progress), move || {
                let rows = check::check_table(&table, &mapping, &options, &job_progress);
                Outcome::Checked { generation, rows }
            });
    }

    pub(crate) fn apply_checked(&mut self, generation: u64, rows: Vec<RowCheck>) {
        let Some(document) = &mut self.document else {
            return;
        };
        if document.generation != generation {
            return;
        }
        document.rows = Some(Arc::new(rows));
        document.rows_changed();
    }

    pub(crate) fn run_preview_action(&mut self, action: PreviewAction) {
        match action {
            PreviewAction::SetExcluded { index, excluded } => self.set_excluded(index, excluded),
            PreviewAction::EditRow(index) => self.edit_row(index),
            PreviewAction::CancelCheck => self.tasks.cancel(TaskKind::Check),
            PreviewAction::Recheck => self.start_check(),
            PreviewAction::Continue => self.go_to(Step::Upload),
        }
    }

    fn set_excluded(&mut self, index: usize, excluded: bool) {
        let Some(document) = &mut self.document else {
            return;
        };
        if excluded {
            document.excluded.insert(index);
        } else {
            document.excluded.remove(&index);
        }
        document.rows_changed();
    }

    fn edit_row(&mut self, index: usize) {
        let Some(document) = &self.document else {
            return;
        };
        let issues = document
            .rows
            .as_ref()
            .and_then(|rows| rows.get(index))
            .map(|row| row.issues.clone())
            .unwrap_or_default();
        if let Some(state) = FixRowState::new(&document.table, &document.mapping, index, issues) {
            self.modal = Some(Modal::FixRow(state));
        }
    }

    pub(crate) fn run_fix_row_choice(&mut self, choice: FixRowChoice) {
        let modal = self.modal.take();
        if choice == FixRowChoice::Cancel {
            return;
        }
        if let Some(Modal::FixRow(state)) = modal {
            self.save_row_fix(&state);
        }
    }

    /// Writes the edited values into the table, checks that row at once
    /// (one row takes microseconds), then checks every row again in the
    /// background so duplicate warnings follow the new values.
    fn save_row_fix(&mut self, state: &FixRowState) {
        let Some(document) = &mut self.document else {
            return;
        };
        let table = Arc::make_mut(&mut document.table);
        let Some(record) = table.records.get_mut(state.index) else {
            return;
        };
        for cell in &state.cells {
            record.set(cell.column, &cell.value);
        }
        let checked = check::check_record(record, &document.mapping, &document.options);
        if let Some(row) = document
            .rows
            .as_mut()
            .and_then(|rows| Arc::make_mut(rows).get_mut(state.index))
        {
            *row = checked;
        }
        document.generation += 1;
        document.rows_changed();
        self.start_check();
    }
}
