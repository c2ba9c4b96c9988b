//! Reads and writes of single journal records. Each function takes a
//! connection (or a transaction, which derefs to one), so the blocking
//! [`super::Journal`] and the upload's background writer share them.

use std::path::PathBuf;

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{Counts, JournalRow, NewRow, RowState, RunInfo, RunSummary, UndoState};
use crate::api::{Conflict, CustomerPatch, Merge};

const RUN_COLUMNS: &str = "id, started_at, finished_at, file_path, sheet, fingerprint, headers, \
     mapping, check_options, options, environment, base_url, location, locations, batch_tag, \
     undo_started_at, undo_finished_at";

const ROW_COLUMNS: &str = "row, location, customer, cells, state, customer_id, field, value, \
     status, message, ambiguous, attempts, patch, inverse_patch, undo_state, undo_message, \
     first_sent_at";

fn stamp_text(stamp: Option<&jiff::Timestamp>) -> Option<String> {
    stamp.map(jiff::Timestamp::to_string)
}

fn read_stamp(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<jiff::Timestamp>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| {
        text.parse().map_err(|err: jiff::Error| {
            rusqlite::Error::FromSqlConversionFailure(index, Type::Text, err.into())
        })
    })
    .transpose()
}

fn to_json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|err| rusqlite::Error::ToSqlConversionFailure(err.into()))
}

fn from_json<T: DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text)
        .map_err(|err| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, err.into()))
}

fn from_json_opt<T: DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|err| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, err.into()))
    })
    .transpose()
}

/// Stores a run and all its rows; the caller wraps it in a transaction so
/// a run is never half recorded.
pub fn insert_run(conn: &Connection, info: &RunInfo, rows: &[NewRow]) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO runs ({RUN_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        ),
        params![
            info.id,
            info.started_at.to_string(),
            stamp_text(info.finished_at.as_ref()),
            info.file_path.to_string_lossy(),
            info.sheet,
            info.fingerprint,
            to_json(&info.headers)?,
            to_json(&info.mapping)?,
            to_json(&info.check_options)?,
            to_json(&info.options)?,
            to_json(&info.environment)?,
            info.base_url,
            info.location,
            to_json(&info.locations)?,
            info.batch_tag,
            stamp_text(info.undo_started_at.as_ref()),
            stamp_text(info.undo_finished_at.as_ref()),
        ],
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO rows (run_id, row, location, customer, cells, state) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
    )?;
    for row in rows {
        insert.execute(params![
            info.id,
            row.row,
            row.location,
            to_json(&row.customer)?,
            to_json(&row.cells)?,
        ])?;
        if row.state != RowState::Pending {
            set_state(conn, &info.id, row.row, &row.state)?;
        }
    }
    Ok(())
}

fn read_run(row: &Row<'_>) -> rusqlite::Result<RunInfo> {
    let file_path: String = row.get(3)?;
    Ok(RunInfo {
        id: row.get(0)?,
        started_at: read_stamp(row, 1)?.unwrap_or_default(),
        finished_at: read_stamp(row, 2)?,
        file_path: PathBuf::from(file_path),
        sheet: row.get(4)?,
        fingerprint: row.get(5)?,
        headers: from_json(row, 6)?,
        mapping: from_json(row, 7)?,
        check_options: from_json(row, 8)?,
        options: from_json(row, 9)?,
        environment: from_json(row, 10)?,
        base_url: row.get(11)?,
        location: row.get(12)?,
        locations: from_json(row, 13)?,
        batch_tag: row.get(14)?,
        undo_started_at: read_stamp(row, 15)?,
        undo_finished_at: read_stamp(row, 16)?,
    })
}

pub fn select_run(conn: &Connection, run_id: &str) -> rusqlite::Result<Option<RunInfo>> {
    conn.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
        [run_id],
        read_run,
    )
    .optional()
}

/// Returns every run, newest first.
pub fn select_runs(conn: &Connection) -> rusqlite::Result<Vec<RunInfo>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id"
    ))?;
    statement.query_map([], read_run)?.collect()
}

/// Returns how many rows of a run are in each state and undo state.
pub fn select_counts(conn: &Connection, run_id: &str) -> rusqlite::Result<Counts> {
    let mut counts = Counts::default();
    let mut statement =
        conn.prepare_cached("SELECT state, COUNT(*) FROM rows WHERE run_id = ?1 GROUP BY state")?;
    let states = statement.query_map([run_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    for state in states {
        let (name, amount) = state?;
        counts.add_named(&name, u64::try_from(amount).unwrap_or(0));
    }
    let mut statement = conn.prepare_cached(
        "SELECT undo_state, COUNT(*) FROM rows \
         WHERE run_id = ?1 AND undo_state IS NOT NULL GROUP BY undo_state",
    )?;
    let undo_states = statement.query_map([run_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    for state in undo_states {
        let (name, amount) = state?;
        let bucket = if name == "failed" {
            "undo_failed"
        } else {
            name.as_str()
        };
        counts.add_named(bucket, u64::try_from(amount).unwrap_or(0));
    }
    Ok(counts)
}

pub fn select_summaries(conn: &Connection) -> rusqlite::Result<Vec<RunSummary>> {
    select_runs(conn)?
        .into_iter()
        .map(|info| {
            let counts = select_counts(conn, &info.id)?;
            let abandoned_at = select_abandoned(conn, &info.id)?;
            Ok(RunSummary {
                info,
                counts,
                abandoned_at,
            })
        })
        .collect()
}

/// Returns when the run was abandoned, or `None` when it was not (or does
/// not exist).
pub fn select_abandoned(
    conn: &Connection,
    run_id: &str,
) -> rusqlite::Result<Option<jiff::Timestamp>> {
    let found = conn
        .query_row(
            "SELECT abandoned_at FROM runs WHERE id = ?1",
            [run_id],
            |row| read_stamp(row, 0),
        )
        .optional()?;
    Ok(found.flatten())
}

fn read_conflict(row: &Row<'_>) -> rusqlite::Result<Conflict> {
    Ok(Conflict {
        field: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
        value: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
        existing_id: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
    })
}

fn read_state(row: &Row<'_>) -> rusqlite::Result<RowState> {
    let name: String = row.get(4)?;
    let message =
        || -> rusqlite::Result<String> { Ok(row.get::<_, Option<String>>(9)?.unwrap_or_default()) };
    Ok(match name.as_str() {
        "pending" => RowState::Pending,
        "sending" => RowState::Sending,
        "created" => RowState::Created {
            customer_id: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
        },
        "conflict" => RowState::Conflict {
            conflict: read_conflict(row)?,
            note: row.get(9)?,
        },
        "merging" => RowState::Merging {
            conflict: read_conflict(row)?,
        },
        "merged" => RowState::Merged {
            conflict: read_conflict(row)?,
        },
        "failed" => RowState::Failed {
            status: row.get(8)?,
            message: message()?,
        },
        "skipped" => RowState::Skipped { reason: message()? },
        other => {
            let err = format!("unknown row state '{other}'");
            return Err(rusqlite::Error::FromSqlConversionFailure(
                4,
                Type::Text,
                err.into(),
            ));
        }
    })
}

fn read_undo(row: &Row<'_>) -> rusqlite::Result<Option<UndoState>> {
    let name: Option<String> = row.get(14)?;
    let message: Option<String> = row.get(15)?;
    Ok(match name.as_deref() {
        None => None,
        Some("deleted") => Some(UndoState::Deleted),
        Some("restored") => Some(UndoState::Restored),
        Some(_) => Some(UndoState::Failed {
            message: message.unwrap_or_default(),
        }),
    })
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<JournalRow> {
    let patch: Option<CustomerPatch> = from_json_opt(row, 12)?;
    let inverse: Option<CustomerPatch> = from_json_opt(row, 13)?;
    Ok(JournalRow {
        row: row.get(0)?,
        location: row.get(1)?,
        customer: from_json(row, 2)?,
        cells: from_json(row, 3)?,
        state: read_state(row)?,
        customer_id: row.get(5)?,
        ambiguous: row.get(10)?,
        attempts: row.get(11)?,
        merge: patch
            .zip(inverse)
            .map(|(patch, inverse)| Merge { patch, inverse }),
        undo: read_undo(row)?,
        first_sent_at: read_stamp(row, 16)?,
    })
}

/// Returns every row of a run in row order.
pub fn select_rows(conn: &Connection, run_id: &str) -> rusqlite::Result<Vec<JournalRow>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {ROW_COLUMNS} FROM rows WHERE run_id = ?1 ORDER BY row"
    ))?;
    statement.query_map([run_id], read_row)?.collect()
}

/// Returns one row of a run.
#[cfg(test)]
pub fn select_row(conn: &Connection, run_id: &str, row: u32) -> rusqlite::Result<JournalRow> {
    conn.query_row(
        &format!("SELECT {ROW_COLUMNS} FROM rows WHERE run_id = ?1 AND row = ?2"),
        params![run_id, row],
        read_row,
    )
}

/// Writes a row's state and the columns that state defines. Columns the
/// state does not define keep their values, so a conflict that is later
/// skipped still names the existing customer.
pub fn set_state(
    conn: &Connection,
    run_id: &str,
    row: u32,
    state: &RowState,
) -> rusqlite::Result<()> {
    let name = state.name();
    let update = |sql: &str, values: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<()> {
        let mut statement = conn.prepare_cached(sql)?;
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&name, &run_id, &row];
        all.extend_from_slice(values);
        statement.execute(all.as_slice())?;
        Ok(())
    };
    match state {
        RowState::Pending | RowState::Sending => update(
            "UPDATE rows SET state = ?1 WHERE run_id = ?2 AND row = ?3",
            &[],
        ),
        RowState::Created { customer_id } => update(
            "UPDATE rows SET state = ?1, customer_id = ?4, status = NULL, message = NULL \
             WHERE run_id = ?2 AND row = ?3",
            &[customer_id],
        ),
        RowState::Conflict { conflict, note } => update(
            "UPDATE rows SET state = ?1, customer_id = ?4, field = ?5, value = ?6, message = ?7 \
             WHERE run_id = ?2 AND row = ?3",
            &[
                &conflict.existing_id,
                &conflict.field,
                &conflict.value,
                note,
            ],
        ),
        RowState::Merging { conflict } | RowState::Merged { conflict } => update(
            "UPDATE rows SET state = ?1, customer_id = ?4, field = ?5, value = ?6, message = NULL \
             WHERE run_id = ?2 AND row = ?3",
            &[&conflict.existing_id, &conflict.field, &conflict.value],
        ),
        RowState::Failed { status, message } => update(
            "UPDATE rows SET state = ?1, status = ?4, message = ?5 WHERE run_id = ?2 AND row = ?3",
            &[status, message],
        ),
        RowState::Skipped { reason } => update(
            "UPDATE rows SET state = ?1, message = ?4 WHERE run_id = ?2 AND row = ?3",
            &[reason],
        ),
    }
}

/// Marks a row as about to be sent at `now` and counts the attempt. The
/// time of the row's first request is kept from its first call on.
pub fn mark_sending(
    conn: &Connection,
    run_id: &str,
    row: u32,
    now: &jiff::Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE rows SET state = 'sending', attempts = attempts + 1, \
         first_sent_at = COALESCE(first_sent_at, ?3) WHERE run_id = ?1 AND row = ?2",
    )?
    .execute(params![run_id, row, now.to_string()])?;
    Ok(())
}

/// Puts a row back to pending; `ambiguous` records that the request just
/// made may have created the customer. The flag is never cleared.
pub fn requeue(conn: &Connection, run_id: &str, row: u32, ambiguous: bool) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE rows SET state = 'pending', ambiguous = (ambiguous OR ?3) \
         WHERE run_id = ?1 AND row = ?2",
    )?
    .execute(params![run_id, row, ambiguous])?;
    Ok(())
}

/// Turns the rows a stopped session left in `sending` into ambiguous
/// pending rows and returns how many there were.
pub fn requeue_interrupted(conn: &Connection, run_id: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE rows SET state = 'pending', ambiguous = 1 WHERE run_id = ?1 AND state = 'sending'",
        [run_id],
    )
}

/// Stores the patch of a merge (before it is sent) or clears it.
pub fn set_merge_patch(
    conn: &Connection,
    run_id: &str,
    row: u32,
    merge: Option<&Merge>,
) -> rusqlite::Result<()> {
    let patch = merge.map(|merge| to_json(&merge.patch)).transpose()?;
    let inverse = merge.map(|merge| to_json(&merge.inverse)).transpose()?;
    conn.prepare_cached(
        "UPDATE rows SET patch = ?3, inverse_patch = ?4 WHERE run_id = ?1 AND row = ?2",
    )?
    .execute(params![run_id, row, patch, inverse])?;
    Ok(())
}

pub fn set_undo(
    conn: &Connection,
    run_id: &str,
    row: u32,
    undo: &UndoState,
) -> rusqlite::Result<()> {
    let message = match undo {
        UndoState::Failed { message } => Some(message.as_str()),
        _ => None,
    };
    conn.prepare_cached(
        "UPDATE rows SET undo_state = ?3, undo_message = ?4 WHERE run_id = ?1 AND row = ?2",
    )?
    .execute(params![run_id, row, undo.name(), message])?;
    Ok(())
}

/// Returns the run and row, other than `row` of `run_id`, that name
/// `customer_id`: a row of any run that created it, conflicted with it or
/// merged into it.
pub fn other_row_naming(
    conn: &Connection,
    run_id: &str,
    customer_id: &str,
    row: u32,
) -> rusqlite::Result<Option<(String, u32)>> {
    conn.prepare_cached(
        "SELECT run_id, row FROM rows WHERE customer_id = ?2 \
         AND NOT (run_id = ?1 AND row = ?3) LIMIT 1",
    )?
    .query_row(params![run_id, customer_id, row], |found| {
        Ok((found.get(0)?, found.get(1)?))
    })
    .optional()
}

/// Returns whether a row of `run_id` created `customer_id` and undo has
/// deleted it.
pub fn deleted_by_undo(
    conn: &Connection,
    run_id: &str,
    customer_id: &str,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM rows WHERE run_id = ?1 AND customer_id = ?2 \
         AND state = 'created' AND undo_state = 'deleted')",
    )?
    .query_row(params![run_id, customer_id], |found| found.get(0))
}

/// Sets one of the run's time columns to now.
pub fn stamp_run(conn: &Connection, run_id: &str, column: RunStamp) -> rusqlite::Result<()> {
    let sql = match column {
        RunStamp::Finished => "UPDATE runs SET finished_at = ?2 WHERE id = ?1",
        RunStamp::UndoStarted => {
            "UPDATE runs SET undo_started_at = COALESCE(undo_started_at, ?2) WHERE id = ?1"
        }
        RunStamp::UndoFinished => "UPDATE runs SET undo_finished_at = ?2 WHERE id = ?1",
        RunStamp::Abandoned => {
            "UPDATE runs SET abandoned_at = COALESCE(abandoned_at, ?2) WHERE id = ?1"
        }
    };
    conn.execute(sql, params![run_id, jiff::Timestamp::now().to_string()])?;
    Ok(())
}

/// A time column of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStamp {
    Finished,
    UndoStarted,
    UndoFinished,
    /// The user gave up on an unfinished run to start the file anew.
    Abandoned,
}
