//! The plan of a new run: the checked rows of a sheet with their cells, the
//! target, and the choices that are recorded with the run.

use std::collections::{BTreeSet, HashMap};

use super::existing::ExistingCustomers;
use super::journal::{NewRow, RowState, RunInfo, RunOptions};
use crate::api::Conflict;
use crate::check::{CheckOptions, RowCheck, Severity};
use crate::customer::Customer;
use crate::environment::Environment;
use crate::fields::Mapping;
use crate::table::{SourceInfo, Table};

/// Destination of a run's customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub environment: Environment,
    /// Base URL such as `https://prod.apigateway.co/business`.
    pub base_url: String,
    /// Business location (`AG-...`) of rows that name none.
    pub location: String,
}

/// One row of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    /// The row's cells as read from the file, kept for the reports.
    pub cells: Vec<String>,
    pub check: RowCheck,
    /// Reason the user left the row out, if they did; the row ends as
    /// skipped.
    pub excluded: Option<String>,
}

/// Everything a new run is started with.
#[derive(Debug, Clone)]
pub struct UploadPlan {
    pub source: SourceInfo,
    pub headers: Vec<String>,
    pub mapping: Mapping,
    pub check_options: CheckOptions,
    pub target: Target,
    /// Tag added to every customer the run creates; see [`default_batch_tag`].
    pub batch_tag: Option<String>,
    pub options: RunOptions,
    pub rows: Vec<PlanRow>,
}

/// Returns the default batch tag, `Imported YYYY-MM-DD` with today's date in
/// the computer's time zone.
pub fn default_batch_tag() -> String {
    format!("Imported {}", jiff::ZonedDateTime::now().date())
}

impl UploadPlan {
    /// Pairs each checked row with its record's cells. Every check becomes a
    /// row of the plan; rows with errors will be recorded as skipped, with
    /// their first error as the reason, without being sent. The batch tag
    /// starts as [`default_batch_tag`].
    pub fn new(
        table: &Table,
        checks: Vec<RowCheck>,
        mapping: Mapping,
        check_options: CheckOptions,
        target: Target,
    ) -> Self {
        let cells_by_row: HashMap<u32, Vec<String>> = table
            .records
            .iter()
            .map(|record| (record.row, record.cells().map(str::to_owned).collect()))
            .collect();
        let rows = checks
            .into_iter()
            .map(|check| PlanRow {
                cells: cells_by_row.get(&check.row).cloned().unwrap_or_default(),
                check,
                excluded: None,
            })
            .collect();
        Self {
            source: table.source.clone(),
            headers: table.headers.clone(),
            mapping,
            check_options,
            target,
            batch_tag: Some(default_batch_tag()),
            options: RunOptions::default(),
            rows,
        }
    }

    /// Returns the number of rows that will be sent.
    pub fn ready_rows(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| row.excluded.is_none() && row.check.is_ready())
            .count()
    }

    /// Returns every business location the plan's ready rows go to, sorted.
    pub fn locations(&self) -> Vec<String> {
        let locations: BTreeSet<String> = self
            .rows
            .iter()
            .filter(|row| row.excluded.is_none() && row.check.is_ready())
            .map(|row| row_location(&row.check, &self.target.location))
            .collect();
        locations.into_iter().collect()
    }

    /// Returns the ready rows whose email or phone is already on file, with
    /// the conflict each would meet, so the user can decide before sending.
    /// `existing` comes from [`ExistingCustomers::load`] for
    /// [`UploadPlan::locations`].
    pub fn foreseen_conflicts(&self, existing: &ExistingCustomers) -> Vec<(u32, Conflict)> {
        self.rows
            .iter()
            .filter(|row| row.excluded.is_none() && row.check.is_ready())
            .filter_map(|row| {
                let location = row_location(&row.check, &self.target.location);
                existing
                    .conflict_for(&location, &row.check.customer)
                    .map(|conflict| (row.check.row, conflict))
            })
            .collect()
    }

    /// Builds the journal records of the run: the run itself with the id
    /// `run_id`, and every row with its location, the customer as it will be sent
    /// (batch tag included) and its first state.
    pub(crate) fn into_records(self, run_id: String) -> (RunInfo, Vec<NewRow>) {
        let rows: Vec<NewRow> = self
            .rows
            .into_iter()
            .map(|row| new_row(row, &self.target.location, self.batch_tag.as_deref()))
            .collect();
        let locations: BTreeSet<String> = rows.iter().map(|row| row.location.clone()).collect();
        let info = RunInfo {
            id: run_id,
            started_at: jiff::Timestamp::now(),
            finished_at: None,
            file_path: self.source.path,
            sheet: self.source.sheet,
            fingerprint: self.source.fingerprint,
            headers: self.headers,
            mapping: self.mapping,
            check_options: self.check_options,
            options: self.options,
            environment: self.target.environment,
            base_url: self.target.base_url,
            location: self.target.location,
            locations: locations.into_iter().collect(),
            batch_tag: self.batch_tag,
            undo_started_at: None,
            undo_finished_at: None,
        };
        (info, rows)
    }
}

/// Returns the row's own location, or the run's when the row names none.
fn row_location(check: &RowCheck, default_location: &str) -> String {
    check
        .location
        .as_deref()
        .map(str::trim)
        .filter(|location| !location.is_empty())
        .unwrap_or(default_location)
        .to_owned()
}

fn new_row(row: PlanRow, default_location: &str, batch_tag: Option<&str>) -> NewRow {
    let location = row_location(&row.check, default_location);
    let state = if let Some(reason) = row.excluded {
        RowState::Skipped { reason }
    } else if row.check.is_ready() {
        RowState::Pending
    } else {
        RowState::Skipped {
            reason: invalid_reason(&row.check),
        }
    };
    NewRow {
        row: row.check.row,
        location,
        customer: with_tag(row.check.customer, batch_tag),
        cells: row.cells,
        state,
    }
}

/// Returns the customer with `tag` added to its tags, unless it has it.
fn with_tag(mut customer: Customer, tag: Option<&str>) -> Customer {
    if let Some(tag) = tag.map(str::trim).filter(|tag| !tag.is_empty()) {
        let present = customer
            .tags
            .iter()
            .any(|existing| existing.trim().eq_ignore_ascii_case(tag));
        if !present {
            customer.tags.push(tag.into());
        }
    }
    customer
}

/// Returns the reason an invalid row is skipped: its first error, which
/// the preview showed the user before sending.
fn invalid_reason(check: &RowCheck) -> String {
    check
        .issues
        .iter()
        .find(|issue| issue.severity == Severity::Error)
        .map_or_else(
            || "The row is invalid.".to_owned(),
            |issue| issue.message.to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Attribute, Issue};

    fn check(row: u32, email: &str) -> RowCheck {
        RowCheck {
            row,
            customer: Customer {
                email_addresses: vec![email.into()],
                tags: vec!["VIP".into()],
                ..Customer::default()
            },
            location: None,
            issues: Vec::new(),
        }
    }

    fn plan(rows: Vec<PlanRow>) -> UploadPlan {
        UploadPlan {
            source: SourceInfo {
                path: "/tmp/a.csv".into(),
                format: crate::table::SourceFormat::Xlsx,
                sheet: None,
                sheets: Vec::new(),
                fingerprint: "f".to_owned(),
            },
            headers: vec!["Email".to_owned()],
            mapping: Mapping::default(),
            check_options: CheckOptions::default(),
            target: Target {
                environment: Environment::Sandbox,
                base_url: "http://127.0.0.1:8080/business".to_owned(),
                location: "AG-DEFAULT".to_owned(),
            },
            batch_tag: Some("Imported 2026-12-04".to_owned()),
            options: RunOptions::default(),
            rows,
        }
    }

    #[test]
    fn records_apply_tag_location_and_state() {
        let mut located = check(3, "b@example.com");
        located.location = Some("AG-OTHER".to_owned());
        let mut invalid = check(4, "c@example");
        invalid.issues.push(Issue {
            severity: Severity::Warning,
            attribute: Attribute::GivenName,
            column: None,
            message: "The row has no name.".into(),
        });
        for message in [
            "The email c@example has no domain ending.",
            "The phone 12 is too short.",
        ] {
            invalid.issues.push(Issue {
                severity: Severity::Error,
                attribute: Attribute::EmailAddresses,
                column: Some(0),
                message: message.into(),
            });
        }
        let rows = vec![
            PlanRow {
                cells: vec!["a@example.com".to_owned()],
                check: check(2, "a@example.com"),
                excluded: None,
            },
            PlanRow {
                cells: Vec::new(),
                check: located,
                excluded: None,
            },
            PlanRow {
                cells: Vec::new(),
                check: invalid,
                excluded: None,
            },
            PlanRow {
                cells: Vec::new(),
                check: check(5, "d@example.com"),
                excluded: Some("left out by user".to_owned()),
            },
        ];
        let plan = plan(rows);
        assert_eq!(plan.ready_rows(), 2);

        let (info, rows) = plan.into_records("run-1".to_owned());
        assert_eq!(info.locations, vec!["AG-DEFAULT", "AG-OTHER"]);
        assert_eq!(rows[0].location, "AG-DEFAULT");
        assert_eq!(rows[0].customer.tags, vec!["VIP", "Imported 2026-12-04"]);
        assert_eq!(rows[0].state, RowState::Pending);
        assert_eq!(rows[1].location, "AG-OTHER");
        assert_eq!(
            rows[2].state,
            RowState::Skipped {
                reason: "The email c@example has no domain ending.".to_owned()
            },
            "an invalid row is skipped with its first error"
        );
        assert!(
            matches!(&rows[3].state, RowState::Skipped { reason } if reason == "left out by user")
        );
    }

    #[test]
    fn foreseen_conflicts_use_row_location() {
        let mut other = check(3, "b@example.com");
        other.location = Some("AG-OTHER".to_owned());
        let rows = vec![
            PlanRow {
                cells: Vec::new(),
                check: check(2, "a@example.com"),
                excluded: None,
            },
            PlanRow {
                cells: Vec::new(),
                check: other,
                excluded: None,
            },
        ];
        let plan = plan(rows);
        assert_eq!(plan.locations(), vec!["AG-DEFAULT", "AG-OTHER"]);

        let mut existing = ExistingCustomers::default();
        existing.add(
            "AG-DEFAULT",
            "AG-DEFAULT:CUSTOMER-1",
            &check(9, "a@example.com").customer,
        );
        existing.add(
            "AG-DEFAULT",
            "AG-DEFAULT:CUSTOMER-2",
            &check(9, "b@example.com").customer,
        );
        let foreseen = plan.foreseen_conflicts(&existing);
        assert_eq!(foreseen.len(), 1, "row 3 goes to another location");
        assert_eq!(foreseen[0].0, 2);
        assert_eq!(foreseen[0].1.existing_id, "AG-DEFAULT:CUSTOMER-1");
    }

    #[test]
    fn tag_not_added_twice() {
        let customer = with_tag(check(2, "a@example.com").customer, Some("vip"));
        assert_eq!(customer.tags, vec!["VIP"]);
    }

    #[test]
    fn default_tag_names_the_date() {
        let tag = default_batch_tag();
        assert!(tag.starts_with("Imported 20"), "{tag}");
        assert_eq!(tag.len(), "Imported 2026-12-04".len());
    }
}
