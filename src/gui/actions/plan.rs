//! Preparing a run off the UI thread: building its plan (a copy of every
//! row), looking for customers already on file before sending, and
//! starting the session once the plan is ready.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::api::Conflict;
use crate::auth::TokenSource;
use crate::check::{CheckOptions, RowCheck};
use crate::fields::Mapping;
use crate::table::Table;
use crate::upload::{ExistingCustomers, Resolution, SessionKind, Target, UploadPlan, skip_reason};

use super::super::app::ImporterApp;
use super::super::backend;
use super::super::connect::Credential;
use super::super::logic::Outcome;
use super::super::run::{ForeseenRow, Foresight, ForesightKey, ForesightState};
use super::super::state::Document;
use super::super::tasks::TaskKind;

/// Reason recorded for rows the user excluded in the preview.
const EXCLUDED_REASON: &str = "Excluded in the preview";

/// Inputs of a plan, taken from the document without copying its rows
/// (they are shared).
pub(crate) struct PlanInput {
    table: Arc<Table>,
    rows: Arc<Vec<RowCheck>>,
    mapping: Mapping,
    options: CheckOptions,
    excluded: BTreeSet<usize>,
    target: Target,
}

impl PlanInput {
    fn of(document: &Document, target: Target) -> Option<Self> {
        Some(Self {
            table: Arc::clone(&document.table),
            rows: Arc::clone(document.rows.as_ref()?),
            mapping: document.mapping.clone(),
            options: document.options.clone(),
            excluded: document.excluded.clone(),
            target,
        })
    }

    /// Builds the plan: every row with its cells, the excluded rows marked.
    /// Copies every row, so it runs on the blocking pool.
    fn build(self) -> UploadPlan {
        let mut plan = UploadPlan::new(
            &self.table,
            self.rows.as_ref().clone(),
            self.mapping,
            self.options,
            self.target,
        );
        for index in &self.excluded {
            if let Some(row) = plan.rows.get_mut(*index) {
                row.excluded = Some(EXCLUDED_REASON.to_owned());
            }
        }
        plan
    }
}

/// The user's choices for a new run, applied to its plan.
pub(crate) struct RunChoices {
    pub batch_tag: Option<String>,
    pub check_existing: bool,
    /// Rows found on file before sending, each with the user's choice.
    pub foreseen: Vec<ForeseenRow>,
}

impl RunChoices {
    /// Applies the choices: rows to skip become excluded with the reason
    /// of a skipped conflict. Returns the rows to merge once sent.
    fn apply(self, plan: &mut UploadPlan) -> Vec<u32> {
        plan.batch_tag = self.batch_tag;
        plan.options.check_existing = self.check_existing;
        let index_of: HashMap<u32, usize> = plan
            .rows
            .iter()
            .enumerate()
            .map(|(index, row)| (row.check.row, index))
            .collect();
        let mut merges = Vec::new();
        for foreseen in self.foreseen {
            match foreseen.choice {
                Resolution::Merge => merges.push(foreseen.row),
                Resolution::Skip => {
                    let row = index_of
                        .get(&foreseen.row)
                        .and_then(|index| plan.rows.get_mut(*index));
                    if let Some(row) = row {
                        row.excluded = Some(skip_reason(&foreseen.conflict));
                    }
                }
            }
        }
        merges
    }
}

impl ImporterApp {
    /// Returns the destination of a new run, or `None` without a
    /// connection.
    fn upload_target(&self) -> Option<Target> {
        let connection = self.connect.connection().ok()?;
        Some(Target {
            environment: connection.environment,
            base_url: connection.base_url,
            location: connection.location_id,
        })
    }

    /// Returns what a look for existing customers must have been made for
    /// to be current.
    pub(crate) fn foresight_key(&self) -> Option<ForesightKey> {
        let connection = self.connect.connection().ok()?;
        Some(ForesightKey {
            revision: self.document.as_ref()?.revision,
            base_url: connection.base_url,
            location: connection.location_id,
        })
    }

    /// Starts a look for existing customers when "Look for existing
    /// customers first" is ticked and no current look exists or runs.
    pub(crate) fn ensure_foresight(&mut self) {
        let Some(key) = self.foresight_key() else {
            return;
        };
        let current = self
            .upload_form
            .foresight
            .as_ref()
            .is_some_and(|foresight| foresight.key == key);
        if self.upload_form.check_existing && !current {
            self.look_for_existing();
        }
    }

    /// Returns the inputs of a plan for `target`, or `None` without
    /// a checked document.
    fn plan_input(&self, target: Target) -> Option<PlanInput> {
        self.document
            .as_ref()
            .and_then(|document| PlanInput::of(document, target))
    }

    /// Lists the existing customers of the plan's locations in the
    /// background and finds the ready rows already on file.
    pub(crate) fn look_for_existing(&mut self) {
        let (Some(key), Some(target)) = (self.foresight_key(), self.upload_target()) else {
            return;
        };
        let Some(input) = self.plan_input(target) else {
            return;
        };
        let source = match self
            .connect
            .connection()
            .map(|connection| connection.credential)
        {
            Ok(Credential::Token(token)) => TokenSource::from_token(token),
            Ok(Credential::ServiceAccount(account)) => account.source,
            _ => return,
        };
        self.upload_form.foresight = Some(Foresight {
            key: key.clone(),
            state: ForesightState::Looking,
        });
        self.tasks.spawn(
            TaskKind::Foresee,
            "Looking for existing customers",
            async move {
                let result = foresee(input, source).await;
                Outcome::Foreseen { key, result }
            },
        );
    }

    pub(crate) fn stop_looking(&mut self) {
        self.tasks.cancel(TaskKind::Foresee);
        self.upload_form.check_existing = false;
        self.upload_form.foresight = None;
    }

    pub(crate) fn apply_foreseen(
        &mut self,
        key: ForesightKey,
        result: Result<(Vec<ForeseenRow>, usize), String>,
    ) {
        let state = match result {
            Ok((rows, existing)) => {
                tracing::debug!(rows = rows.len(), existing, "found rows already on file");
                ForesightState::Found { rows, existing }
            }
            Err(message) => {
                tracing::warn!("failed to look for existing customers: {message}");
                ForesightState::Failed(message)
            }
        };
        self.upload_form.foresight = Some(Foresight { key, state });
    }

    /// Builds the run's plan in the background; the session starts when it
    /// is ready (see [`ImporterApp::apply_plan_built`]).
    pub(crate) fn prepare_upload(&mut self) {
        let Some(target) = self.upload_target() else {
            return;
        };
        let Some(input) = self.plan_input(target) else {
            return;
        };
        let foreseen = match (&self.upload_form.foresight, self.upload_form.check_existing) {
            (Some(foresight), true) => foresight.found().unwrap_or_default().to_vec(),
            _ => Vec::new(),
        };
        let choices = RunChoices {
            batch_tag: self
                .settings
                .batch_tag
                .then(|| self.upload_form.batch_tag.trim().to_owned()),
            check_existing: self.upload_form.check_existing,
            foreseen,
        };
        self.save_settings();
        self.tasks
            .spawn_blocking(TaskKind::Plan, "Preparing the upload", None, move || {
                let mut plan = input.build();
                let merges = choices.apply(&mut plan);
                Outcome::PlanBuilt {
                    plan: Box::new(plan),
                    merges,
                }
            });
    }

    pub(crate) fn apply_plan_built(&mut self, plan: UploadPlan, merges: Vec<u32>) {
        let (token, refresher) = match self.upload_credentials() {
            Ok(credentials) => credentials,
            Err(message) => return self.show_notice(true, message),
        };
        let session = self.uploader(refresher).start(plan, token);
        self.attach_session(session, SessionKind::Upload);
        if let Some(run) = &mut self.run {
            run.pending_merges = merges;
        }
    }
}

/// Builds the plan, lists the existing customers of its locations and
/// returns the ready rows already on file with the number of customers
/// listed. Rows start with the choice Skip, which changes nothing on file.
async fn foresee(
    input: PlanInput,
    source: TokenSource,
) -> Result<(Vec<ForeseenRow>, usize), String> {
    let base_url = input.target.base_url.clone();
    let plan = tokio::task::spawn_blocking(move || input.build())
        .await
        .map_err(|_| "Preparing the rows stopped because the app is closing".to_owned())?;
    let token = source
        .current_token()
        .await
        .map_err(|err| err.user_message())?;
    let existing = backend::list_existing(&base_url, token, &plan.locations()).await?;
    let listed = existing.len();
    let rows = tokio::task::spawn_blocking(move || foreseen_rows(&plan, &existing))
        .await
        .map_err(|_| "Comparing the rows stopped because the app is closing".to_owned())?;
    Ok((rows, listed))
}

/// Returns the ready rows of `plan` already on file, with their names.
fn foreseen_rows(plan: &UploadPlan, existing: &ExistingCustomers) -> Vec<ForeseenRow> {
    let conflicts: HashMap<u32, Conflict> = plan.foreseen_conflicts(existing).into_iter().collect();
    plan.rows
        .iter()
        .filter_map(|row| {
            let conflict = conflicts.get(&row.check.row)?;
            Some(ForeseenRow {
                row: row.check.row,
                name: row.check.customer.display_name(),
                conflict: conflict.clone(),
                choice: Resolution::Skip,
            })
        })
        .collect()
}
