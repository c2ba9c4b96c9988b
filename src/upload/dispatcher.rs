//! The loop of an upload session: keeps up to the concurrency limit of
//! rows in flight, schedules retries, pauses for the user or for a new
//! token, and reports progress.
//!
//! Every row waiting in the loop's queues is already `pending` (or
//! `merging`) in the journal, so stopping the loop at any point, even by
//! killing the process, loses nothing: a resume picks the rows up again.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::TokenRefresher;
use super::attempt::{self, Attempt, Context, Task, Work};
use super::events::{Command, PauseReason, RateMeter, UploadEvent, UploadProgress};
use super::journal::{Counts, JournalError, RowState, UndoState};
use super::limiter::{Limiter, Pacer, Response, Ticket};
use crate::secret::Secret;

/// Time between two progress events while something changes.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// A task waiting for its retry time.
#[derive(Debug)]
struct Delayed {
    due: Instant,
    /// Breaks ties between equal times in scheduling order.
    order: u64,
    task: Task,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}

impl Eq for Delayed {}

impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// An attempt that came back from the wire.
struct Returned {
    task: Task,
    ticket: Ticket,
    /// Token generation the request was sent with.
    generation: u64,
    result: Result<Attempt, JournalError>,
}

/// The token and how to get a new one.
struct TokenState {
    refresher: Option<Arc<dyn TokenRefresher>>,
    /// Incremented with each new token, so a `401` to a request sent with an
    /// older token does not pause the session again.
    generation: u64,
    /// Paused until a new token arrives.
    waiting: bool,
    refreshing: bool,
    /// Whether the current token came from the refresher and no request
    /// has succeeded with it yet. A `401` then goes to the user, so the
    /// session does not refresh in a loop.
    unproven_refresh: bool,
    results: mpsc::UnboundedSender<Result<Secret, String>>,
}

/// End state of the loop.
#[derive(Debug)]
pub(crate) struct LoopEnd {
    pub cancelled: bool,
    /// Message for the user when the loop stopped because of an error.
    pub failure: Option<String>,
}

pub(crate) struct Dispatcher {
    context: Arc<Context>,
    events: mpsc::UnboundedSender<UploadEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    commands_open: bool,
    ready: VecDeque<Task>,
    /// Tasks that start once every task in `ready`, `waiting` and
    /// `in_flight` has finished.
    later: Vec<Task>,
    waiting: BinaryHeap<Reverse<Delayed>>,
    scheduled: u64,
    in_flight: JoinSet<Returned>,
    /// Outcomes still being committed to the journal.
    writes: JoinSet<Result<(), JournalError>>,
    limiter: Limiter,
    pacer: Pacer,
    paused_by_user: bool,
    token: TokenState,
    refreshed: mpsc::UnboundedReceiver<Result<Secret, String>>,
    cancelled: bool,
    failure: Option<String>,
    counts: Counts,
    done: u64,
    total: u64,
    meter: RateMeter,
    changed: bool,
}

/// Inputs of a dispatcher.
pub(crate) struct Setup {
    pub context: Arc<Context>,
    pub events: mpsc::UnboundedSender<UploadEvent>,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub tasks: Vec<Task>,
    /// Tasks to start only after all of `tasks` have finished.
    pub later: Vec<Task>,
    pub counts: Counts,
    pub max_concurrency: usize,
    pub refresher: Option<Arc<dyn TokenRefresher>>,
}

impl Dispatcher {
    pub fn new(setup: Setup) -> Self {
        let (results, refreshed) = mpsc::unbounded_channel();
        let total = (setup.tasks.len() + setup.later.len()) as u64;
        Self {
            context: setup.context,
            events: setup.events,
            commands: setup.commands,
            commands_open: true,
            ready: setup.tasks.into(),
            later: setup.later,
            waiting: BinaryHeap::new(),
            scheduled: 0,
            in_flight: JoinSet::new(),
            writes: JoinSet::new(),
            limiter: Limiter::new(setup.max_concurrency),
            pacer: Pacer::new(std::time::Instant::now()),
            paused_by_user: false,
            token: TokenState {
                refresher: setup.refresher,
                generation: 0,
                waiting: false,
                refreshing: false,
                unproven_refresh: false,
                results,
            },
            refreshed,
            cancelled: false,
            failure: None,
            counts: setup.counts,
            done: 0,
            total,
            meter: RateMeter::new(),
            changed: true,
        }
    }

    fn emit(&self, event: UploadEvent) {
        // The driver may have dropped its receiver; the session still ends
        // cleanly and the journal keeps every outcome.
        self.events.send(event).ok();
    }

    fn stopping(&self) -> bool {
        self.cancelled || self.failure.is_some()
    }

    fn paused(&self) -> bool {
        self.paused_by_user || self.token.waiting
    }

    /// Runs until every task is finished, or until the session is cancelled
    /// or fails and the requests in flight have come back.
    pub async fn run(mut self) -> LoopEnd {
        let mut ticker = tokio::time::interval(PROGRESS_INTERVAL);
        loop {
            self.dispatch_ready();
            let idle = self.ready.is_empty() && self.waiting.is_empty();
            if self.in_flight.is_empty() && idle && !self.stopping() && !self.later.is_empty() {
                self.ready.extend(self.later.drain(..));
                continue;
            }
            if self.in_flight.is_empty() && (self.stopping() || idle) {
                break;
            }
            let next_due = self.waiting.peek().map(|Reverse(delayed)| delayed.due);
            let paced_until = self.paced_until();
            tokio::select! {
                Some(joined) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {
                    match joined {
                        Ok(returned) => self.on_returned(returned),
                        Err(err) => self.fail(format!("An upload task stopped unexpectedly: {err}")),
                    }
                }
                command = self.commands.recv(), if self.commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => self.commands_open = false,
                },
                Some(written) = self.writes.join_next(), if !self.writes.is_empty() => {
                    self.on_written(written);
                }
                Some(token) = self.refreshed.recv() => self.on_refreshed(token),
                () = sleep_until_due(next_due), if next_due.is_some() => self.promote_due(),
                () = sleep_until_due(paced_until), if paced_until.is_some() => {}
                _ = ticker.tick() => self.emit_progress(),
            }
        }
        while let Some(written) = self.writes.join_next().await {
            self.on_written(written);
        }
        self.changed = true;
        self.emit_progress();
        LoopEnd {
            cancelled: self.cancelled && self.failure.is_none(),
            failure: self.failure,
        }
    }

    /// Returns whether a request may leave now, apart from the pace.
    fn has_room(&self) -> bool {
        !self.paused() && !self.stopping() && self.in_flight.len() < self.limiter.limit()
    }

    /// Returns when the pace lets the next ready row leave, if the pace is
    /// all that keeps it waiting.
    fn paced_until(&self) -> Option<Instant> {
        if self.ready.is_empty() || !self.has_room() {
            return None;
        }
        self.pacer
            .next_send(std::time::Instant::now())
            .map(Instant::from_std)
    }

    fn dispatch_ready(&mut self) {
        while self.has_room() {
            let now = std::time::Instant::now();
            if self.pacer.next_send(now).is_some() {
                break;
            }
            let Some(mut task) = self.ready.pop_front() else {
                break;
            };
            self.pacer.on_dispatch(now);
            if matches!(task.work, Work::Create) {
                self.counts.transfer(&task.state, &RowState::Sending);
                task.state = RowState::Sending;
            }
            let ticket = self.limiter.dispatch();
            let generation = self.token.generation;
            let context = self.context.clone();
            self.in_flight.spawn(async move {
                let result = attempt::run(&context, &mut task).await;
                Returned {
                    task,
                    ticket,
                    generation,
                    result,
                }
            });
            self.changed = true;
        }
    }

    /// Moves the retries that are due to the front of the queue, in the
    /// order they fell due: a retry waits only for its back-off, never for
    /// every row behind it.
    fn promote_due(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        while self
            .waiting
            .peek()
            .is_some_and(|Reverse(delayed)| delayed.due <= now)
        {
            if let Some(Reverse(delayed)) = self.waiting.pop() {
                due.push(delayed.task);
            }
        }
        for task in due.into_iter().rev() {
            self.ready.push_front(task);
        }
    }

    fn on_returned(&mut self, returned: Returned) {
        let Returned {
            mut task,
            ticket,
            generation,
            result,
        } = returned;
        self.changed = true;
        let attempt = match result {
            Ok(attempt) => attempt,
            Err(err) => return self.fail_journal(&err),
        };
        self.record_response(&attempt);
        match attempt {
            Attempt::Finished(state, write) => {
                if let Some(write) = write {
                    self.writes.spawn(write.committed());
                }
                self.on_finished(task, state);
            }
            Attempt::Undone(state) => self.on_undone(&task, state),
            Attempt::Continue(state) => {
                self.counts.transfer(&task.state, &state);
                task.state = state;
                task.attempts = 0;
                task.first_sent = None;
                self.ready.push_front(task);
            }
            Attempt::Retry {
                delay, overload, ..
            } => {
                if overload && self.limiter.on_overload(ticket) {
                    tracing::debug!(
                        concurrency = self.limiter.limit(),
                        "server overloaded: fewer requests at once"
                    );
                }
                self.schedule_retry(task, delay);
            }
            Attempt::Unauthorized => self.on_unauthorized(task, generation),
        }
    }

    /// Tells the pacer how the server handled the attempt's last request.
    fn record_response(&mut self, attempt: &Attempt) {
        let response = match attempt {
            Attempt::Finished(..) | Attempt::Undone(_) | Attempt::Continue(_) => Response::Accepted,
            Attempt::Retry {
                rate_limited: true, ..
            } => Response::RateLimited,
            Attempt::Retry { .. } | Attempt::Unauthorized => Response::Other,
        };
        if self.pacer.on_response(std::time::Instant::now(), response) {
            tracing::debug!(pace = self.pacer.pace(), "rate limited: pacing requests");
        }
    }

    fn on_finished(&mut self, mut task: Task, state: RowState) {
        self.count_finished(&mut task, state.clone());
        self.emit(UploadEvent::RowFinished {
            row: task.row,
            state,
        });
    }

    fn on_undone(&mut self, task: &Task, state: UndoState) {
        self.on_success();
        self.counts.add_undo(&state);
        self.finish_one();
        self.emit(UploadEvent::RowUndone {
            row: task.row,
            state,
        });
    }

    fn count_finished(&mut self, task: &mut Task, state: RowState) {
        if !matches!(state, RowState::Failed { .. } | RowState::Merging { .. }) {
            self.on_success();
        }
        self.counts.transfer(&task.state, &state);
        task.state = state;
        self.finish_one();
    }

    fn on_success(&mut self) {
        self.limiter.on_success();
        self.token.unproven_refresh = false;
    }

    fn finish_one(&mut self) {
        self.done += 1;
        self.meter.record();
    }

    fn schedule_retry(&mut self, mut task: Task, delay: Duration) {
        self.requeued(&mut task);
        self.scheduled += 1;
        self.waiting.push(Reverse(Delayed {
            due: Instant::now() + delay,
            order: self.scheduled,
            task,
        }));
    }

    /// Counts a create that went back to pending in the journal.
    fn requeued(&mut self, task: &mut Task) {
        if task.state == RowState::Sending {
            self.counts.transfer(&RowState::Sending, &RowState::Pending);
            task.state = RowState::Pending;
        }
    }

    fn on_unauthorized(&mut self, mut task: Task, generation: u64) {
        self.requeued(&mut task);
        self.ready.push_front(task);
        if generation != self.token.generation || self.token.waiting {
            // Sent with an older token, or the pause already happened.
            return;
        }
        self.token.waiting = true;
        tracing::warn!("the server rejected the token: pausing until a new one arrives");
        self.emit(UploadEvent::Paused(PauseReason::TokenRejected));
        self.request_token();
    }

    fn request_token(&mut self) {
        let refresher = self.token.refresher.clone();
        match refresher {
            Some(refresher) if !self.token.unproven_refresh => {
                self.token.refreshing = true;
                let results = self.token.results.clone();
                tokio::spawn(async move {
                    let result = refresher.refresh().await.map_err(|err| err.to_string());
                    results.send(result).ok();
                });
            }
            Some(_) => self.emit(UploadEvent::TokenRequired {
                message: "The server refused the new token from the service account too. Check \
                          that the service account may manage customers of this location, or \
                          paste a token, and continue."
                    .to_owned(),
            }),
            None => self.emit(UploadEvent::TokenRequired {
                message: "The API token was not accepted: it has expired or is invalid. Paste a \
                          new token to continue where the upload stopped."
                    .to_owned(),
            }),
        }
    }

    fn on_refreshed(&mut self, result: Result<Secret, String>) {
        self.token.refreshing = false;
        match result {
            Ok(token) => {
                tracing::info!("signed in again with the service account");
                self.set_token(token);
                self.token.unproven_refresh = true;
            }
            Err(message) => {
                tracing::warn!("signing in again failed: {message}");
                self.emit(UploadEvent::TokenRequired {
                    message: format!(
                        "Signing in again with the service account failed: {message}. Paste a \
                         token to continue."
                    ),
                });
            }
        }
    }

    fn set_token(&mut self, token: Secret) {
        self.context.client.set_token(token);
        self.token.generation += 1;
        self.token.unproven_refresh = false;
        if self.token.waiting {
            self.token.waiting = false;
            if !self.paused_by_user {
                self.emit(UploadEvent::Resumed);
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Pause if !self.paused_by_user => {
                self.paused_by_user = true;
                self.emit(UploadEvent::Paused(PauseReason::User));
            }
            Command::Resume if self.paused_by_user => {
                self.paused_by_user = false;
                if !self.token.waiting {
                    self.emit(UploadEvent::Resumed);
                }
            }
            Command::Cancel => {
                if !self.cancelled {
                    tracing::info!(
                        in_flight = self.in_flight.len(),
                        "cancelling: no new rows are sent"
                    );
                }
                self.cancelled = true;
            }
            Command::SetToken(token) => self.set_token(token),
            Command::Pause | Command::Resume => {}
        }
    }

    /// Stops the session after a journal write failed: rows must not be
    /// sent when their state cannot be recorded.
    fn fail_journal(&mut self, err: &JournalError) {
        self.fail(format!(
            "{}. Nothing more is sent; resume the import once the problem is fixed.",
            error_chain(err)
        ));
    }

    fn on_written(&mut self, written: Result<Result<(), JournalError>, tokio::task::JoinError>) {
        match written {
            Ok(Ok(())) => {}
            Ok(Err(err)) => self.fail_journal(&err),
            Err(err) => self.fail(format!("A journal write stopped unexpectedly: {err}")),
        }
    }

    /// Records why the session stops; the message reaches the driver in
    /// the session's last event.
    fn fail(&mut self, message: String) {
        if self.failure.is_none() {
            self.failure = Some(message);
        }
    }

    fn emit_progress(&mut self) {
        if !self.changed {
            return;
        }
        self.changed = false;
        let remaining = self.total.saturating_sub(self.done);
        let progress = UploadProgress {
            counts: self.counts,
            done: self.done,
            total: self.total,
            in_flight: self.in_flight.len(),
            concurrency: self.limiter.limit(),
            rows_per_second: self.meter.rate(),
            time_left: self.meter.time_left(remaining),
        };
        self.emit(UploadEvent::Progress(progress));
    }
}

async fn sleep_until_due(due: Option<Instant>) {
    if let Some(due) = due {
        tokio::time::sleep_until(due).await;
    }
}

/// Returns an error and its causes joined with `: `.
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
