//! The run journal: a SQLite file (WAL) that records each upload run and
//! the state of each of its rows.
//!
//! Every state change is committed before the step that depends on it. A
//! row is marked `sending` before its POST, so after a crash at any moment
//! (even SIGKILL) the journal shows which rows may already exist on the
//! server. A resumed run therefore neither creates a customer twice nor
//! loses a row. The journal holds no token, no key and no request header.
//!
//! [`Journal`] is the blocking interface for listing runs, starting one and
//! reading outcomes; call it off the UI thread. An upload in progress
//! writes through a [`JournalWriter`], a thread that commits the changes of
//! all in-flight requests together.

mod schema;
mod sql;
mod types;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::api::{self, CustomerPatch};

use self::schema::SchemaProblem;
pub use self::sql::RunStamp;
pub(crate) use self::sql::select_counts;
pub use self::types::{
    Counts, JournalRow, NewRow, Resolution, RowState, RunInfo, RunOptions, RunSummary, UndoPlan,
    UndoState,
};
pub use self::writer::{JournalWriter, PendingWrite};
use crate::upload::RowSelection;

/// Error reading or writing the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("failed to create the folder of the run journal {path}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to open the run journal {path}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the run journal {path} was written by a newer version of the importer (schema {version}); \
         update the importer"
    )]
    TooNew { path: String, version: i64 },
    #[error("failed to read or write the run journal {path}")]
    Sql {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("run {run_id} is not in the run journal")]
    UnknownRun { run_id: String },
    #[error("run {run_id} was undone and cannot be resumed")]
    Undone { run_id: String },
    #[error("run {run_id} was abandoned and cannot be resumed")]
    Abandoned { run_id: String },
    #[error("run {run_id} is already in progress in another window or process")]
    Busy { run_id: String },
    #[error("failed to lock run {run_id} in {path}")]
    Lock {
        run_id: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to start the run journal's writer thread")]
    Thread {
        #[source]
        source: std::io::Error,
    },
    #[error("the run journal's writer thread stopped")]
    WriterStopped,
}

/// A blocking connection to the journal file.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl Journal {
    /// Opens the journal at `path` (`AppPaths::journal_file()`), creating
    /// the file and its folder when missing. Fails when the file is not a
    /// journal or comes from a newer importer.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let conn = open_connection(path)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql_error(&self) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        |source| JournalError::Sql {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Records a run and its rows in one transaction.
    pub fn create_run(&mut self, info: &RunInfo, rows: &[NewRow]) -> Result<(), JournalError> {
        let path = self.path.display().to_string();
        let error = |source| JournalError::Sql {
            path: path.clone(),
            source,
        };
        let transaction = self.conn.transaction().map_err(error)?;
        sql::insert_run(&transaction, info, rows).map_err(error)?;
        transaction.commit().map_err(error)
    }

    /// Returns a run, failing with [`JournalError::UnknownRun`] when there
    /// is none with that id.
    pub fn run(&self, run_id: &str) -> Result<RunInfo, JournalError> {
        sql::select_run(&self.conn, run_id)
            .map_err(self.sql_error())?
            .ok_or_else(|| JournalError::UnknownRun {
                run_id: run_id.to_owned(),
            })
    }

    /// Returns every row of a run in row order.
    pub fn rows(&self, run_id: &str) -> Result<Vec<JournalRow>, JournalError> {
        sql::select_rows(&self.conn, run_id).map_err(self.sql_error())
    }

    pub fn counts(&self, run_id: &str) -> Result<Counts, JournalError> {
        sql::select_counts(&self.conn, run_id).map_err(self.sql_error())
    }

    /// Returns every run with its counts, newest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, JournalError> {
        sql::select_summaries(&self.conn).map_err(self.sql_error())
    }

    /// Returns the runs that have rows left to send or merge (the GUI offers
    /// to resume them at start), newest first.
    pub fn unfinished_runs(&self) -> Result<Vec<RunSummary>, JournalError> {
        let mut runs = self.runs()?;
        runs.retain(RunSummary::is_unfinished);
        Ok(runs)
    }

    /// Returns the newest unfinished run of the file with this fingerprint
    /// whose default location is `location`.
    pub fn find_resumable(
        &self,
        fingerprint: &str,
        location: &str,
    ) -> Result<Option<RunSummary>, JournalError> {
        Ok(self
            .unfinished_runs()?
            .into_iter()
            .find(|run| run.info.fingerprint == fingerprint && run.info.location == location))
    }

    /// Returns when the run was abandoned, or `None` when it was not.
    pub fn abandoned_at(&self, run_id: &str) -> Result<Option<jiff::Timestamp>, JournalError> {
        self.run(run_id)?;
        sql::select_abandoned(&self.conn, run_id).map_err(self.sql_error())
    }

    /// Marks an unfinished run as abandoned, so that it is no longer offered
    /// for resuming and a new run of the same file can start. Its rows keep
    /// the states they have, so its reports and its undo still cover what
    /// it sent. Fails with [`JournalError::Busy`] while a session works on
    /// the run.
    pub fn abandon_run(&self, run_id: &str) -> Result<(), JournalError> {
        self.run(run_id)?;
        let _lock = self.lock_run(run_id)?;
        self.stamp(run_id, RunStamp::Abandoned)
    }

    /// Returns what undoing the run would change: the customers it created
    /// and the merges it made (or may have made) that are not undone yet.
    pub fn undo_plan(&self, run_id: &str) -> Result<UndoPlan, JournalError> {
        self.run(run_id)?;
        let mut plan = UndoPlan::default();
        for row in self.rows(run_id)? {
            match undo_step(&row) {
                Some(UndoStep::Delete(_)) => plan.deletes += 1,
                Some(UndoStep::Restore { .. }) => plan.restores += 1,
                None => {}
            }
        }
        Ok(plan)
    }

    /// Turns the rows a stopped session left in `sending` into pending rows
    /// marked ambiguous, and returns how many there were.
    pub fn requeue_interrupted(&self, run_id: &str) -> Result<usize, JournalError> {
        sql::requeue_interrupted(&self.conn, run_id).map_err(self.sql_error())
    }

    /// Records the user's choice for the run's conflicts, in one
    /// transaction: `Skip` ends the selected conflict rows as skipped,
    /// `Merge` marks them `merging` for a session to merge. Returns the
    /// number of rows changed; rows that are not conflicts are left alone.
    pub fn resolve_conflicts(
        &mut self,
        run_id: &str,
        rows: &RowSelection,
        resolution: Resolution,
    ) -> Result<usize, JournalError> {
        self.run(run_id)?;
        let conflicts: Vec<(u32, api::Conflict)> = self
            .rows(run_id)?
            .into_iter()
            .filter(|row| rows.contains(row.row))
            .filter_map(|row| match row.state {
                RowState::Conflict { conflict, .. } => Some((row.row, conflict)),
                _ => None,
            })
            .collect();
        let path = self.path.display().to_string();
        let error = |source| JournalError::Sql {
            path: path.clone(),
            source,
        };
        let transaction = self.conn.transaction().map_err(error)?;
        for (row, conflict) in &conflicts {
            let state = match resolution {
                Resolution::Skip => RowState::Skipped {
                    reason: crate::upload::skip_reason(conflict),
                },
                Resolution::Merge => RowState::Merging {
                    conflict: conflict.clone(),
                },
            };
            sql::set_state(&transaction, run_id, *row, &state).map_err(error)?;
        }
        transaction.commit().map_err(error)?;
        Ok(conflicts.len())
    }

    /// Sets one of the run's time columns to now.
    pub fn stamp(&self, run_id: &str, stamp: RunStamp) -> Result<(), JournalError> {
        sql::stamp_run(&self.conn, run_id, stamp).map_err(self.sql_error())
    }

    /// Takes the lock that lets one session at a time work on a run. The
    /// operating system releases it when the returned file is dropped or
    /// the process dies, so a killed process never leaves a run locked.
    pub fn lock_run(&self, run_id: &str) -> Result<RunLock, JournalError> {
        lock_run(&self.path, run_id)
    }
}

/// Step that undoes one row.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoStep<'a> {
    /// Delete the customer the row created (its id).
    Delete(&'a str),
    /// Send the inverse of the row's merge to the customer it merged into.
    Restore {
        customer_id: &'a str,
        inverse: &'a CustomerPatch,
    },
}

/// Returns what undoing `row` takes, or `None` when it has nothing to
/// undo or was undone already. A merge counts once its patch is recorded,
/// whether it was confirmed (`merged`), may still be on the wire
/// (`merging`) or ended in doubt (`failed`), because the customer may
/// carry it in each case.
pub fn undo_step(row: &JournalRow) -> Option<UndoStep<'_>> {
    if matches!(row.undo, Some(UndoState::Deleted | UndoState::Restored)) {
        return None;
    }
    match (&row.state, &row.merge) {
        (RowState::Created { customer_id }, _) => Some(UndoStep::Delete(customer_id)),
        (RowState::Merged { conflict } | RowState::Merging { conflict }, Some(merge))
            if !merge.inverse.is_empty() =>
        {
            Some(UndoStep::Restore {
                customer_id: &conflict.existing_id,
                inverse: &merge.inverse,
            })
        }
        (RowState::Failed { .. }, Some(merge)) if !merge.inverse.is_empty() => {
            let customer_id = row.customer_id.as_deref()?;
            Some(UndoStep::Restore {
                customer_id,
                inverse: &merge.inverse,
            })
        }
        _ => None,
    }
}

/// Opens and prepares one connection to the journal file.
fn open_connection(path: &Path) -> Result<Connection, JournalError> {
    let display = path.display().to_string();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(|source| JournalError::Open {
        path: display.clone(),
        source,
    })?;
    schema::prepare(&conn).map_err(|problem| match problem {
        SchemaProblem::Sql(source) => JournalError::Open {
            path: display.clone(),
            source,
        },
        SchemaProblem::TooNew(version) => JournalError::TooNew {
            path: display.clone(),
            version,
        },
    })?;
    Ok(conn)
}

/// An exclusive lock on one run, held while a session sends its rows.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Locks `<journal folder>/locks/<run id>.lock`. Lock files are left in
/// place: deleting one while another process waits on it would let two
/// sessions hold "the" lock at once.
fn lock_run(journal_path: &Path, run_id: &str) -> Result<RunLock, JournalError> {
    let dir = journal_path
        .parent()
        .map_or_else(|| PathBuf::from("locks"), |dir| dir.join("locks"));
    let path = dir.join(format!("{run_id}.lock"));
    let lock_error = |source| JournalError::Lock {
        run_id: run_id.to_owned(),
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(lock_error)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(lock_error)?;
    match file.try_lock() {
        Ok(()) => Ok(RunLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::Busy {
            run_id: run_id.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(lock_error(source)),
    }
}

#[cfg(test)]
mod tests;
