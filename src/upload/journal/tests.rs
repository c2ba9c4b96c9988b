use std::path::PathBuf;

use super::*;
use crate::api::{Conflict, CustomerPatch, FieldChange, Merge};
use crate::check::CheckOptions;
use crate::customer::Customer;
use crate::environment::Environment;
use crate::fields::Mapping;

fn run_info(id: &str) -> RunInfo {
    RunInfo {
        id: id.to_owned(),
        started_at: jiff::Timestamp::now(),
        finished_at: None,
        file_path: PathBuf::from("/tmp/customers.csv"),
        sheet: None,
        fingerprint: "ab12".to_owned(),
        headers: vec!["Name".to_owned(), "Email".to_owned()],
        mapping: Mapping::default(),
        check_options: CheckOptions::default(),
        options: RunOptions::default(),
        environment: Environment::Sandbox,
        base_url: "http://127.0.0.1:8080/business".to_owned(),
        location: "AG-1".to_owned(),
        locations: vec!["AG-1".to_owned()],
        batch_tag: Some("Imported 2026-12-04".to_owned()),
        undo_started_at: None,
        undo_finished_at: None,
    }
}

fn new_row(row: u32, state: RowState) -> NewRow {
    NewRow {
        row,
        location: "AG-1".to_owned(),
        customer: Customer {
            email_addresses: vec![compact_str::format_compact!("row{row}@example.com")],
            ..Customer::default()
        },
        cells: vec![format!("Person {row}"), format!("row{row}@example.com")],
        state,
    }
}

fn conflict() -> Conflict {
    Conflict {
        field: "emailAddresses".to_owned(),
        value: "row3@example.com".to_owned(),
        existing_id: "AG-1:CUSTOMER-9".to_owned(),
    }
}

fn journal_with_run() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut journal =
        Journal::open(&dir.path().join("data").join("journal.sqlite3")).expect("open");
    let rows = [
        new_row(2, RowState::Pending),
        new_row(3, RowState::Pending),
        new_row(
            4,
            RowState::Failed {
                status: None,
                message: "no email and no phone".to_owned(),
            },
        ),
    ];
    journal
        .create_run(&run_info("run-1"), &rows)
        .expect("create run");
    (dir, journal)
}

#[test]
fn run_round_trips() {
    let (_dir, journal) = journal_with_run();
    let info = journal.run("run-1").expect("run");
    let mut expected = run_info("run-1");
    expected.started_at = info.started_at;
    assert_eq!(info, expected);

    let rows = journal.rows("run-1").expect("rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].row, 2);
    assert_eq!(rows[0].state, RowState::Pending);
    assert_eq!(rows[0].cells, vec!["Person 2", "row2@example.com"]);
    assert_eq!(rows[0].customer.email_addresses, vec!["row2@example.com"]);
    assert!(matches!(
        rows[2].state,
        RowState::Failed { status: None, .. }
    ));
}

#[test]
fn unknown_run_is_an_error() {
    let (_dir, journal) = journal_with_run();
    let err = journal.run("nope").expect_err("no such run");
    assert_eq!(err.to_string(), "run nope is not in the run journal");
}

#[test]
fn counts_follow_state_changes() {
    let (_dir, journal) = journal_with_run();
    sql::mark_sending(&journal.conn, "run-1", 2, &jiff::Timestamp::now()).expect("sending");
    let created = RowState::Created {
        customer_id: "AG-1:CUSTOMER-1".to_owned(),
    };
    sql::set_state(&journal.conn, "run-1", 3, &created).expect("created");

    let counts = journal.counts("run-1").expect("counts");
    assert_eq!(counts.sending, 1);
    assert_eq!(counts.created, 1);
    assert_eq!(counts.failed, 1);
    assert_eq!(counts.pending, 0);
    assert_eq!(counts.total(), 3);
    assert_eq!(counts.unfinished(), 1);
}

#[test]
fn interrupted_rows_become_ambiguous() {
    let (_dir, journal) = journal_with_run();
    sql::mark_sending(&journal.conn, "run-1", 2, &jiff::Timestamp::now()).expect("sending");
    let requeued = sql::requeue_interrupted(&journal.conn, "run-1").expect("requeue");
    assert_eq!(requeued, 1);

    let row = sql::select_row(&journal.conn, "run-1", 2).expect("row");
    assert_eq!(row.state, RowState::Pending);
    assert!(row.ambiguous);
    assert_eq!(row.attempts, 1);
    let other = sql::select_row(&journal.conn, "run-1", 3).expect("row");
    assert!(!other.ambiguous);
}

#[test]
fn requeue_never_clears_ambiguity() {
    let (_dir, journal) = journal_with_run();
    sql::requeue(&journal.conn, "run-1", 2, true).expect("ambiguous");
    sql::requeue(&journal.conn, "run-1", 2, false).expect("plain");
    let row = sql::select_row(&journal.conn, "run-1", 2).expect("row");
    assert!(row.ambiguous);
}

#[test]
fn skipped_conflict_keeps_existing_id() {
    let (_dir, journal) = journal_with_run();
    let state = RowState::Conflict {
        conflict: conflict(),
        note: None,
    };
    sql::set_state(&journal.conn, "run-1", 3, &state).expect("conflict");
    let skipped = RowState::Skipped {
        reason: "skipped by user".to_owned(),
    };
    sql::set_state(&journal.conn, "run-1", 3, &skipped).expect("skipped");

    let id: Option<String> = journal
        .conn
        .query_row(
            "SELECT customer_id FROM rows WHERE run_id = 'run-1' AND row = 3",
            [],
            |row| row.get(0),
        )
        .expect("select");
    assert_eq!(id.as_deref(), Some("AG-1:CUSTOMER-9"));
    let row = sql::select_row(&journal.conn, "run-1", 3).expect("row");
    assert_eq!(row.state, skipped);
}

#[test]
fn undo_plan_counts_creates_and_merges() {
    let (_dir, journal) = journal_with_run();
    let created = RowState::Created {
        customer_id: "AG-1:CUSTOMER-1".to_owned(),
    };
    sql::set_state(&journal.conn, "run-1", 2, &created).expect("created");
    let merge = Merge {
        patch: CustomerPatch {
            given_name: FieldChange::Set("Ann".into()),
            ..CustomerPatch::default()
        },
        inverse: CustomerPatch {
            given_name: FieldChange::Clear,
            ..CustomerPatch::default()
        },
    };
    sql::set_merge_patch(&journal.conn, "run-1", 3, Some(&merge)).expect("patch");
    let merged = RowState::Merged {
        conflict: conflict(),
    };
    sql::set_state(&journal.conn, "run-1", 3, &merged).expect("merged");

    let plan = journal.undo_plan("run-1").expect("plan");
    assert_eq!(
        plan,
        UndoPlan {
            deletes: 1,
            restores: 1
        }
    );
    let row = sql::select_row(&journal.conn, "run-1", 3).expect("row");
    assert_eq!(row.merge, Some(merge));

    sql::set_undo(&journal.conn, "run-1", 2, &UndoState::Deleted).expect("undo");
    let plan = journal.undo_plan("run-1").expect("plan");
    assert_eq!(
        plan,
        UndoPlan {
            deletes: 0,
            restores: 1
        }
    );
    assert_eq!(journal.counts("run-1").expect("counts").deleted, 1);
}

#[test]
fn resumable_run_is_found_by_file_and_location() {
    let (_dir, journal) = journal_with_run();
    let found = journal.find_resumable("ab12", "AG-1").expect("find");
    assert_eq!(found.map(|run| run.info.id), Some("run-1".to_owned()));
    assert!(
        journal
            .find_resumable("ab12", "AG-2")
            .expect("find")
            .is_none()
    );
    assert!(
        journal
            .find_resumable("ff00", "AG-1")
            .expect("find")
            .is_none()
    );

    for row in [2, 3] {
        let skipped = RowState::Skipped {
            reason: "test".to_owned(),
        };
        sql::set_state(&journal.conn, "run-1", row, &skipped).expect("skip");
    }
    assert!(
        journal
            .find_resumable("ab12", "AG-1")
            .expect("find")
            .is_none()
    );
}

#[test]
fn customer_named_by_another_run_is_found() {
    let (_dir, mut journal) = journal_with_run();
    let created = RowState::Created {
        customer_id: "AG-1:CUSTOMER-7".to_owned(),
    };
    sql::set_state(&journal.conn, "run-1", 2, &created).expect("created");
    journal
        .create_run(&run_info("run-2"), &[new_row(2, RowState::Pending)])
        .expect("second run");

    let found = sql::other_row_naming(&journal.conn, "run-2", "AG-1:CUSTOMER-7", 2).expect("query");
    assert_eq!(found, Some(("run-1".to_owned(), 2)));
    let none = sql::other_row_naming(&journal.conn, "run-2", "AG-1:CUSTOMER-8", 2).expect("query");
    assert_eq!(none, None);
}

#[test]
fn second_lock_on_a_run_is_busy() {
    let (_dir, journal) = journal_with_run();
    let lock = journal.lock_run("run-1").expect("first lock");
    let err = journal.lock_run("run-1").expect_err("second lock");
    assert!(matches!(err, JournalError::Busy { .. }));
    drop(lock);
    journal.lock_run("run-1").expect("lock after release");
}

#[test]
fn newer_schema_is_rejected() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("journal.sqlite3");
    {
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", 99)
            .expect("version");
    }
    let err = Journal::open(&path).expect_err("too new");
    assert!(matches!(err, JournalError::TooNew { version: 99, .. }));
}

#[tokio::test]
async fn writer_commits_concurrent_changes() {
    let (dir, journal) = journal_with_run();
    let writer = JournalWriter::spawn(journal.path(), "run-1").expect("writer");
    let first = writer.mark_sending(2, jiff::Timestamp::now());
    let second = writer.set_state(
        3,
        RowState::Created {
            customer_id: "AG-1:CUSTOMER-3".to_owned(),
        },
    );
    let (first, second) = tokio::join!(first, second);
    first.expect("first change");
    second.expect("second change");

    let found = writer
        .other_row_naming("AG-1:CUSTOMER-3".to_owned(), 2)
        .await
        .expect("query");
    assert_eq!(found, Some(("run-1".to_owned(), 3)));
    let itself = writer
        .other_row_naming("AG-1:CUSTOMER-3".to_owned(), 3)
        .await
        .expect("query");
    assert_eq!(itself, None, "the row itself does not count");
    let counts = journal.counts("run-1").expect("counts");
    assert_eq!(counts.sending, 1);
    assert_eq!(counts.created, 1);
    drop(dir);
}

#[test]
fn first_send_time_is_kept() {
    let (_dir, journal) = journal_with_run();
    let first: jiff::Timestamp = "2026-01-02T03:04:05Z".parse().expect("a time");
    let later: jiff::Timestamp = "2026-01-02T04:00:00Z".parse().expect("a time");
    assert_eq!(
        sql::select_row(&journal.conn, "run-1", 2)
            .expect("row")
            .first_sent_at,
        None
    );
    sql::mark_sending(&journal.conn, "run-1", 2, &first).expect("sending");
    sql::requeue(&journal.conn, "run-1", 2, true).expect("requeue");
    sql::mark_sending(&journal.conn, "run-1", 2, &later).expect("sending again");
    let row = sql::select_row(&journal.conn, "run-1", 2).expect("row");
    assert_eq!(row.first_sent_at, Some(first));
    assert_eq!(row.attempts, 2);
}

#[test]
fn abandoned_run_is_not_resumable() {
    let (_dir, journal) = journal_with_run();
    assert_eq!(journal.abandoned_at("run-1").expect("read"), None);
    journal.abandon_run("run-1").expect("abandon");
    assert!(journal.abandoned_at("run-1").expect("read").is_some());
    assert!(journal.unfinished_runs().expect("runs").is_empty());
    assert!(
        journal
            .find_resumable("ab12", "AG-1")
            .expect("find")
            .is_none()
    );
    let rows = journal.rows("run-1").expect("rows");
    assert_eq!(rows[0].state, RowState::Pending, "rows keep their states");
    let summary = &journal.runs().expect("runs")[0];
    assert!(summary.abandoned_at.is_some());
    assert!(!summary.is_unfinished());
}

#[test]
fn busy_run_cannot_be_abandoned() {
    let (_dir, journal) = journal_with_run();
    let _lock = journal.lock_run("run-1").expect("lock");
    let err = journal
        .abandon_run("run-1")
        .expect_err("a session holds the run");
    assert!(matches!(err, JournalError::Busy { .. }));
    assert_eq!(journal.abandoned_at("run-1").expect("read"), None);
}

#[test]
fn version_1_journal_gains_new_columns() {
    let (dir, journal) = journal_with_run();
    let path = journal.path().to_path_buf();
    journal
        .conn
        .execute_batch(
            "ALTER TABLE runs DROP COLUMN abandoned_at; \
             ALTER TABLE rows DROP COLUMN first_sent_at; \
             PRAGMA user_version = 1;",
        )
        .expect("make a version 1 journal");
    drop(journal);

    let journal = Journal::open(&path).expect("open the old journal");
    let version: i64 = journal
        .conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, schema::SCHEMA_VERSION);
    assert_eq!(journal.rows("run-1").expect("rows").len(), 3);
    assert_eq!(journal.abandoned_at("run-1").expect("read"), None);
    journal
        .abandon_run("run-1")
        .expect("the new column is written");
    drop(dir);
}

#[test]
fn undo_steps_cover_merges_in_doubt() {
    let (_dir, journal) = journal_with_run();
    let merge = Merge {
        patch: CustomerPatch {
            given_name: FieldChange::Set("Ann".into()),
            ..CustomerPatch::default()
        },
        inverse: CustomerPatch {
            given_name: FieldChange::Clear,
            ..CustomerPatch::default()
        },
    };
    sql::set_merge_patch(&journal.conn, "run-1", 3, Some(&merge)).expect("patch");
    let merging = RowState::Merging {
        conflict: conflict(),
    };
    sql::set_state(&journal.conn, "run-1", 3, &merging).expect("merging");
    let failed = RowState::Failed {
        status: Some(502),
        message: "not confirmed".to_owned(),
    };
    sql::set_state(&journal.conn, "run-1", 3, &failed).expect("failed");

    let row = sql::select_row(&journal.conn, "run-1", 3).expect("row");
    assert_eq!(
        undo_step(&row),
        Some(UndoStep::Restore {
            customer_id: "AG-1:CUSTOMER-9",
            inverse: &merge.inverse,
        })
    );
    let invalid = sql::select_row(&journal.conn, "run-1", 4).expect("row");
    assert_eq!(undo_step(&invalid), None, "a failed row without a merge");
    assert_eq!(journal.undo_plan("run-1").expect("plan").restores, 1);
}
