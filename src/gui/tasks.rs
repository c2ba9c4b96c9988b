//! Background work of the app: every slow job (disk, network, keychain,
//! file dialogs, checking many rows) runs on the tokio runtime and reports
//! back over one channel that the app drains each frame.
//!
//! Each kind of job has one slot. Starting a job of a kind that is already
//! running supersedes the old one: its progress handle is cancelled and its
//! late result is dropped, so a stale read never replaces a newer file.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::mpsc;

use crate::progress::Progress;

use super::logic::Outcome;

/// The kinds of background job, one slot each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TaskKind {
    Sandbox,
    Keychain,
    /// Reading a chosen service-account key file and saving it.
    KeyFile,
    Access,
    Dialog,
    Read,
    Check,
    /// Building the plan of a new run.
    Plan,
    /// Looking for customers already on file before sending.
    Foresee,
    Presets,
    Settings,
    Upload,
    Reports,
    Undo,
    /// Marking an unfinished run as abandoned.
    Discard,
    /// Listing the runs in the journal.
    PastRuns,
    LogFolder,
}

/// A result coming back from a background job.
pub(crate) struct TaskEvent {
    pub kind: TaskKind,
    /// Sequence number the job was started with; a job superseded by a
    /// newer one of the same kind has an older number.
    pub id: u64,
    pub outcome: Outcome,
}

/// The sending half handed to jobs: sends an event and wakes the UI.
#[derive(Clone)]
pub(crate) struct EventSender {
    sender: mpsc::Sender<TaskEvent>,
    ctx: egui::Context,
}

impl EventSender {
    /// Sends an event and requests a repaint so the UI applies it at once. A
    /// closed channel means the window is gone, so the event is dropped.
    pub fn send(&self, event: TaskEvent) {
        self.sender.send(event).ok();
        self.ctx.request_repaint();
    }
}

/// A job shown to the user while it runs.
#[derive(Debug, Clone)]
pub(crate) struct RunningTask {
    pub id: u64,
    /// Description of the job, such as "Reading customers.csv".
    pub label: String,
    /// Counts and cancel flag, for jobs that report them.
    pub progress: Option<Progress>,
}

/// The running jobs by kind, and the way to start new ones.
pub(crate) struct Tasks {
    runtime: tokio::runtime::Handle,
    sender: EventSender,
    running: BTreeMap<TaskKind, RunningTask>,
    next_id: u64,
}

/// A handle a job uses to report its result.
#[derive(Clone)]
pub(crate) struct Reporter {
    kind: TaskKind,
    id: u64,
    sender: EventSender,
}

impl Reporter {
    /// Sends the job's final event.
    pub fn finish(&self, outcome: Outcome) {
        self.sender.send(TaskEvent {
            kind: self.kind,
            id: self.id,
            outcome,
        });
    }
}

impl Tasks {
    /// Creates the task slots and the channel; the receiver goes to the app.
    pub fn new(
        runtime: tokio::runtime::Handle,
        ctx: egui::Context,
    ) -> (Self, mpsc::Receiver<TaskEvent>) {
        let (sender, receiver) = mpsc::channel();
        let tasks = Self {
            runtime,
            sender: EventSender { sender, ctx },
            running: BTreeMap::new(),
            next_id: 0,
        };
        (tasks, receiver)
    }

    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Runs blocking work (disk, keychain, CPU-heavy checking) on the
    /// runtime's blocking pool; its return value is the final event.
    pub fn spawn_blocking(
        &mut self,
        kind: TaskKind,
        label: impl Into<String>,
        progress: Option<Progress>,
        job: impl FnOnce() -> Outcome + Send + 'static,
    ) {
        let reporter = self.start(kind, label.into(), progress);
        self.runtime.spawn_blocking(move || reporter.finish(job()));
    }

    /// Runs async work (network, dialogs) on the runtime; its output is the
    /// final event.
    pub fn spawn(
        &mut self,
        kind: TaskKind,
        label: impl Into<String>,
        future: impl Future<Output = Outcome> + Send + 'static,
    ) {
        let reporter = self.start(kind, label.into(), None);
        self.runtime
            .spawn(async move { reporter.finish(future.await) });
    }

    /// Registers a job that reports through the returned [`Reporter`].
    fn start(&mut self, kind: TaskKind, label: String, progress: Option<Progress>) -> Reporter {
        if let Some(old) = self.running.get(&kind)
            && let Some(old_progress) = &old.progress
        {
            old_progress.cancel();
        }
        self.next_id += 1;
        let id = self.next_id;
        self.running.insert(
            kind,
            RunningTask {
                id,
                label,
                progress,
            },
        );
        Reporter {
            kind,
            id,
            sender: self.sender.clone(),
        }
    }

    /// Returns whether an event comes from the current job of its kind,
    /// and then frees that job's slot.
    pub fn accept(&mut self, event: &TaskEvent) -> bool {
        let current = self
            .running
            .get(&event.kind)
            .is_some_and(|task| task.id == event.id);
        if current {
            self.running.remove(&event.kind);
        }
        current
    }

    pub fn is_running(&self, kind: TaskKind) -> bool {
        self.running.contains_key(&kind)
    }

    pub fn get(&self, kind: TaskKind) -> Option<&RunningTask> {
        self.running.get(&kind)
    }

    /// Requests a job to stop and removes it, so its late result is dropped.
    pub fn cancel(&mut self, kind: TaskKind) {
        if let Some(task) = self.running.remove(&kind)
            && let Some(progress) = task.progress
        {
            progress.cancel();
        }
    }

    /// Iterates over the running jobs, in [`TaskKind`] order.
    pub fn iter(&self) -> impl Iterator<Item = (TaskKind, &RunningTask)> {
        self.running.iter().map(|(kind, task)| (*kind, task))
    }
}
