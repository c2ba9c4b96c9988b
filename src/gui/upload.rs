//! The upload screen: what will be sent where, the options of the run,
//! then a progress bar with counts, rate and time left, and pause, resume
//! and cancel.

use egui::Ui;

use crate::upload::{PauseReason, SessionKind};

use super::run::{RunState, UploadForm, format_duration};
use super::state::RowCounts;
use super::widgets;

/// Requests from the upload screen to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadAction {
    Start,
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
        Some(run) if run.run_id.is_some() || run.is_active() => {
            progress_ui(ui, run, &mut actions);
        }
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
    let counts = view.counts;
    match &view.destination {
        Ok(destination) => {
            ui.label(format!(
                "{} ready rows will be sent to {destination}.",
                counts.ready
            ));
        }
        Err(reason) => widgets::error_label(ui, &format!("{reason} (see Connect).")),
    }
    let not_sent = counts.invalid + counts.excluded;
    if not_sent > 0 {
        widgets::hint_label(
            ui,
            &format!(
                "{} invalid rows are recorded as failed and {} excluded rows as skipped; none \
                 of them is sent.",
                counts.invalid, counts.excluded
            ),
        );
    }
    ui.add_space(widgets::SECTION_SPACING);
    options_ui(ui, form, batch_tag_on);
    ui.add_space(widgets::SECTION_SPACING);

    let reason = match &view.destination {
        Err(reason) => Some(*reason),
        Ok(_) if counts.ready == 0 => Some("No row is ready to send"),
        Ok(_) if *batch_tag_on && form.batch_tag.trim().is_empty() => {
            Some("Type a tag, or untick tagging")
        }
        Ok(_) => None,
    };
    if widgets::primary_button(ui, &format!("Send {} customers", counts.ready), reason) {
        actions.push(UploadAction::Start);
    }
}

fn options_ui(ui: &mut Ui, form: &mut UploadForm, batch_tag_on: &mut bool) {
    ui.checkbox(
        &mut form.check_existing,
        "Look for existing customers first",
    )
    .on_hover_text(
        "Lists the location's customers before sending, so rows whose email or phone \
             already exists are shown as conflicts instead of being sent",
    );
    ui.horizontal(|ui| {
        let checkbox = ui
            .checkbox(batch_tag_on, "Tag the customers of this import")
            .on_hover_text("The tag lets you find this import in Business App and undo it");
        ui.add_enabled(
            *batch_tag_on,
            egui::TextEdit::singleline(&mut form.batch_tag).desired_width(200.0),
        )
        .labelled_by(checkbox.id);
    });
}

fn progress_ui(ui: &mut Ui, run: &RunState, actions: &mut Vec<UploadAction>) {
    let counts = run.counts;
    if let Some(progress) = &run.progress {
        let fraction = if progress.total == 0 {
            1.0
        } else {
            progress.done as f32 / progress.total as f32
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .text(format!("{} of {} rows", progress.done, progress.total)),
        );
        let time_left = progress
            .time_left
            .map_or_else(|| "estimating".to_owned(), format_duration);
        widgets::hint_label(
            ui,
            &format!(
                "{:.1} rows per second · time left: {time_left} · {} requests in flight",
                progress.rows_per_second, progress.in_flight
            ),
        );
    } else if run.is_active() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Preparing the upload…");
        });
    }
    ui.add_space(widgets::SECTION_SPACING / 2.0);
    ui.horizontal_wrapped(|ui| {
        widgets::success_label(ui, &format!("{} created", counts.created));
        ui.label(format!("· {} conflicts", counts.conflict));
        ui.label(format!("· {} merged", counts.merged));
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("· {} failed", counts.failed),
        );
        ui.label(format!("· {} skipped", counts.skipped));
        ui.label(format!("· {} waiting", counts.pending + counts.sending));
    });
    ui.add_space(widgets::SECTION_SPACING);
    status_ui(ui, run);
    controls_ui(ui, run, actions);
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
    if let Some(end) = &run.ended {
        let what = match end.kind {
            SessionKind::Upload => "The upload",
            SessionKind::Resolve => "Resolving conflicts",
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
            widgets::success_label(ui, &format!("{what} finished."));
        }
    }
}

fn controls_ui(ui: &mut Ui, run: &RunState, actions: &mut Vec<UploadAction>) {
    ui.horizontal(|ui| {
        if run.is_active() {
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
        } else {
            let reason = run
                .rows
                .is_none()
                .then_some("The results are still loading");
            if widgets::primary_button(ui, "See results", reason) {
                actions.push(UploadAction::ShowResults);
            }
        }
    });
}
