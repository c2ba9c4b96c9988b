//! The results screen: one table per outcome (created, conflicts, failed,
//! skipped, not sent), skip or merge for conflicts, saving the reports and
//! undoing the import.

use std::collections::BTreeMap;

use egui::Ui;
use egui_extras::{Column, TableBuilder, TableRow};

use crate::report::ReportKind;
use crate::upload::journal::JournalRow;
use crate::upload::{Resolution, RowState, SessionKind};

use super::run::RunState;
use super::widgets;

/// The results screen's own state.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResultsScreen {
    pub tab: Option<ReportKind>,
    /// Indexes into the run's rows by outcome, for the rows revision in
    /// `grouped_for`.
    grouped: BTreeMap<ReportKind, Vec<usize>>,
    grouped_for: Option<u64>,
}

/// Requests from the results screen to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultsAction {
    /// Skip or merge conflicts: the rows given, or all when `None`.
    Resolve {
        rows: Option<Vec<u32>>,
        resolution: Resolution,
    },
    SaveReports,
    Undo,
    NewImport,
}

/// Draws the results screen and returns what the user asked for.
pub(crate) fn results_ui(
    ui: &mut Ui,
    screen: &mut ResultsScreen,
    run: &RunState,
    rows_revision: u64,
) -> Vec<ResultsAction> {
    let mut actions = Vec::new();
    widgets::screen_title(ui, "Results", "What happened to each row of the file.");
    let Some(rows) = &run.rows else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Loading the results…");
        });
        return actions;
    };
    screen.group(rows, rows_revision);
    buttons_ui(ui, run, &mut actions);
    ui.add_space(widgets::SECTION_SPACING / 2.0);
    tabs_ui(ui, screen);
    ui.add_space(widgets::SECTION_SPACING / 2.0);
    let tab = screen.tab.unwrap_or(ReportKind::Created);
    let indexes = screen.grouped.get(&tab).map_or(&[][..], Vec::as_slice);
    if tab == ReportKind::Conflicts {
        conflicts_toolbar_ui(ui, run, indexes, rows, &mut actions);
    }
    if indexes.is_empty() {
        widgets::hint_label(ui, "No rows here.");
    } else {
        outcome_table_ui(ui, tab, indexes, rows, run.is_active(), &mut actions);
    }
    actions
}

impl ResultsScreen {
    fn group(&mut self, rows: &[JournalRow], revision: u64) {
        if self.grouped_for == Some(revision) {
            return;
        }
        self.grouped.clear();
        for (index, row) in rows.iter().enumerate() {
            let kind = ReportKind::of(&row.state);
            self.grouped.entry(kind).or_default().push(index);
        }
        if self.tab.is_none_or(|tab| !self.grouped.contains_key(&tab)) {
            self.tab = self.grouped.keys().next().copied();
        }
        self.grouped_for = Some(revision);
    }
}

fn buttons_ui(ui: &mut Ui, run: &RunState, actions: &mut Vec<ResultsAction>) {
    let busy = run
        .is_active()
        .then_some("Wait until the running session ends");
    ui.horizontal(|ui| {
        if widgets::button(ui, "Save reports…", busy) {
            actions.push(ResultsAction::SaveReports);
        }
        let undone = run.counts.deleted + run.counts.restored > 0 && run.counts.undo_failed == 0;
        let nothing_to_undo = if undone {
            Some("This import was undone")
        } else {
            (run.counts.created + run.counts.merged == 0)
                .then_some("This import created or merged no customer")
        };
        if widgets::button(ui, "Undo this import…", busy.or(nothing_to_undo)) {
            actions.push(ResultsAction::Undo);
        }
        // "Import another file" is the footer's main action.
    });
    match &run.reports_message {
        Some((true, message)) => widgets::error_label(ui, message),
        Some((false, message)) => widgets::success_label(ui, message),
        None => {}
    }
    session_status_ui(ui, run);
}

/// Shows a resolve or undo session while it runs, and how an undo ended.
fn session_status_ui(ui: &mut Ui, run: &RunState) {
    if run.is_active() {
        let what = match run.kind {
            Some(SessionKind::Undo) => "Undoing the import…",
            _ => "Resolving conflicts…",
        };
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(what);
        });
    }
    if let Some(failure) = &run.failure {
        widgets::error_label(ui, failure);
    }
    let Some(end) = run
        .ended
        .as_ref()
        .filter(|end| end.kind == SessionKind::Undo)
    else {
        return;
    };
    let counts = end.counts;
    let summary = format!(
        "The import was undone (deleted: {}, restored: {}).",
        counts.deleted, counts.restored
    );
    if counts.undo_failed > 0 {
        widgets::warning_label(
            ui,
            &format!(
                "{summary} {} could not be undone; press Undo again to retry them.",
                widgets::counted(counts.undo_failed, "row", "rows")
            ),
        );
    } else {
        widgets::success_label(ui, &summary);
    }
}

fn tabs_ui(ui: &mut Ui, screen: &mut ResultsScreen) {
    ui.horizontal(|ui| {
        for kind in ReportKind::ALL {
            let count = screen.grouped.get(&kind).map_or(0, Vec::len);
            if count == 0 && kind == ReportKind::NotSent {
                continue;
            }
            let label = format!("{} ({count})", kind_title(kind));
            let selected = screen.tab == Some(kind);
            if ui.selectable_label(selected, label).clicked() {
                screen.tab = Some(kind);
            }
        }
    });
}

fn kind_title(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Created => "Created",
        ReportKind::Conflicts => "Conflicts",
        ReportKind::Failed => "Failed",
        ReportKind::Skipped => "Skipped",
        ReportKind::NotSent => "Not sent",
    }
}

fn conflicts_toolbar_ui(
    ui: &mut Ui,
    run: &RunState,
    indexes: &[usize],
    rows: &[JournalRow],
    actions: &mut Vec<ResultsAction>,
) {
    let open = indexes
        .iter()
        .filter(|index| matches!(rows[**index].state, RowState::Conflict { .. }))
        .count();
    let reason = if run.is_active() {
        Some("Wait until the running session ends")
    } else if open == 0 {
        Some("Every conflict is resolved")
    } else {
        None
    };
    ui.horizontal(|ui| {
        ui.label(format!(
            "{} to resolve:",
            widgets::counted(open, "conflict", "conflicts")
        ));
        if widgets::button(ui, "Merge all", reason) {
            actions.push(ResultsAction::Resolve {
                rows: None,
                resolution: Resolution::Merge,
            });
        }
        if widgets::button(ui, "Skip all", reason) {
            actions.push(ResultsAction::Resolve {
                rows: None,
                resolution: Resolution::Skip,
            });
        }
    });
    widgets::hint_label(
        ui,
        "Merge adds the row's new emails, phones and tags to the existing customer and fills its \
         empty fields; skip leaves the existing customer as it is.",
    );
}

fn outcome_table_ui(
    ui: &mut Ui,
    kind: ReportKind,
    indexes: &[usize],
    rows: &[JournalRow],
    busy: bool,
    actions: &mut Vec<ResultsAction>,
) {
    let titles = column_titles(kind);
    let row_height = ui.spacing().interact_size.y + 4.0;
    let mut builder = TableBuilder::new(ui)
        .id_salt(("results", kind_title(kind)))
        .striped(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::exact(48.0))
        .column(
            Column::initial(180.0)
                .at_least(80.0)
                .clip(true)
                .resizable(true),
        );
    for _ in 3..titles.len() {
        builder = builder.column(
            Column::initial(200.0)
                .at_least(80.0)
                .clip(true)
                .resizable(true),
        );
    }
    builder = builder.column(Column::remainder().at_least(120.0).clip(true));
    builder
        .header(22.0, |mut header| {
            for title in &titles {
                header.col(|ui| {
                    ui.strong(*title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, indexes.len(), |mut table_row| {
                if let Some(row) = indexes.get(table_row.index()).map(|index| &rows[*index]) {
                    outcome_row_ui(&mut table_row, row, busy, actions);
                }
            });
        });
}

fn column_titles(kind: ReportKind) -> Vec<&'static str> {
    match kind {
        ReportKind::Created => vec!["Row", "Name", "Customer id"],
        ReportKind::Conflicts => vec![
            "Row",
            "Name",
            "Conflicting field",
            "Value",
            "Existing customer",
            "Resolution",
        ],
        ReportKind::Failed | ReportKind::Skipped => vec!["Row", "Name", "Reason"],
        ReportKind::NotSent => vec!["Row", "Name", "State"],
    }
}

fn outcome_row_ui(
    table_row: &mut TableRow<'_, '_>,
    row: &JournalRow,
    busy: bool,
    actions: &mut Vec<ResultsAction>,
) {
    table_row.col(|ui| {
        ui.label(row.row.to_string());
    });
    table_row.col(|ui| {
        ui.label(row.customer.display_name());
    });
    match &row.state {
        RowState::Created { customer_id } => text_cell(table_row, customer_id),
        RowState::Failed { message, .. } => text_cell(table_row, message),
        RowState::Skipped { reason } => text_cell(table_row, reason),
        RowState::Pending | RowState::Sending => text_cell(table_row, "Not sent yet"),
        RowState::Conflict { conflict, note } => {
            conflict_cells(table_row, conflict);
            table_row.col(|ui| conflict_choice_ui(ui, row.row, note.as_deref(), busy, actions));
        }
        RowState::Merging { conflict } => {
            conflict_cells(table_row, conflict);
            text_cell(table_row, "Merging");
        }
        RowState::Merged { conflict } => {
            conflict_cells(table_row, conflict);
            text_cell(table_row, "Merged");
        }
    }
}

fn text_cell(table_row: &mut TableRow<'_, '_>, text: &str) {
    table_row.col(|ui| {
        ui.label(text).on_hover_text(text);
    });
}

fn conflict_cells(table_row: &mut TableRow<'_, '_>, conflict: &crate::api::Conflict) {
    let field = match conflict.field.as_str() {
        "emailAddresses" => "Email",
        "phoneNumbers" => "Phone",
        other => other,
    };
    text_cell(table_row, field);
    text_cell(table_row, &conflict.value);
    text_cell(table_row, &conflict.existing_id);
}

fn conflict_choice_ui(
    ui: &mut Ui,
    row: u32,
    note: Option<&str>,
    busy: bool,
    actions: &mut Vec<ResultsAction>,
) {
    let reason = busy.then_some("Wait until the running session ends");
    if widgets::button(ui, "Merge", reason) {
        actions.push(ResultsAction::Resolve {
            rows: Some(vec![row]),
            resolution: Resolution::Merge,
        });
    }
    if widgets::button(ui, "Skip", reason) {
        actions.push(ResultsAction::Resolve {
            rows: Some(vec![row]),
            resolution: Resolution::Skip,
        });
    }
    if let Some(note) = note {
        ui.weak(note);
    }
}
