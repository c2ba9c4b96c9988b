//! Uploading a checked sheet to the customers API, resumably.
//!
//! An [`Uploader`] starts sessions on the tokio runtime it is given: a new
//! run ([`Uploader::start`]), the rest of an interrupted one
//! ([`Uploader::resume`]), the merge or skip of its conflicts
//! ([`Uploader::resolve`]) and its undo ([`Uploader::undo`]). Each returns a
//! [`Session`] at once: its events arrive on a channel the GUI drains each
//! frame, and an [`UploadControl`] pauses, resumes, cancels it or hands it a
//! new token. The caller never waits on disk or network.
//!
//! Each row's state lives in the run [`journal`] and is written before the
//! request that depends on it, so a session can be stopped at any moment,
//! even by killing the process, and resumed without duplicates or losses.
//! The API has no idempotency key, so a create whose response was lost is
//! settled by evidence: its retry meets a `409`, the existing customer is
//! exactly the row as sent, and no other row of the journal names it.
//!
//! - `plan.rs`: what a new run sends ([`UploadPlan`]).
//! - `session.rs`: preparing a session's run in the journal, and its end.
//! - `dispatcher.rs`: the loop (concurrency, retries, pauses, progress).
//! - `attempt.rs`: one try at one row (create, merge, delete, restore).
//! - `limiter.rs`, `retry.rs`: AIMD concurrency and back-off.
//! - `existing.rs`: conflicts foreseen from the existing customers.

mod attempt;
mod dispatcher;
mod events;
mod existing;
pub mod journal;
mod limiter;
mod plan;
mod retry;
mod session;

use std::error::Error;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::mpsc;

pub use self::attempt::skip_reason;
pub use self::events::{
    PauseReason, SessionEnd, SessionKind, UploadControl, UploadEvent, UploadProgress,
};
pub use self::existing::ExistingCustomers;
pub use self::journal::{
    Counts, Resolution, RowState, RunInfo, RunOptions, RunSummary, UndoPlan, UndoState,
};
use self::journal::{Journal, JournalError};
pub use self::limiter::Limiter;
pub use self::plan::{PlanRow, Target, UploadPlan, default_batch_tag};
pub use self::retry::RetryPolicy;
use self::session::Job;
use crate::api::ClientOptions;
use crate::secret::Secret;

/// The future a [`TokenRefresher`] returns.
pub type RefreshFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Secret, Box<dyn Error + Send + Sync>>> + Send + 'a>>;

/// Gets a new token when the server refuses the current one (`401`), such
/// as the service-account sign-in. Without one, a session requests a token
/// from the user through [`UploadEvent::TokenRequired`].
pub trait TokenRefresher: Send + Sync {
    /// Returns a new token. The error's `Display` is shown to the user.
    fn refresh(&self) -> RefreshFuture<'_>;
}

impl TokenRefresher for crate::auth::TokenSource {
    fn refresh(&self) -> RefreshFuture<'_> {
        Box::pin(async move {
            crate::auth::TokenSource::refresh(self)
                .await
                .map_err(|err| Box::new(err) as Box<dyn Error + Send + Sync>)
        })
    }
}

/// Selection of the rows of a run that a resolution applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowSelection {
    All,
    /// Spreadsheet row numbers.
    Rows(Vec<u32>),
}

impl RowSelection {
    pub fn contains(&self, row: u32) -> bool {
        match self {
            Self::All => true,
            Self::Rows(rows) => rows.contains(&row),
        }
    }
}

/// Request settings of sessions.
#[derive(Clone)]
pub struct SessionSettings {
    /// Requests in flight at most (the `max_concurrency` setting); the
    /// session lowers it while the server is overloaded.
    pub max_concurrency: usize,
    pub client: ClientOptions,
    pub retry: RetryPolicy,
    pub refresher: Option<Arc<dyn TokenRefresher>>,
    /// Base URL of the sandbox running now, if any. Sessions of runs made
    /// on the sandbox send there; see [`run_base_url`].
    pub sandbox_base_url: Option<String>,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            client: ClientOptions::default(),
            retry: RetryPolicy::default(),
            refresher: None,
            sandbox_base_url: None,
        }
    }
}

impl std::fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSettings")
            .field("max_concurrency", &self.max_concurrency)
            .field("client", &self.client)
            .field("retry", &self.retry)
            .field("refresher", &self.refresher.is_some())
            .field("sandbox_base_url", &self.sandbox_base_url)
            .finish()
    }
}

/// Returns the base URL that sessions of a recorded run send to. A run
/// whose environment is [`Environment::Sandbox`] goes to the sandbox
/// running now, `sandbox_base_url`, because the in-app sandbox listens on
/// a new port each time the app starts (it keeps its customers in its
/// state file). Every other run, and a sandbox run while no sandbox runs,
/// goes to the base URL recorded with it.
///
/// [`Environment::Sandbox`]: crate::environment::Environment::Sandbox
pub fn run_base_url(info: &RunInfo, sandbox_base_url: Option<&str>) -> String {
    match (&info.environment, sandbox_base_url) {
        (crate::environment::Environment::Sandbox, Some(current)) => current.to_owned(),
        _ => info.base_url.clone(),
    }
}

/// A running session: its run id, events and control.
#[derive(Debug)]
pub struct Session {
    run_id: String,
    control: UploadControl,
    events: mpsc::UnboundedReceiver<UploadEvent>,
}

impl Session {
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Returns a handle that pauses, resumes or cancels the session.
    pub fn control(&self) -> UploadControl {
        self.control.clone()
    }

    /// Returns the next event without waiting, for a GUI frame; `None` when
    /// none is waiting or the session has ended.
    pub fn try_next_event(&mut self) -> Option<UploadEvent> {
        self.events.try_recv().ok()
    }

    /// Waits for the next event; `None` once the last one was received.
    pub async fn next_event(&mut self) -> Option<UploadEvent> {
        self.events.recv().await
    }
}

/// Starts upload sessions on a runtime, with one journal file.
#[derive(Debug, Clone)]
pub struct Uploader {
    runtime: Handle,
    journal_path: PathBuf,
    settings: SessionSettings,
}

impl Uploader {
    /// `journal_path` is normally `AppPaths::journal_file()`.
    pub fn new(runtime: Handle, journal_path: PathBuf, settings: SessionSettings) -> Self {
        Self {
            runtime,
            journal_path,
            settings,
        }
    }

    pub fn journal_path(&self) -> &std::path::Path {
        &self.journal_path
    }

    /// Starts a new run of `plan`: records it in the journal, then sends its
    /// ready rows with `token`.
    pub fn start(&self, plan: UploadPlan, token: Secret) -> Session {
        let run_id = uuid::Uuid::new_v4().to_string();
        let job = Job::Start {
            run_id: run_id.clone(),
            plan: Box::new(plan),
        };
        self.spawn(run_id, job, token)
    }

    /// Continues a run that has rows left to send or merge. Rows whose
    /// request was in flight when the run stopped are sent again and
    /// settled as described in the module documentation.
    pub fn resume(&self, run_id: &str, token: Secret) -> Session {
        let job = Job::Resume {
            run_id: run_id.to_owned(),
        };
        self.spawn(run_id.to_owned(), job, token)
    }

    /// Skips or merges the selected conflict rows of a run.
    pub fn resolve(
        &self,
        run_id: &str,
        rows: RowSelection,
        resolution: Resolution,
        token: Secret,
    ) -> Session {
        let job = Job::Resolve {
            run_id: run_id.to_owned(),
            rows,
            resolution,
        };
        self.spawn(run_id.to_owned(), job, token)
    }

    /// Deletes the customers the run created and restores the customers its
    /// merges changed. Show [`Uploader::undo_plan`] to the user first.
    pub fn undo(&self, run_id: &str, token: Secret) -> Session {
        let job = Job::Undo {
            run_id: run_id.to_owned(),
        };
        self.spawn(run_id.to_owned(), job, token)
    }

    fn spawn(&self, run_id: String, job: Job, token: Secret) -> Session {
        let (events, receiver) = mpsc::unbounded_channel();
        let (commands, command_receiver) = mpsc::unbounded_channel();
        let environment = session::Environment {
            journal_path: self.journal_path.clone(),
            settings: self.settings.clone(),
            token,
            events,
            commands: command_receiver,
        };
        self.runtime.spawn(session::run(environment, job));
        Session {
            run_id,
            control: UploadControl::new(commands),
            events: receiver,
        }
    }

    /// Returns what undoing a run would change, for the user to confirm.
    pub async fn undo_plan(&self, run_id: &str) -> Result<UndoPlan, JournalError> {
        let run_id = run_id.to_owned();
        self.with_journal(move |journal| journal.undo_plan(&run_id))
            .await
    }

    /// Returns the runs with rows left to send or merge, newest first.
    /// Undone and abandoned runs are not listed.
    pub async fn unfinished_runs(&self) -> Result<Vec<RunSummary>, JournalError> {
        self.with_journal(|journal| journal.unfinished_runs()).await
    }

    /// Marks an unfinished run as abandoned: it is no longer listed or
    /// resumed, and its rows keep their outcomes (undo still covers what
    /// it created). Fails with [`JournalError::Busy`] while a session works
    /// on it.
    pub async fn discard_unfinished(&self, run_id: &str) -> Result<(), JournalError> {
        let run_id = run_id.to_owned();
        self.with_journal(move |journal| journal.abandon_run(&run_id))
            .await
    }

    /// Runs `read` on the journal on a blocking thread of the runtime.
    async fn with_journal<T, F>(&self, read: F) -> Result<T, JournalError>
    where
        T: Send + 'static,
        F: FnOnce(&Journal) -> Result<T, JournalError> + Send + 'static,
    {
        let path = self.journal_path.clone();
        self.runtime
            .spawn_blocking(move || read(&Journal::open(&path)?))
            .await
            .map_err(|_| JournalError::WriterStopped)?
    }
}
