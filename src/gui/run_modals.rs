//! Modals about runs: unfinished runs offered for resuming at start, the
//! prompt for a new token when the server refuses one mid-run, and the
//! confirmation of undo.

use egui::{Context, Id, Modal, Ui};

use crate::upload::{RunSummary, UndoPlan};

use super::widgets;

/// The user's choice in a run modal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RunModalChoice {
    Resume(String),
    /// Stop offering the unfinished run with this id.
    Discard(String),
    /// Show the results of a past run.
    ShowResults(Box<RunSummary>),
    /// Continue the paused session with the token typed into the prompt.
    UseNewToken,
    ConfirmUndo,
    Close,
}

/// Lists unfinished runs with a Resume button each. `resume_blocked`
/// returns why a run cannot be resumed now, if it cannot.
pub(crate) fn resume_ui(
    ctx: &Context,
    runs: &[RunSummary],
    resume_blocked: &dyn Fn(&RunSummary) -> Option<String>,
) -> Option<RunModalChoice> {
    let response = Modal::new(Id::unique("resume_runs")).show(ctx, |ui| {
        ui.set_max_width(620.0);
        ui.heading("Unfinished imports");
        ui.label(
            "These imports stopped before every row was sent. Resuming sends the rest; rows \
             already sent are not sent twice.",
        );
        ui.add_space(8.0);
        let mut choice = None;
        for run in runs {
            if let Some(picked) = run_entry_ui(ui, run, resume_blocked(run)) {
                choice = Some(picked);
            }
        }
        ui.add_space(widgets::SECTION_SPACING);
        if ui.button("Later").clicked() {
            choice = Some(RunModalChoice::Close);
        }
        choice
    });
    if response.should_close() {
        return Some(RunModalChoice::Close);
    }
    response.inner
}

fn run_entry_ui(ui: &mut Ui, run: &RunSummary, blocked: Option<String>) -> Option<RunModalChoice> {
    let info = &run.info;
    let file = info.file_path.file_name().map_or_else(
        || info.file_path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut choice = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.strong(&file);
        ui.label(format!(
            "Started {} · {} to {} · {} of {} left",
            info.started_at
                .to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M"),
            info.environment.label(),
            info.location,
            widgets::count(run.counts.unfinished()),
            widgets::counted(run.counts.total(), "row", "rows")
        ));
        ui.horizontal(|ui| {
            if widgets::button(ui, "Resume", blocked.as_deref()) {
                choice = Some(RunModalChoice::Resume(info.id.clone()));
            }
            let discard = ui.button("Discard").on_hover_text(
                "Stop offering this import. The customers it already sent stay in Business App.",
            );
            if discard.clicked() {
                choice = Some(RunModalChoice::Discard(info.id.clone()));
            }
        });
    });
    choice
}

/// Lists the latest runs with a button to see the results of each.
/// `busy` is true while a session runs, which blocks switching runs.
pub(crate) fn past_runs_ui(
    ctx: &Context,
    runs: &[RunSummary],
    busy: bool,
) -> Option<RunModalChoice> {
    let response = Modal::new(Id::unique("past_runs")).show(ctx, |ui| {
        ui.set_max_width(620.0);
        ui.heading("Past imports");
        ui.label(
            "The latest imports on this computer. Open one to see its results, resolve its \
             conflicts, save its reports or undo it.",
        );
        ui.add_space(8.0);
        let mut choice = None;
        egui::ScrollArea::vertical()
            .max_height(420.0)
            .show(ui, |ui| {
                for run in runs {
                    if let Some(picked) = past_run_ui(ui, run, busy) {
                        choice = Some(picked);
                    }
                }
            });
        ui.add_space(widgets::SECTION_SPACING);
        if ui.button("Close").clicked() {
            choice = Some(RunModalChoice::Close);
        }
        choice
    });
    if response.should_close() {
        return Some(RunModalChoice::Close);
    }
    response.inner
}

fn past_run_ui(ui: &mut Ui, run: &RunSummary, busy: bool) -> Option<RunModalChoice> {
    let info = &run.info;
    let counts = &run.counts;
    let mut choice = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.strong(file_name(&info.file_path));
        ui.label(format!(
            "Started {} · {} to {}",
            local_time(info.started_at),
            info.environment.label(),
            info.location,
        ));
        ui.label(format!(
            "{} created · {} · {} merged · {} failed · {} skipped",
            widgets::count(counts.created),
            widgets::counted(counts.conflict, "conflict", "conflicts"),
            widgets::count(counts.merged),
            widgets::count(counts.failed),
            widgets::count(counts.skipped),
        ));
        let blocked = busy.then_some("Wait until the running session ends");
        if widgets::button(ui, "Show results", blocked) {
            choice = Some(RunModalChoice::ShowResults(Box::new(run.clone())));
        }
    });
    choice
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

fn local_time(time: jiff::Timestamp) -> String {
    time.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Asks for a new token after the server refused the current one.
pub(crate) fn new_token_ui(
    ctx: &Context,
    message: &str,
    input: &mut String,
) -> Option<RunModalChoice> {
    let response = Modal::new(Id::unique("new_token")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading("A new token is needed");
        widgets::warning_label(ui, message);
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.label("New token");
            ui.add(
                egui::TextEdit::singleline(input)
                    .password(true)
                    .hint_text("Paste the new API token")
                    .desired_width(320.0),
            );
        });
        ui.add_space(widgets::SECTION_SPACING);
        ui.horizontal(|ui| {
            let reason = input.trim().is_empty().then_some("Paste a token first");
            if widgets::primary_button(ui, "Continue the upload", reason) {
                return Some(RunModalChoice::UseNewToken);
            }
            ui.button("Not now")
                .on_hover_text("The upload stays paused; cancel it to resume later")
                .clicked()
                .then_some(RunModalChoice::Close)
        })
        .inner
    });
    response.inner
}

/// Asks the user to confirm undoing an import, saying what would change.
pub(crate) fn confirm_undo_ui(ctx: &Context, plan: &UndoPlan) -> Option<RunModalChoice> {
    let response = Modal::new(Id::unique("confirm_undo")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading("Undo this import?");
        ui.label(format!(
            "{} created by this import will be deleted, and {} that were merged will get \
             their previous values back.",
            widgets::counted(plan.deletes, "customer", "customers"),
            widgets::counted(plan.restores, "existing customer", "existing customers"),
        ));
        ui.add_space(widgets::SECTION_SPACING);
        ui.horizontal(|ui| {
            let label = format!("Delete {} and restore {}", plan.deletes, plan.restores);
            if widgets::primary_button(ui, &label, None) {
                return Some(RunModalChoice::ConfirmUndo);
            }
            ui.button("Keep the import")
                .clicked()
                .then_some(RunModalChoice::Close)
        })
        .inner
    });
    if response.should_close() {
        return Some(RunModalChoice::Close);
    }
    response.inner
}
