//! The journal's SQLite schema and the connection settings every journal
//! connection uses.

use std::time::Duration;

use rusqlite::Connection;

/// Schema version stored in `PRAGMA user_version`; a journal written by a
/// newer version of the importer is rejected rather than misread.
/// Version 2 added `runs.abandoned_at` and `rows.first_sent_at`.
pub const SCHEMA_VERSION: i64 = 2;

/// How long a connection waits for another process (the GUI and the command
/// line may share the journal) to release its write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    file_path TEXT NOT NULL,
    sheet TEXT,
    fingerprint TEXT NOT NULL,
    headers TEXT NOT NULL,
    mapping TEXT NOT NULL,
    check_options TEXT NOT NULL,
    options TEXT NOT NULL,
    environment TEXT NOT NULL,
    base_url TEXT NOT NULL,
    location TEXT NOT NULL,
    locations TEXT NOT NULL,
    batch_tag TEXT,
    undo_started_at TEXT,
    undo_finished_at TEXT,
    abandoned_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_source ON runs (fingerprint, location);
CREATE TABLE IF NOT EXISTS rows (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    location TEXT NOT NULL,
    customer TEXT NOT NULL,
    cells TEXT NOT NULL,
    state TEXT NOT NULL,
    customer_id TEXT,
    field TEXT,
    value TEXT,
    status INTEGER,
    message TEXT,
    ambiguous INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    patch TEXT,
    inverse_patch TEXT,
    undo_state TEXT,
    undo_message TEXT,
    first_sent_at TEXT,
    PRIMARY KEY (run_id, row)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_by_state ON rows (run_id, state);
CREATE INDEX IF NOT EXISTS rows_by_customer ON rows (run_id, customer_id);
CREATE INDEX IF NOT EXISTS rows_by_customer_id ON rows (customer_id);
";

/// Columns added after version 1, as `(table, column, type)`. A journal
/// of an older version gets them with `ALTER TABLE`; their rows read as
/// `NULL`, which every reader takes as "not recorded".
const ADDED_COLUMNS: [(&str, &str, &str); 2] = [
    ("runs", "abandoned_at", "TEXT"),
    ("rows", "first_sent_at", "TEXT"),
];

/// Why a journal file cannot be used as it is.
#[derive(Debug)]
pub enum SchemaProblem {
    Sql(rusqlite::Error),
    /// The file was written by a newer importer (its schema version).
    TooNew(i64),
}

impl From<rusqlite::Error> for SchemaProblem {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sql(err)
    }
}

/// Applies the settings every journal connection needs, then creates the
/// tables when the file is new.
///
/// WAL lets readers (the GUI listing runs) work while an upload writes.
/// `synchronous = FULL` makes each commit reach the disk before the request
/// that depends on it is sent, so even a power cut cannot lose the record
/// that a POST was about to happen.
pub fn prepare(conn: &Connection) -> Result<(), SchemaProblem> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;

    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(SchemaProblem::TooNew(version));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // The GUI and the command line may open an old journal at the same
    // time: the write lock of `BEGIN IMMEDIATE` lets one of them upgrade it
    // while the other waits, then finds the columns present.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let upgraded = upgrade(conn);
    let end = if upgraded.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    conn.execute_batch(end)?;
    upgraded
}

/// Creates the tables of a new journal, or adds the columns an older one
/// lacks, and stores the current version.
fn upgrade(conn: &Connection) -> Result<(), SchemaProblem> {
    conn.execute_batch(CREATE_TABLES)?;
    for (table, column, kind) in ADDED_COLUMNS {
        if !has_column(conn, table, column)? {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut statement = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = statement.query_map([], |row| row.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}
