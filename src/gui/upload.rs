//! The upload screen: the rows to send and their destination, the options
//! of the run, and the rows already on file when "Look for existing
//! customers first" is ticked (each to skip or merge). While a run goes,
//! it shows a progress bar with counts, rate and time left, and pause,
//! resume and cancel.

use egui::Ui;
use egui_extras::{Column, TableBuilder};

use crate::upload::{PauseReason, Resolution, SessionKind};

use super::run::format_duration;
use super::run::{ForeseenRow, Foresight, ForesightKey, ForesightState, RunState, UploadForm};
use super::state::RowCounts;
use super::{theme, widgets};

/// Requests from the upload screen to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadAction {
    Start,
    /// List the existing customers to find the rows already on file.
    LookForExisting,
    /// Stop looking and untick "Look for existing customers first".
    StopLooking,
    Pause,
    Resume,
    Cancel,
    /// Show the prompt for a new token again.
    NewToken,
    ShowResults,
}

/// Read-only facts the upload screen shows.
pub(crate) struct UploadView<'a> {
    /// "Sandbox, location AG-SANDBOX", or why there is no connection.
    pub destination: Result<String, &'static str>,
    pub counts: RowCounts,
    pub run: Option<&'a RunState>,
    /// Whether the run's plan is being prepared after "Send".
    pub starting: bool,
    /// Key a look for existing customers must match to be current, or
    /// `None` without a connection.
    pub foresight_key: Option<ForesightKey>,
}

impl UploadView<'_> {
    /// Returns the look for existing customers when it is current.
    fn current_foresight<'f>(&self, form: &'f UploadForm) -> Option<&'f Foresight> {
        let foresight = form.foresight.as_ref()?;
        (Some(&foresight.key) == self.foresight_key.as_ref()).then_some(foresight)
    }

    /// Returns whether a run has started, so the screen shows its progress.
    fn has_run(&self) -> bool {
        self.run
            .is_some_and(|run| run.run_id.is_some() || run.is_active())
    }
}

/// Counts of the ready rows by how they will be sent, given the rows
/// found on file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SendCounts {
    /// Rows sent as new customers.
    create: usize,
    merge: usize,
}

fn send_counts(counts: &RowCounts, foreseen: &[ForeseenRow]) -> SendCounts {
    let merge = foreseen
        .iter()
        .filter(|row| row.choice == Resolution::Merge)
        .count();
    SendCounts {
        create: counts.ready.saturating_sub(foreseen.len()),
        merge,
    }
}

/// Returns the label, disabled reason and action of the screen's main
/// button, or `None` while a session runs (its controls are on screen).
pub(crate) fn main_action(
    form: &UploadForm,
    batch_tag_on: bool,
    view: &UploadView<'_>,
) -> Option<(String, Option<String>, UploadAction)> {
    if let Some(run) = view.run.filter(|_| view.has_run()) {
        if run.is_active() {
            return None;
        }
        let blocked = run
            .rows
            .is_none()
            .then(|| "The results are still loading".to_owned());
        return Some(("See results".to_owned(), blocked, UploadAction::ShowResults));
    }
    let foreseen = view
        .current_foresight(form)
        .and_then(Foresight::found)
        .unwrap_or_default();
    let sends = send_counts(&view.counts, foreseen);
    let label = send_label(sends);
    let blocked = send_blocked(form, batch_tag_on, view, sends);
    Some((label, blocked, UploadAction::Start))
}

/// Returns the label of the send button. With only merges to send, it
/// names the merges alone instead of "Send 0 customers".
fn send_label(sends: SendCounts) -> String {
    let customers = |count| widgets::counted(count, "customer", "customers");
    match (sends.create, sends.merge) {
        (create, 0) => format!("Send {}", customers(create)),
        (0, merge) => format!("Merge {}", customers(merge)),
        (create, merge) => format!(
            "Send {} and merge {}",
            customers(create),
            widgets::count(merge)
        ),
    }
}

fn send_blocked(
    form: &UploadForm,
    batch_tag_on: bool,
    view: &UploadView<'_>,
    sends: SendCounts,
) -> Option<String> {
    if let Err(reason) = &view.destination {
        return Some(format!("{reason} (see Connect)"));
    }
    if view.counts.ready == 0 {
        return Some("No row is ready to send".to_owned());
    }
    if batch_tag_on && form.batch_tag.trim().is_empty() {
        return Some("Type a tag, or untick tagging".to_owned());
    }
    if view.starting {
        return Some("The upload is being prepared".to_owned());
    }
    if form.check_existing {
        match view
            .current_foresight(form)
            .map(|foresight| &foresight.state)
        {
            None | Some(ForesightState::Looking) => {
                return Some("Still looking for existing customers".to_owned());
            }
            Some(ForesightState::Failed(_)) => {
                return Some(
                    "Look again, or untick \"Look for existing customers first\"".to_owned(),
                );
            }
            Some(ForesightState::Found { .. }) => {}
        }
    }
    (sends.create + sends.merge == 0)
        .then(|| "Every ready row is already on file and set to Skip".to_owned())
}

/// Draws the upload screen and returns what the user asked for.
/// `batch_tag_on` is the saved setting the toggle edits.
pub(crate) fn upload_ui(
    ui: &mut Ui,
    form: &mut UploadForm,
    batch_tag_on: &mut bool,
    view: &UploadView<'_>,
) -> Vec<UploadAction> {
    let mut actions = Vec::new();
    widgets::screen_title(
        ui,
        "Upload",
        "Send the ready rows. Every row ends as created, conflict, failed or skipped.",
    );
    match view.run {
        Some(run) if view.has_run() => progress_ui(ui, run, &mut actions),
        _ => plan_ui(ui, form, batch_tag_on, view, &mut actions),
    }
    actions
}

fn plan_ui(
    ui: &mut Ui,
    form: &mut UploadForm,
    batch_tag_on: &mut bool,
    view: &UploadView<'_>,
    actions: &mut Vec<UploadAction>,
) {
    widgets::section(ui, "What will be sent", |ui| summary_ui(ui, view));
    widgets::section(ui, "Options", |ui| {
        options_ui(ui, form, batch_tag_on, actions);
    });
    if form.check_existing {
        let current = view.current_foresight(form).is_some();
        widgets::section(ui, "Customers already on file", |ui| {
            if current {
                foresight_ui(ui, form, actions);
            } else {
                widgets::busy_label(ui, "Looking for existing customers…");
            }
        });
    }
    if view.starting {
        widgets::busy_label(ui, "Preparing the upload…");
    }
}

fn summary_ui(ui: &mut Ui, view: &UploadView<'_>) {
    let counts = view.counts;
    let ready = widgets::counted(counts.ready, "ready row", "ready rows");
    match &view.destination {
        Ok(destination) => {
            ui.label(format!("{ready} will be sent to {destination}."));
        }
        Err(reason) => widgets::error_label(ui, &format!("{reason} (see Connect).")),
    }
    if counts.invalid + counts.excluded > 0 {
        widgets::hint_label(
            ui,
            &format!(
                "{} and {} are not sent; the results list them as skipped.",
                widgets::counted(counts.invalid, "invalid row", "invalid rows"),
                widgets::counted(counts.excluded, "excluded row", "excluded rows"),
            ),
        );
    }
}

fn options_ui(
    ui: &mut Ui,
    form: &mut UploadForm,
    batch_tag_on: &mut bool,
    actions: &mut Vec<UploadAction>,
) {
    let response = ui
        .checkbox(
            &mut form.check_existing,
            "Look for existing customers first",
        )
        .on_hover_text(
            "Lists the location's customers before sending, so you can choose what happens to \
             rows whose email or phone is already on file",
        );
    if response.changed() && form.check_existing {
        actions.push(UploadAction::LookForExisting);
    }
    ui.horizontal_wrapped(|ui| {
        let checkbox = ui
            .checkbox(batch_tag_on, "Tag the customers of this import")
            .on_hover_text("The tag lets you find this import in Business App and undo it");
        ui.add_enabled(
            *batch_tag_on,
            egui::TextEdit::singleline(&mut form.batch_tag).desired_width(220.0),
        )
        .labelled_by(checkbox.id);
    });
}

fn foresight_ui(ui: &mut Ui, form: &mut UploadForm, actions: &mut Vec<UploadAction>) {
    let Some(foresight) = &mut form.foresight else {
        return;
    };
    match &mut foresight.state {
        ForesightState::Looking => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Listing the customers already in Business App…");
                if ui.button("Stop looking").clicked() {
                    actions.push(UploadAction::StopLooking);
                }
            });
        }
        ForesightState::Failed(message) => {
            widgets::error_label(ui, message);
            if ui.button("Look again").clicked() {
                actions.push(UploadAction::LookForExisting);
            }
        }
        ForesightState::Found { rows, existing } if rows.is_empty() => {
            widgets::message_box(
                ui,
                widgets::Tone::Success,
                &format!(
                    "None of the ready rows is on file yet (compared with {}).",
                    widgets::counted(*existing, "existing customer", "existing customers")
                ),
            );
        }
        ForesightState::Found { rows, .. } => foreseen_rows_ui(ui, rows),
    }
}

/// Lists the rows already on file with a Skip or Merge choice each.
fn foreseen_rows_ui(ui: &mut Ui, rows: &mut [ForeseenRow]) {
    widgets::warning_label(
        ui,
        &format!(
            "{} already on file. Skip leaves a row out and the existing customer as it is; \
             merge adds the row's new emails, phones and tags to the existing customer and fills \
             its empty fields.",
            widgets::counted(rows.len(), "row is", "rows are")
        ),
    );
    ui.horizontal(|ui| {
        ui.label("For every row:");
        for (label, choice) in [
            ("Skip all", Resolution::Skip),
            ("Merge all", Resolution::Merge),
        ] {
            if ui.button(label).clicked() {
                rows.iter_mut().for_each(|row| row.choice = choice);
            }
        }
    });
    let row_height = ui.spacing().interact_size.y + 6.0;
    TableBuilder::new(ui)
        .id_salt("foreseen_rows")
        .striped(true)
        .max_scroll_height(260.0)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::exact(56.0))
        .column(Column::initial(150.0).at_least(80.0).clip(true))
        .column(Column::initial(210.0).at_least(100.0).clip(true))
        .column(Column::initial(150.0).at_least(80.0).clip(true))
        .column(Column::remainder().at_least(130.0))
        .header(24.0, |mut header| {
            for title in [
                "Row",
                "Name",
                "Already on file",
                "Existing customer",
                "Choice",
            ] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows.len(), |mut table_row| {
                let Some(row) = rows.get_mut(table_row.index()) else {
                    return;
                };
                table_row.col(|ui| {
                    ui.label(row.row.to_string());
                });
                table_row.col(|ui| {
                    widgets::truncated_label(ui, row.name.as_str());
                });
                table_row.col(|ui| {
                    widgets::truncated_label(ui, row.conflict.value.as_str());
                });
                table_row.col(|ui| {
                    widgets::truncated_label(ui, row.conflict.existing_id.as_str());
                });
                table_row.col(|ui| {
                    ui.selectable_value(&mut row.choice, Resolution::Skip, "Skip");
                    ui.selectable_value(&mut row.choice, Resolution::Merge, "Merge");
                });
            });
        });
}

fn progress_ui(ui: &mut Ui, run: &RunState, actions: &mut Vec<UploadAction>) {
    widgets::section(ui, "Progress", |ui| {
        bar_ui(ui, run);
        ui.add_space(4.0);
        counts_ui(ui, run);
        ui.add_space(4.0);
        controls_ui(ui, run, actions);
    });
    status_ui(ui, run);
}

fn bar_ui(ui: &mut Ui, run: &RunState) {
    if let Some(progress) = &run.progress {
        let fraction = if progress.total == 0 {
            1.0
        } else {
            progress.done as f32 / progress.total as f32
        };
        // The bar's track is drawn in `extreme_bg_color`, which is the
        // white of the section it sits on, so it gets a visible grey here.
        ui.scope(|ui| {
            ui.visuals_mut().extreme_bg_color = theme::PROGRESS_TRACK;
            ui.add(egui::ProgressBar::new(fraction).text(format!(
                "{} of {}",
                widgets::count(progress.done),
                widgets::counted(progress.total, "row", "rows")
            )));
        });
        let time_left = progress
            .time_left
            .map_or_else(|| "estimating".to_owned(), format_duration);
        widgets::hint_label(
            ui,
            &format!(
                "{:.1} rows per second · time left: {time_left} · {} in flight",
                progress.rows_per_second,
                widgets::counted(progress.in_flight, "request", "requests")
            ),
        );
    } else if run.is_active() {
        let what = match run.kind {
            Some(SessionKind::Resolve) => "Preparing the merge…",
            _ => "Preparing the upload…",
        };
        widgets::busy_label(ui, what);
    }
}

fn counts_ui(ui: &mut Ui, run: &RunState) {
    let counts = run.counts;
    ui.horizontal_wrapped(|ui| {
        widgets::success_label(ui, &format!("{} created", widgets::count(counts.created)));
        ui.label(format!(
            "· {}",
            widgets::counted(counts.conflict, "conflict", "conflicts")
        ));
        ui.label(format!("· {} merged", widgets::count(counts.merged)));
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("· {} failed", widgets::count(counts.failed)),
        );
        ui.label(format!("· {} skipped", widgets::count(counts.skipped)));
        ui.label(format!(
            "· {} waiting",
            widgets::count(counts.pending + counts.sending)
        ));
    });
}

fn status_ui(ui: &mut Ui, run: &RunState) {
    if let Some(failure) = &run.failure {
        widgets::error_label(ui, failure);
    }
    match run.paused {
        Some(PauseReason::User) => widgets::warning_label(ui, "Paused. Press Resume to go on."),
        Some(PauseReason::TokenRejected) => widgets::warning_label(
            ui,
            "Paused: the server refused the token. Paste a new token to go on.",
        ),
        None => {}
    }
    if !run.pending_merges.is_empty() && run.is_active() {
        widgets::hint_label(
            ui,
            &format!(
                "Then {} already on file will be merged.",
                widgets::counted(run.pending_merges.len(), "row", "rows")
            ),
        );
    }
    if let Some(end) = &run.ended {
        let what = match end.kind {
            SessionKind::Upload => "The upload",
            SessionKind::Resolve => "Merging the rows already on file",
            SessionKind::Undo => "The undo",
        };
        if end.cancelled {
            widgets::warning_label(
                ui,
                &format!(
                    "{what} was cancelled. The rows not sent yet stay saved, so you can resume \
                     the run later."
                ),
            );
        } else {
            widgets::message_box(ui, widgets::Tone::Success, &format!("{what} finished."));
        }
    }
}

fn controls_ui(ui: &mut Ui, run: &RunState, actions: &mut Vec<UploadAction>) {
    if !run.is_active() {
        return;
    }
    ui.horizontal(|ui| {
        if run.paused == Some(PauseReason::TokenRejected) {
            if ui.button("Paste a new token…").clicked() {
                actions.push(UploadAction::NewToken);
            }
        } else if run.paused.is_some() {
            if ui.button("Resume").clicked() {
                actions.push(UploadAction::Resume);
            }
        } else if ui.button("Pause").clicked() {
            actions.push(UploadAction::Pause);
        }
        if ui.button("Cancel").clicked() {
            actions.push(UploadAction::Cancel);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Conflict;

    fn foreseen(row: u32, choice: Resolution) -> ForeseenRow {
        ForeseenRow {
            row,
            name: String::new(),
            conflict: Conflict {
                field: "emailAddresses".to_owned(),
                value: "a@example.com".to_owned(),
                existing_id: "AG-1:CUSTOMER-1".to_owned(),
            },
            choice,
        }
    }

    #[test]
    fn send_label_names_merges() {
        let label = |create, merge| send_label(SendCounts { create, merge });
        assert_eq!(label(3, 0), "Send 3 customers");
        assert_eq!(label(1, 0), "Send 1 customer");
        assert_eq!(label(0, 67), "Merge 67 customers");
        assert_eq!(label(2, 1), "Send 2 customers and merge 1");
    }

    #[test]
    fn send_counts_split_foreseen_rows() {
        let counts = RowCounts {
            ready: 10,
            ..RowCounts::default()
        };
        let rows = [
            foreseen(2, Resolution::Skip),
            foreseen(3, Resolution::Merge),
            foreseen(4, Resolution::Merge),
        ];
        let sends = send_counts(&counts, &rows);
        assert_eq!(sends.create, 7);
        assert_eq!(sends.merge, 2);
    }
}
