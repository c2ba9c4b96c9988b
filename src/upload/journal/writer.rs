//! The journal writer of an upload session: one thread that owns a
//! connection and commits the changes sent from async tasks.
//!
//! Changes that arrive while a commit is on disk are committed together
//! (group commit), so with eight requests in flight the journal costs about
//! one disk flush per round of responses rather than one per change. A caller
//! gets its result only after its change is committed.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::sql::{self, RunStamp};
use super::types::{RowState, UndoState};
use super::{JournalError, open_connection};
use crate::api::{Conflict, Merge};

/// Changes committed in one transaction at most; bounds the time a caller
/// waits behind others.
const MAX_BATCH: usize = 256;

/// A change waiting for the writer thread, with the channel that returns
/// its result to the caller.
trait Job: Send {
    fn run(&mut self, conn: &Connection) -> rusqlite::Result<()>;
    fn finish(self: Box<Self>, result: Result<(), JournalError>);
}

struct TypedJob<T, F> {
    work: F,
    output: Option<T>,
    reply: oneshot::Sender<Result<T, JournalError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        self.output = Some((self.work)(conn)?);
        Ok(())
    }

    fn finish(self: Box<Self>, result: Result<(), JournalError>) {
        let answer = match (result, self.output) {
            (Ok(()), Some(output)) => Ok(output),
            (Ok(()), None) => Err(JournalError::WriterStopped),
            (Err(err), _) => Err(err),
        };
        // The caller may have stopped waiting (its session was dropped).
        self.reply.send(answer).ok();
    }
}

/// A change queued on the writer thread, whose commit is awaited later.
#[derive(Debug)]
#[must_use = "a write that is never awaited hides journal errors"]
pub struct PendingWrite(oneshot::Receiver<Result<(), JournalError>>);

impl PendingWrite {
    /// Waits until the change is committed, or returns why it was not.
    pub async fn committed(self) -> Result<(), JournalError> {
        self.0.await.map_err(|_| JournalError::WriterStopped)?
    }
}

/// A handle to the writer thread of one run. Clones share the thread,
/// which stops when the last handle is dropped.
#[derive(Clone)]
pub struct JournalWriter {
    jobs: mpsc::Sender<Box<dyn Job>>,
    run_id: Arc<str>,
}

impl std::fmt::Debug for JournalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalWriter")
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl JournalWriter {
    /// Opens the journal at `path` on a new thread for writing the rows of
    /// `run_id`. Blocks while the file opens; call it off the UI thread.
    pub fn spawn(path: &Path, run_id: &str) -> Result<Self, JournalError> {
        let conn = open_connection(path)?;
        let (jobs, receiver) = mpsc::channel::<Box<dyn Job>>();
        let path = path.to_path_buf();
        std::thread::Builder::new()
            .name("importer-journal".to_owned())
            .spawn(move || write_loop(conn, &path, &receiver))
            .map_err(|source| JournalError::Thread { source })?;
        Ok(Self {
            jobs,
            run_id: Arc::from(run_id),
        })
    }

    /// Runs `work` on the writer thread and returns its result once the
    /// transaction that contains it is committed. `work` may run twice:
    /// when another change of its batch fails, each is retried alone.
    pub async fn call<T, F>(&self, work: F) -> Result<T, JournalError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(work)
            .await
            .map_err(|_| JournalError::WriterStopped)?
    }

    /// Queues `work` at once, so it commits after every change queued
    /// before it, and returns the channel of its result.
    fn submit<T, F>(&self, work: F) -> oneshot::Receiver<Result<T, JournalError>>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob {
            work,
            output: None,
            reply,
        };
        if let Err(mpsc::SendError(job)) = self.jobs.send(Box::new(job)) {
            job.finish(Err(JournalError::WriterStopped));
        }
        answer
    }

    /// Queues a row's new state without waiting for its commit; await
    /// [`PendingWrite::committed`] to learn whether it was written. A row
    /// that reached an outcome needs nothing else from the journal, so the
    /// next row can be sent while the outcome commits.
    pub fn queue_state(&self, row: u32, state: RowState) -> PendingWrite {
        let run_id = self.run_id.clone();
        PendingWrite(self.submit(move |conn| sql::set_state(conn, &run_id, row, &state)))
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Marks a row as about to be sent at `now`; call it before the
    /// request.
    pub async fn mark_sending(&self, row: u32, now: jiff::Timestamp) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::mark_sending(conn, &run_id, row, &now))
            .await
    }

    /// Puts a row back to pending, recording whether its last request may
    /// have created the customer.
    pub async fn requeue(&self, row: u32, ambiguous: bool) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::requeue(conn, &run_id, row, ambiguous))
            .await
    }

    pub async fn set_state(&self, row: u32, state: RowState) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::set_state(conn, &run_id, row, &state))
            .await
    }

    /// Records a merge's patch and its inverse with the row in `merging`,
    /// in one transaction; call it before the PATCH request.
    pub async fn set_merging(
        &self,
        row: u32,
        conflict: Conflict,
        merge: Merge,
    ) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| {
            sql::set_merge_patch(conn, &run_id, row, Some(&merge))?;
            let state = RowState::Merging {
                conflict: conflict.clone(),
            };
            sql::set_state(conn, &run_id, row, &state)
        })
        .await
    }

    /// Sets a row back to `conflict` and clears its merge patch; call it
    /// only when the server certainly did not apply the patch.
    pub async fn reopen_conflict(
        &self,
        row: u32,
        conflict: Conflict,
        note: String,
    ) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| {
            sql::set_merge_patch(conn, &run_id, row, None)?;
            let state = RowState::Conflict {
                conflict: conflict.clone(),
                note: Some(note.clone()),
            };
            sql::set_state(conn, &run_id, row, &state)
        })
        .await
    }

    pub async fn set_undo(&self, row: u32, undo: UndoState) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::set_undo(conn, &run_id, row, &undo))
            .await
    }

    pub async fn stamp(&self, stamp: RunStamp) -> Result<(), JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::stamp_run(conn, &run_id, stamp))
            .await
    }

    /// Returns whether a row of this run created `customer_id` and undo has
    /// deleted it.
    pub async fn deleted_by_undo(&self, customer_id: String) -> Result<bool, JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::deleted_by_undo(conn, &run_id, &customer_id))
            .await
    }

    /// Returns the run and row, other than `row` of this run, that name
    /// `customer_id` in any run of the journal.
    pub async fn other_row_naming(
        &self,
        customer_id: String,
        row: u32,
    ) -> Result<Option<(String, u32)>, JournalError> {
        let run_id = self.run_id.clone();
        self.call(move |conn| sql::other_row_naming(conn, &run_id, &customer_id, row))
            .await
    }
}

fn write_loop(mut conn: Connection, path: &Path, receiver: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, path, batch);
    }
}

fn commit_batch(conn: &mut Connection, path: &Path, mut batch: Vec<Box<dyn Job>>) {
    let together = (|| {
        let transaction = conn.transaction()?;
        for job in &mut batch {
            job.run(&transaction)?;
        }
        transaction.commit()
    })();
    match together {
        Ok(()) => batch.into_iter().for_each(|job| job.finish(Ok(()))),
        Err(_) if batch.len() > 1 => {
            // One change failed and rolled the batch back: retry each alone
            // so only the failing caller gets an error.
            for job in batch {
                commit_batch(conn, path, vec![job]);
            }
        }
        Err(source) => {
            let mut source = Some(source);
            for job in batch {
                let error = JournalError::Sql {
                    path: path.display().to_string(),
                    source: source.take().unwrap_or(rusqlite::Error::InvalidQuery),
                };
                job.finish(Err(error));
            }
        }
    }
}
