//! Events of an upload session for its driver (the GUI drains the channel
//! each frame, the command line prints them), and the control that steers
//! the session.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::journal::{Counts, RowState, UndoState};
use crate::secret::Secret;

/// The work a session does on the rows of its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Sends the run's pending rows (a new run, or a resumed one).
    Upload,
    /// Resolves conflicts of a finished run (skip or merge).
    Resolve,
    /// Deletes what the run created and restores what it merged.
    Undo,
}

/// Reason a session stopped sending for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseReason {
    /// [`UploadControl::pause`] was called.
    User,
    /// The server refused the token (`401`); the session waits for a new
    /// one from the token refresher or [`UploadControl::set_token`].
    TokenRejected,
}

/// Progress of a session, sent a few times a second while it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadProgress {
    /// Rows of the run in each state, as the journal has them.
    pub counts: Counts,
    /// Rows this session has finished, out of `total`.
    pub done: u64,
    /// Rows this session set out to handle.
    pub total: u64,
    /// Requests in flight now.
    pub in_flight: usize,
    /// Requests allowed in flight now (adapts to the server's responses).
    pub concurrency: usize,
    /// Rows finished per second over the last few seconds.
    pub rows_per_second: f64,
    /// Estimated time left at the current rate; `None` before the first
    /// row finishes.
    pub time_left: Option<Duration>,
}

/// End of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEnd {
    pub run_id: String,
    pub kind: SessionKind,
    /// Rows of the run in each state at the end, read from the journal.
    pub counts: Counts,
    /// Whether the session was cancelled; its unfinished rows stay in the
    /// journal for a later resume.
    pub cancelled: bool,
}

/// One report from a session. The last event is always `Finished` or
/// `Failed`, after which the channel closes.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadEvent {
    /// The run is recorded in the journal and the session starts sending.
    Started {
        run_id: String,
        kind: SessionKind,
        total: u64,
        counts: Counts,
    },
    Progress(UploadProgress),
    /// A row reached an outcome (or a conflict, which may still be resolved).
    RowFinished {
        row: u32,
        state: RowState,
    },
    /// Undo finished with a row.
    RowUndone {
        row: u32,
        state: UndoState,
    },
    Paused(PauseReason),
    /// The token was refused and no refresher could replace it: ask the user
    /// for a new token and pass it to [`UploadControl::set_token`].
    /// `message` describes what happened, for the user.
    TokenRequired {
        message: String,
    },
    /// Sending continues after a pause.
    Resumed,
    Finished(SessionEnd),
    /// The session stopped early; rows not finished stay in the journal.
    /// `message` is for the user.
    Failed {
        run_id: Option<String>,
        message: String,
    },
}

/// A request from the driver of a session.
#[derive(Debug)]
pub(crate) enum Command {
    Pause,
    Resume,
    Cancel,
    SetToken(Secret),
}

/// Steers a running session. Every method returns at once; the session
/// acts on the request between requests and confirms it with an event.
/// Clones steer the same session.
#[derive(Debug, Clone)]
pub struct UploadControl {
    commands: mpsc::UnboundedSender<Command>,
}

impl UploadControl {
    pub(crate) fn new(commands: mpsc::UnboundedSender<Command>) -> Self {
        Self { commands }
    }

    /// Stops sending new rows; requests in flight finish.
    pub fn pause(&self) {
        self.send(Command::Pause);
    }

    /// Continues after [`UploadControl::pause`].
    pub fn resume(&self) {
        self.send(Command::Resume);
    }

    /// Stops sending new rows, lets requests in flight finish or time out,
    /// and ends the session with [`SessionEnd::cancelled`] set. The rows not
    /// sent stay pending in the journal.
    pub fn cancel(&self) {
        self.send(Command::Cancel);
    }

    /// Replaces the token for the requests that follow, and continues a
    /// session paused by [`PauseReason::TokenRejected`].
    pub fn set_token(&self, token: Secret) {
        self.send(Command::SetToken(token));
    }

    fn send(&self, command: Command) {
        // A session that already ended has nothing left to steer.
        self.commands.send(command).ok();
    }
}

/// Rows per second over a sliding window, for progress and time left.
#[derive(Debug)]
pub(crate) struct RateMeter {
    started: Instant,
    finished: VecDeque<Instant>,
}

/// Span of the sliding window: long enough to smooth back-off pauses,
/// short enough to follow a change of server speed.
const RATE_WINDOW: Duration = Duration::from_secs(10);

impl RateMeter {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            finished: VecDeque::new(),
        }
    }

    pub fn record(&mut self) {
        let now = Instant::now();
        self.finished.push_back(now);
        self.forget_before(now);
    }

    fn forget_before(&mut self, now: Instant) {
        while self
            .finished
            .front()
            .is_some_and(|at| now.duration_since(*at) > RATE_WINDOW)
        {
            self.finished.pop_front();
        }
    }

    /// Returns rows per second over the window, or over the time since the
    /// session started when that is shorter.
    pub fn rate(&mut self) -> f64 {
        let now = Instant::now();
        self.forget_before(now);
        let span = now.duration_since(self.started).min(RATE_WINDOW);
        if span.is_zero() {
            return 0.0;
        }
        self.finished.len() as f64 / span.as_secs_f64()
    }

    /// Returns the estimated time to finish `remaining` rows.
    pub fn time_left(&mut self, remaining: u64) -> Option<Duration> {
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(remaining as f64 / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_meter_without_rows() {
        let mut meter = RateMeter::new();
        assert_eq!(meter.time_left(10), None);
    }

    #[test]
    fn rate_meter_counts_recent_rows() {
        let mut meter = RateMeter::new();
        meter.started -= Duration::from_secs(2);
        for _ in 0..10 {
            meter.record();
        }
        let rate = meter.rate();
        assert!(rate > 4.0, "rate {rate}");
        assert!(rate <= 5.0, "rate {rate}");
        let left = meter.time_left(10).expect("a rate");
        assert!(left >= Duration::from_secs(2));
    }

    #[test]
    fn control_after_session_end_is_harmless() {
        let (sender, receiver) = mpsc::unbounded_channel();
        drop(receiver);
        let control = UploadControl::new(sender);
        control.pause();
        control.cancel();
    }
}
