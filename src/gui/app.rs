//! The app struct and its `eframe::App` impl. Per-frame work lives in
//! `logic.rs`, drawing in `layout.rs` and running actions in `actions/`.

use std::path::PathBuf;
use std::sync::mpsc;

use crate::paths::AppPaths;
use crate::settings::Settings;

use super::actions::Action;
use super::backend::TokenStore;
use super::connect::{ConnectForm, ConnectScreen, ConnectStatus};
use super::fix_row::FixRowState;
use super::mapping::MappingScreen;
use super::open::OpenScreen;
use super::preview::PreviewScreen;
use super::results::ResultsScreen;
use super::run::{RunModal, RunState, UploadForm};
use super::state::{Document, Step};
use super::tasks::{TaskEvent, TaskKind, Tasks};
use crate::upload::{RunSummary, default_batch_tag};

/// Setup of the app: [`super::run`] fills it for the real window and
/// tests fill it to stay out of the user's folders and keychain.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Folders of settings, presets, the journal and logs; `None` when the
    /// platform has no home folder, and then nothing is saved.
    pub paths: Option<AppPaths>,
    /// Settings loaded before the window opened (loading reads the disk,
    /// which the UI thread must not do).
    pub settings: Settings,
    /// A spreadsheet to open at once; the app lands on the mapping step
    /// once it is read.
    pub file: Option<PathBuf>,
    pub token_store: TokenStore,
    /// Whether native file dialogs may be shown. Tests turn them off, and the
    /// app then shows a hint to drag files onto the window.
    pub file_dialogs: bool,
}

impl AppOptions {
    /// Options for the real app: settings loaded from `paths`, tokens in
    /// the OS keychain, native file dialogs.
    pub fn load(paths: Option<AppPaths>, file: Option<PathBuf>) -> Self {
        let settings = paths
            .as_ref()
            .map(|paths| Settings::load(&paths.settings_file()))
            .unwrap_or_default();
        Self {
            paths,
            settings,
            file,
            token_store: TokenStore::system(),
            file_dialogs: true,
        }
    }
}

/// A modal shown over the current screen; one at a time.
#[derive(Debug, Clone)]
pub(crate) enum Modal {
    Welcome,
    About,
    FixRow(FixRowState),
    Run(RunModal),
    ConfirmResetSandbox,
}

/// A message in the status bar about something that has no place on the
/// current screen (a failed save of settings, the log folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub is_error: bool,
    pub message: String,
}

/// The importer's window.
pub struct ImporterApp {
    // Saved between runs:
    pub(crate) settings: Settings,

    // Runtime only:
    pub(crate) paths: Option<AppPaths>,
    pub(crate) token_store: TokenStore,
    pub(crate) file_dialogs: bool,
    pub(crate) tasks: Tasks,
    pub(crate) events: mpsc::Receiver<TaskEvent>,
    pub(crate) step: Step,
    pub(crate) modal: Option<Modal>,
    pub(crate) notice: Option<Notice>,
    pub(crate) connect: ConnectScreen,
    pub(crate) open: OpenScreen,
    pub(crate) document: Option<Document>,
    pub(crate) mapping: MappingScreen,
    pub(crate) preview: PreviewScreen,
    pub(crate) upload_form: UploadForm,
    pub(crate) results: ResultsScreen,
    /// The run being sent or reviewed.
    pub(crate) run: Option<RunState>,
    /// Bumped whenever the run's rows are reloaded.
    pub(crate) rows_revision: u64,
    /// Runs an earlier start left unfinished, offered for resuming.
    pub(crate) unfinished_runs: Vec<RunSummary>,
    /// Intents collected during the frame, run once at its end.
    pub(crate) pending: Vec<Action>,
}

impl ImporterApp {
    /// Creates the app and starts its first background jobs (the sandbox
    /// or the saved token, and the file given on the command line).
    pub fn new(ctx: &egui::Context, runtime: tokio::runtime::Handle, options: AppOptions) -> Self {
        super::theme::apply(ctx);
        let (tasks, events) = Tasks::new(runtime, ctx.clone());
        let settings = options.settings;
        let account = settings.environment.keychain_account();
        let location_id = settings
            .location_ids
            .get(&account)
            .cloned()
            .unwrap_or_default();
        let mut app = Self {
            connect: ConnectScreen {
                form: ConnectForm::new(&settings.environment, location_id),
                status: ConnectStatus::default(),
            },
            modal: (!settings.welcome_dismissed).then_some(Modal::Welcome),
            settings,
            paths: options.paths,
            token_store: options.token_store,
            file_dialogs: options.file_dialogs,
            tasks,
            events,
            step: Step::Connect,
            notice: None,
            open: OpenScreen::default(),
            document: None,
            mapping: MappingScreen::default(),
            preview: PreviewScreen::default(),
            upload_form: UploadForm {
                check_existing: false,
                batch_tag: default_batch_tag(),
                foresight: None,
            },
            results: ResultsScreen::default(),
            run: None,
            rows_revision: 0,
            unfinished_runs: Vec::new(),
            pending: Vec::new(),
        };
        app.pending.push(Action::Connect(
            super::connect::ConnectAction::SelectEnvironment,
        ));
        if let Some(file) = options.file {
            app.pending.push(Action::OpenFile(file));
        }
        if app.paths.is_some() {
            app.find_unfinished_runs(false);
        }
        app
    }

    /// Returns the name of the step on screen, such as "Preview".
    pub fn step_name(&self) -> &'static str {
        self.step.label()
    }

    /// Returns whether any background job is running.
    pub fn is_busy(&self) -> bool {
        self.tasks.iter().next().is_some()
    }

    /// Returns whether a spreadsheet is being read.
    pub fn is_busy_reading(&self) -> bool {
        self.tasks.is_running(TaskKind::Read)
    }
}

impl eframe::App for ImporterApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.receive_events(ctx);
        self.take_dropped_files(ctx);
        self.run_pending_actions(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.layout_ui(ui);
        self.run_pending_actions(ui.ctx());
    }
}
