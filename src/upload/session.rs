//! Starting a session: preparing its run in the journal (record a new run,
//! requeue an interrupted one, mark the conflicts to resolve or the rows
//! to undo), turning the rows into tasks, and ending it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::attempt::{self, Context, Task, Work};
use super::dispatcher::{Dispatcher, LoopEnd, Setup, error_chain};
use super::events::{Command, SessionEnd, SessionKind, UploadEvent};
use super::existing::ExistingCustomers;
use super::journal::{
    Counts, Journal, JournalError, JournalRow, JournalWriter, Resolution, RowState, RunInfo,
    RunLock, RunStamp, UndoStep, undo_step,
};
use super::plan::UploadPlan;
use super::{RowSelection, SessionSettings};
use crate::api::{Client, Conflict};
use crate::secret::Secret;

/// The work requested of a session.
pub(crate) enum Job {
    Start {
        run_id: String,
        plan: Box<UploadPlan>,
    },
    Resume {
        run_id: String,
    },
    Resolve {
        run_id: String,
        rows: RowSelection,
        resolution: Resolution,
    },
    Undo {
        run_id: String,
    },
}

impl Job {
    fn run_id(&self) -> &str {
        match self {
            Self::Start { run_id, .. }
            | Self::Resume { run_id }
            | Self::Resolve { run_id, .. }
            | Self::Undo { run_id } => run_id,
        }
    }

    fn kind(&self) -> SessionKind {
        match self {
            Self::Start { .. } | Self::Resume { .. } => SessionKind::Upload,
            Self::Resolve { .. } => SessionKind::Resolve,
            Self::Undo { .. } => SessionKind::Undo,
        }
    }
}

/// The run as the journal has it once the session's changes are recorded.
struct Prepared {
    _lock: RunLock,
    info: RunInfo,
    rows: Vec<JournalRow>,
}

/// Everything a session needs besides its job.
pub(crate) struct Environment {
    pub journal_path: PathBuf,
    pub settings: SessionSettings,
    pub token: Secret,
    pub events: mpsc::UnboundedSender<UploadEvent>,
    pub commands: mpsc::UnboundedReceiver<Command>,
}

/// Runs a session to its end and sends its last event.
pub(crate) async fn run(environment: Environment, job: Job) {
    let run_id = job.run_id().to_owned();
    let kind = job.kind();
    tracing::debug!(run_id, ?kind, "session starts");
    let events = environment.events.clone();
    let last = match drive(environment, job).await {
        Ok(end) => {
            let counts = &end.counts;
            tracing::debug!(
                run_id,
                ?kind,
                cancelled = end.cancelled,
                created = counts.created,
                conflicts = counts.conflict,
                merged = counts.merged,
                failed = counts.failed,
                skipped = counts.skipped,
                unfinished = counts.unfinished(),
                deleted = counts.deleted,
                restored = counts.restored,
                "session ended"
            );
            UploadEvent::Finished(end)
        }
        Err(message) => {
            // The message goes to the driver in the last event, which shows it.
            tracing::debug!(run_id, ?kind, "session failed");
            UploadEvent::Failed {
                run_id: Some(run_id),
                message,
            }
        }
    };
    events.send(last).ok();
}

async fn drive(environment: Environment, job: Job) -> Result<SessionEnd, String> {
    let kind = job.kind();
    let run_id = job.run_id().to_owned();
    // `prepared` holds the run's lock until the session ends.
    let prepared = prepare_off_thread(&environment.journal_path, job).await?;
    let context = open_context(&environment, &prepared.info, &run_id).await?;

    let mut tasks = tasks_for(kind, &prepared.rows);
    if kind == SessionKind::Upload && prepared.info.options.check_existing {
        foresee_conflicts(&context, &mut tasks).await?;
    }
    let counts = read_counts(&context).await?;
    let total = tasks.len() as u64;
    let (tasks, later) = order_tasks(kind, tasks);
    environment
        .events
        .send(UploadEvent::Started {
            run_id: run_id.clone(),
            kind,
            total,
            counts,
        })
        .ok();

    let dispatcher = Dispatcher::new(Setup {
        context: context.clone(),
        events: environment.events.clone(),
        commands: environment.commands,
        tasks,
        later,
        counts,
        max_concurrency: environment.settings.max_concurrency,
        refresher: environment.settings.refresher.clone(),
    });
    let end = dispatcher.run().await;
    conclude(&context, kind, &run_id, end).await
}

async fn prepare_off_thread(path: &Path, job: Job) -> Result<Prepared, String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || prepare(&path, job))
        .await
        .map_err(|err| format!("Preparing the run stopped unexpectedly: {err}"))?
        .map_err(|err| journal_message(&err))
}

/// Makes the client for the run's base URL and starts the journal writer.
async fn open_context(
    environment: &Environment,
    info: &RunInfo,
    run_id: &str,
) -> Result<Arc<Context>, String> {
    let client_options = environment.settings.client.clone();
    let base_url = super::run_base_url(info, environment.settings.sandbox_base_url.as_deref());
    let client = Client::new(&base_url, environment.token.clone(), client_options)
        .map_err(|err| err.user_message())?;
    let path = environment.journal_path.clone();
    let writer_run = run_id.to_owned();
    let writer = tokio::task::spawn_blocking(move || JournalWriter::spawn(&path, &writer_run))
        .await
        .map_err(|err| format!("Opening the run journal stopped unexpectedly: {err}"))?
        .map_err(|err| journal_message(&err))?;
    Ok(Arc::new(Context {
        client,
        writer,
        retry: environment.settings.retry.clone(),
        on_conflict: info.options.on_conflict,
    }))
}

/// Records what the job changes before anything is sent, and returns the
/// run's rows. Blocks on the journal.
fn prepare(path: &Path, job: Job) -> Result<Prepared, JournalError> {
    let run_id = job.run_id().to_owned();
    let mut journal = Journal::open(path)?;
    let lock = journal.lock_run(&run_id)?;
    match job {
        Job::Start { run_id, plan } => {
            let (info, rows) = plan.into_records(run_id);
            journal.create_run(&info, &rows)?;
        }
        Job::Resume { run_id } => {
            let info = journal.run(&run_id)?;
            if info.undo_started_at.is_some() {
                return Err(JournalError::Undone { run_id });
            }
            if journal.abandoned_at(&run_id)?.is_some() {
                return Err(JournalError::Abandoned { run_id });
            }
            let interrupted = journal.requeue_interrupted(&run_id)?;
            if interrupted > 0 {
                tracing::info!(
                    run_id,
                    rows = interrupted,
                    "rows that were being sent when the run stopped will be checked before counting them"
                );
            }
        }
        Job::Resolve {
            run_id,
            rows,
            resolution,
        } => {
            journal.resolve_conflicts(&run_id, &rows, resolution)?;
        }
        Job::Undo { run_id } => journal.stamp(&run_id, RunStamp::UndoStarted)?,
    }
    let info = journal.run(&run_id)?;
    let rows = journal.rows(&run_id)?;
    Ok(Prepared {
        _lock: lock,
        info,
        rows,
    })
}

/// Turns the journal rows that need work in a session of `kind` into tasks,
/// in row order.
fn tasks_for(kind: SessionKind, rows: &[JournalRow]) -> Vec<Task> {
    rows.iter()
        .filter_map(|row| work_for(kind, row).map(|work| task(row, work)))
        .collect()
}

fn work_for(kind: SessionKind, row: &JournalRow) -> Option<Work> {
    match (kind, &row.state) {
        (SessionKind::Upload, RowState::Pending) => Some(Work::Create),
        (SessionKind::Upload | SessionKind::Resolve, RowState::Merging { conflict }) => {
            Some(Work::Merge {
                conflict: conflict.clone(),
                planned: row.merge.clone().map(Box::new),
            })
        }
        (SessionKind::Undo, _) => undo_work(row),
        _ => None,
    }
}

fn undo_work(row: &JournalRow) -> Option<Work> {
    match undo_step(row)? {
        UndoStep::Delete(customer_id) => Some(Work::Delete {
            customer_id: customer_id.to_owned(),
        }),
        UndoStep::Restore {
            customer_id,
            inverse,
        } => Some(Work::Restore {
            customer_id: customer_id.to_owned(),
            inverse: inverse.clone(),
        }),
    }
}

/// Splits the tasks of a session into those to start now and those to
/// start once all of the first have finished. An undo deletes first and
/// restores after. A restore can then see in the journal whether this run
/// created the customer and has just deleted it, and if so it needs no
/// request.
fn order_tasks(kind: SessionKind, tasks: Vec<Task>) -> (Vec<Task>, Vec<Task>) {
    if kind != SessionKind::Undo {
        return (tasks, Vec::new());
    }
    tasks
        .into_iter()
        .partition(|task| !matches!(task.work, Work::Restore { .. }))
}

fn task(row: &JournalRow, work: Work) -> Task {
    Task {
        row: row.row,
        location: row.location.clone(),
        customer: Arc::new(row.customer.clone()),
        work,
        ambiguous: row.ambiguous,
        attempts: 0,
        first_sent: None,
        first_sent_at: row.first_sent_at,
        state: row.state.clone(),
    }
}

/// Lists the existing customers of the locations the tasks go to and marks
/// the rows whose email or phone is already on file, which then are not
/// sent. Rows whose earlier request may have created their customer are
/// left to the create path, which recognises its own customer.
async fn foresee_conflicts(context: &Context, tasks: &mut Vec<Task>) -> Result<(), String> {
    let locations: BTreeSet<String> = tasks
        .iter()
        .filter(|task| matches!(task.work, Work::Create) && !task.ambiguous)
        .map(|task| task.location.clone())
        .collect();
    if locations.is_empty() {
        return Ok(());
    }
    let locations: Vec<String> = locations.into_iter().collect();
    let existing = load_existing(context, &locations).await?;
    tracing::info!(customers = existing.len(), "listed the existing customers");

    let mut kept = Vec::with_capacity(tasks.len());
    for mut task in tasks.drain(..) {
        let conflict = match task.work {
            Work::Create if !task.ambiguous => {
                existing.conflict_for(&task.location, &task.customer)
            }
            _ => None,
        };
        match conflict {
            Some(conflict) => {
                if let Some(next) = record_foreseen(context, &mut task, conflict).await? {
                    kept.push(next);
                }
            }
            None => kept.push(task),
        }
    }
    *tasks = kept;
    Ok(())
}

/// Lists existing customers, retrying failures the retry policy allows.
async fn load_existing(
    context: &Context,
    locations: &[String],
) -> Result<ExistingCustomers, String> {
    let mut attempts = 0;
    let started = std::time::Instant::now();
    loop {
        attempts += 1;
        let err = match ExistingCustomers::load(&context.client, locations).await {
            Ok(existing) => return Ok(existing),
            Err(err) => err,
        };
        let delay = context.retry.delay(attempts, err.retry_after());
        if !err.is_retryable()
            || !context
                .retry
                .allows_retry(attempts, started.elapsed(), delay)
        {
            return Err(format!(
                "Listing the existing customers failed, so nothing was sent. {}",
                err.user_message()
            ));
        }
        tracing::debug!(
            attempts,
            "listing existing customers failed, retrying: {}",
            err.log_summary()
        );
        tokio::time::sleep(delay).await;
    }
}

/// Records a foreseen conflict as the run resolves conflicts, and returns
/// the task when the row still has work (a merge).
async fn record_foreseen(
    context: &Context,
    task: &mut Task,
    conflict: Conflict,
) -> Result<Option<Task>, String> {
    let state = match context.on_conflict {
        Some(Resolution::Skip) => RowState::Skipped {
            reason: attempt::skip_reason(&conflict),
        },
        Some(Resolution::Merge) => RowState::Merging {
            conflict: conflict.clone(),
        },
        None => RowState::Conflict {
            conflict: conflict.clone(),
            note: Some("Already on file: found before sending, so it was not sent.".to_owned()),
        },
    };
    context
        .writer
        .set_state(task.row, state.clone())
        .await
        .map_err(|err| journal_message(&err))?;
    if !matches!(state, RowState::Merging { .. }) {
        return Ok(None);
    }
    let mut next = task.clone();
    next.state = state;
    next.work = Work::Merge {
        conflict,
        planned: None,
    };
    Ok(Some(next))
}

async fn read_counts(context: &Context) -> Result<Counts, String> {
    let run_id = context.writer.run_id().to_owned();
    context
        .writer
        .call(move |conn| super::journal::select_counts(conn, &run_id))
        .await
        .map_err(|err| journal_message(&err))
}

/// Stamps the run when the session finished its work, and returns how the
/// session ended.
async fn conclude(
    context: &Context,
    kind: SessionKind,
    run_id: &str,
    end: LoopEnd,
) -> Result<SessionEnd, String> {
    if let Some(message) = end.failure {
        return Err(message);
    }
    let counts = read_counts(context).await?;
    let stamp = match kind {
        SessionKind::Upload | SessionKind::Resolve if counts.unfinished() == 0 => {
            Some(RunStamp::Finished)
        }
        SessionKind::Undo if !end.cancelled => Some(RunStamp::UndoFinished),
        _ => None,
    };
    if let Some(stamp) = stamp {
        context
            .writer
            .stamp(stamp)
            .await
            .map_err(|err| journal_message(&err))?;
    }
    Ok(SessionEnd {
        run_id: run_id.to_owned(),
        kind,
        counts,
        cancelled: end.cancelled,
    })
}

/// Returns a message for the user about a journal failure.
pub(crate) fn journal_message(err: &JournalError) -> String {
    match err {
        JournalError::Busy { .. }
        | JournalError::UnknownRun { .. }
        | JournalError::Undone { .. }
        | JournalError::Abandoned { .. } => {
            let mut message = err.to_string();
            if let Some(first) = message.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{message}.")
        }
        _ => format!(
            "The run journal could not be used: {}. Check that the disk has free space and the \
             folder is writable, then resume the import.",
            error_chain(err)
        ),
    }
}
