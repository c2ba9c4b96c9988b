//! The "Fix row" modal: edits the source values of one row. Saving writes
//! them into the table and checks the row again at once.

use egui::{Context, Id, Modal, RichText};

use crate::check::{Issue, Severity};
use crate::fields::{Mapping, Target};
use crate::normalize::MAX_CELL_CHARS;
use crate::table::Table;

use super::mapping::target_label;
use super::widgets;

/// One editable source cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CellEdit {
    pub column: usize,
    /// "Header · Target", to say what the value feeds.
    pub label: String,
    pub value: String,
}

/// The modal's state: the row being fixed and its values as edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FixRowState {
    /// Index into `table.records`.
    pub index: usize,
    /// Spreadsheet row number, for the title.
    pub row: u32,
    pub cells: Vec<CellEdit>,
    pub issues: Vec<Issue>,
}

/// The user's choice in the modal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FixRowChoice {
    Save,
    Cancel,
}

impl FixRowState {
    /// Prepares the editor for one record: every mapped column, plus any
    /// column an issue points at.
    pub fn new(table: &Table, mapping: &Mapping, index: usize, issues: Vec<Issue>) -> Option<Self> {
        let record = table.records.get(index)?;
        let cells = (0..table.headers.len())
            .filter(|column| {
                mapping.target(*column) != Target::Ignore
                    || issues.iter().any(|issue| issue.column == Some(*column))
            })
            .map(|column| CellEdit {
                column,
                label: format!(
                    "{} · {}",
                    table.headers[column],
                    target_label(mapping.target(column))
                ),
                value: record.get(column).to_owned(),
            })
            .collect();
        Some(Self {
            index,
            row: record.row,
            cells,
            issues,
        })
    }
}

/// Draws the modal; returns the user's choice once made.
pub(crate) fn fix_row_ui(ctx: &Context, state: &mut FixRowState) -> Option<FixRowChoice> {
    let response = Modal::new(Id::unique("fix_row")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        ui.heading(format!("Fix row {}", state.row));
        for issue in &state.issues {
            match issue.severity {
                Severity::Error => widgets::error_label(ui, &issue.message.text()),
                Severity::Warning => widgets::warning_label(ui, &issue.message.text()),
            }
        }
        ui.add_space(8.0);
        egui::Grid::new("fix_row_cells")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                for cell in &mut state.cells {
                    let label = ui.label(RichText::new(&cell.label).strong());
                    // A text field lays out its whole text each frame, which
                    // a cell of megabytes would turn into a hang.
                    if cell.value.len() > MAX_CELL_CHARS {
                        widgets::hint_label(
                            ui,
                            "Too long to edit here: shorten this cell in the spreadsheet, or \
                             leave the row out",
                        );
                    } else {
                        ui.add(egui::TextEdit::singleline(&mut cell.value).desired_width(320.0))
                            .labelled_by(label.id);
                    }
                    ui.end_row();
                }
            });
        ui.add_space(widgets::SECTION_SPACING);
        ui.horizontal(|ui| {
            if widgets::primary_button(ui, "Save and check again", None) {
                return Some(FixRowChoice::Save);
            }
            ui.button("Cancel")
                .clicked()
                .then_some(FixRowChoice::Cancel)
        })
        .inner
    });
    if response.should_close() {
        return Some(FixRowChoice::Cancel);
    }
    response.inner
}
