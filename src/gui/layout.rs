//! The top-level layout: menu bar, step header, status bar, the screen of
//! the current step, and the modal on top. Screens return intents, which
//! this module queues as [`Action`]s.

use egui::{Color32, RichText, Ui};

use crate::environment::Environment;

use super::about::about_ui;
use super::actions::Action;
use super::app::{ImporterApp, Modal};
use super::connect::connect_ui;
use super::fix_row::fix_row_ui;
use super::mapping::{MappingEdit, mapping_ui};
use super::open::{OpenView, open_ui};
use super::preview::preview_ui;
use super::reset_sandbox::confirm_reset_sandbox_ui;
use super::results::results_ui;
use super::run::{RunModal, RunState};
use super::run_modals::{confirm_undo_ui, new_token_ui, past_runs_ui, resume_ui};
use super::state::Step;
use super::tasks::TaskKind;
use super::theme;
use super::upload::upload_ui;
use super::welcome::welcome_ui;
use super::widgets;

/// Colour of the badge that warns the user they are sending to production.
const PRODUCTION_COLOR: Color32 = Color32::from_rgb(0xc0, 0x39, 0x2b);

impl ImporterApp {
    /// Draws the whole window for this frame.
    pub(crate) fn layout_ui(&mut self, ui: &mut Ui) {
        egui::Panel::top("menu_bar").show(ui, |ui| self.menu_bar_ui(ui));
        egui::Panel::top("step_header")
            .frame(header_frame(ui))
            .show(ui, |ui| self.step_header_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::bottom("step_footer")
            .frame(footer_frame(ui))
            .show(ui, |ui| self.footer_ui(ui));
        egui::CentralPanel::default()
            .frame(
                egui::Frame::central_panel(ui.style()).inner_margin(egui::Margin::symmetric(16, 8)),
            )
            .show(ui, |ui| self.screen_ui(ui));
        self.modal_ui(ui.ctx());
    }

    fn menu_bar_ui(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open file…").clicked() {
                    self.pending.push(Action::GoTo(Step::Open));
                    self.pending
                        .push(Action::Open(super::open::OpenAction::ChooseFile));
                }
                if ui.button("Unfinished imports…").clicked() {
                    self.pending.push(Action::ShowUnfinishedRuns);
                }
                if ui.button("Past imports…").clicked() {
                    self.pending.push(Action::ShowPastRuns);
                }
                if ui.button("Open log folder").clicked() {
                    self.pending.push(Action::OpenLogFolder);
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    self.pending.push(Action::Quit);
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("About").clicked() {
                    self.pending.push(Action::ShowAbout);
                }
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                environment_badge_ui(ui, &self.settings.environment);
            });
        });
    }

    /// Draws the numbered steps "1 Connect > 2 Open > … > 6 Results": the
    /// current one filled, the ones that cannot be reached yet greyed out
    /// with the reason on hover, and the next blocked step's reason spelled
    /// out after them.
    fn step_header_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 4.0;
            for (position, step) in Step::ALL.into_iter().enumerate() {
                if position > 0 {
                    arrow_ui(ui);
                }
                let reason = self.unreachable_reason(step);
                let clicked = step_pill_ui(ui, position + 1, step, self.step, reason);
                if clicked && step != self.step {
                    self.pending.push(Action::GoTo(step));
                }
            }
        });
    }

    /// Returns why a step cannot be shown yet, or `None` when it can.
    fn unreachable_reason(&self, step: Step) -> Option<&'static str> {
        let has_rows = self
            .document
            .as_ref()
            .is_some_and(|document| !document.table.records.is_empty());
        match step {
            Step::Connect | Step::Open => None,
            Step::Map | Step::Preview if !has_rows => Some("Open a spreadsheet first"),
            Step::Map | Step::Preview => None,
            Step::Upload if self.run.is_some() => None,
            Step::Upload => {
                let ready = self
                    .document
                    .as_ref()
                    .map_or(0, |document| document.ready_count());
                (ready == 0).then_some("Check the rows in the preview first")
            }
            Step::Results => {
                let has_run = self.run.as_ref().is_some_and(|run| run.run_id.is_some());
                (!has_run).then_some("Upload the customers first")
            }
        }
    }

    /// Draws the bottom bar of the step: "Back" on the left, the step's
    /// main action on the right, and why that action is not available yet
    /// beside it.
    fn footer_ui(&mut self, ui: &mut Ui) {
        let back = self.back_step();
        let main = self.main_action();
        ui.horizontal(|ui| {
            if let Some(step) = back
                && ui
                    .button("Back")
                    .on_hover_text(format!("Go back to {}", step.label()))
                    .clicked()
            {
                self.pending.push(Action::GoTo(step));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let Some(main) = main else {
                    return;
                };
                if widgets::primary_button(ui, &main.label, main.blocked.as_deref()) {
                    self.pending.push(main.action);
                }
                if let Some(reason) = &main.blocked {
                    ui.add(
                        egui::Label::new(
                            RichText::new(reason).color(ui.visuals().weak_text_color()),
                        )
                        .truncate(),
                    );
                }
            });
        });
    }

    /// Returns the step the "Back" button leads to, if any.
    fn back_step(&self) -> Option<Step> {
        match self.step {
            Step::Connect | Step::Results => None,
            Step::Open => Some(Step::Connect),
            Step::Map => Some(Step::Open),
            Step::Preview => Some(Step::Map),
            Step::Upload if self.run.is_some() => None,
            Step::Upload => Some(Step::Preview),
        }
    }

    fn status_bar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let mut cancel = None;
            for (kind, task) in self.tasks.iter() {
                ui.spinner();
                ui.label(&task.label);
                if let Some(fraction) = task
                    .progress
                    .as_ref()
                    .and_then(|progress| progress.fraction())
                {
                    ui.add(egui::ProgressBar::new(fraction).desired_width(120.0));
                }
                if task.progress.is_some() && ui.small_button("Cancel").clicked() {
                    cancel = Some(kind);
                }
                ui.separator();
            }
            if let Some(kind) = cancel {
                self.cancel_task(kind);
            }
            if let Some(notice) = &self.notice {
                let color = if notice.is_error {
                    theme::ERROR_TEXT
                } else {
                    ui.visuals().text_color()
                };
                ui.add(egui::Label::new(RichText::new(&notice.message).color(color)).wrap());
                if ui.small_button("Dismiss").clicked() {
                    self.notice = None;
                }
            }
        });
    }

    fn cancel_task(&mut self, kind: TaskKind) {
        match kind {
            TaskKind::Read => self
                .pending
                .push(Action::Open(super::open::OpenAction::CancelRead)),
            TaskKind::Check => self
                .pending
                .push(Action::Preview(super::preview::PreviewAction::CancelCheck)),
            other => self.tasks.cancel(other),
        }
    }

    fn screen_ui(&mut self, ui: &mut Ui) {
        match self.step {
            Step::Connect => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.set_max_width(widgets::FORM_WIDTH);
                    let actions = connect_ui(ui, &mut self.connect);
                    self.pending
                        .extend(actions.into_iter().map(Action::Connect));
                });
            }
            Step::Open => self.open_screen_ui(ui),
            Step::Map => self.mapping_screen_ui(ui),
            Step::Preview => self.preview_screen_ui(ui),
            Step::Upload => self.upload_screen_ui(ui),
            Step::Results => self.results_screen_ui(ui),
        }
    }

    fn open_screen_ui(&mut self, ui: &mut Ui) {
        let view = OpenView {
            reading: self.tasks.get(TaskKind::Read),
            dialog_open: self.tasks.is_running(TaskKind::Dialog),
            table: self
                .document
                .as_ref()
                .map(|document| document.table.as_ref()),
        };
        let actions = egui::ScrollArea::vertical()
            .show(ui, |ui| {
                ui.set_max_width(widgets::FORM_WIDTH);
                open_ui(ui, &self.open, &view)
            })
            .inner;
        self.pending.extend(actions.into_iter().map(Action::Open));
    }

    fn mapping_screen_ui(&mut self, ui: &mut Ui) {
        let Some(document) = &mut self.document else {
            self.step = Step::Open;
            return;
        };
        let edit = MappingEdit {
            table: &document.table,
            samples: &document.samples,
            mapping: &mut document.mapping,
            default_country: &mut self.settings.default_country,
            presets_unavailable: self
                .paths
                .is_none()
                .then_some("This computer has no home folder to keep presets in"),
            presets_busy: self.tasks.is_running(TaskKind::Presets),
        };
        let actions = mapping_ui(ui, &mut self.mapping, edit);
        self.pending.extend(actions.into_iter().map(Action::Map));
    }

    fn preview_screen_ui(&mut self, ui: &mut Ui) {
        let Some(document) = &self.document else {
            self.step = Step::Open;
            return;
        };
        let checking = self.tasks.get(TaskKind::Check);
        let actions = preview_ui(ui, &mut self.preview, document, checking);
        self.pending
            .extend(actions.into_iter().map(Action::Preview));
    }

    fn upload_screen_ui(&mut self, ui: &mut Ui) {
        // The form is taken out for the frame because the view borrows the
        // rest of the app.
        let mut form = std::mem::take(&mut self.upload_form);
        let mut batch_tag_on = self.settings.batch_tag;
        let view = self.upload_view();
        let actions = egui::ScrollArea::vertical()
            .show(ui, |ui| {
                ui.set_max_width(widgets::FORM_WIDTH);
                upload_ui(ui, &mut form, &mut batch_tag_on, &view)
            })
            .inner;
        self.upload_form = form;
        self.settings.batch_tag = batch_tag_on;
        self.pending.extend(actions.into_iter().map(Action::Upload));
    }

    fn results_screen_ui(&mut self, ui: &mut Ui) {
        let Some(run) = &self.run else {
            self.step = Step::Upload;
            return;
        };
        let actions = results_ui(ui, &mut self.results, run, self.rows_revision);
        self.pending
            .extend(actions.into_iter().map(Action::Results));
    }

    fn run_modal_ui(&mut self, ctx: &egui::Context) {
        let Some(Modal::Run(modal)) = &mut self.modal else {
            return;
        };
        let choice = match modal {
            RunModal::Resume(runs) => {
                let runs = runs.clone();
                resume_ui(ctx, &runs, &|run| self.resume_blocked(run))
            }
            RunModal::Past(runs) => {
                let busy = self.run.as_ref().is_some_and(RunState::is_active);
                past_runs_ui(ctx, runs, busy)
            }
            RunModal::NewToken { message, input } => new_token_ui(ctx, message, input),
            RunModal::ConfirmUndo(plan) => confirm_undo_ui(ctx, plan),
        };
        if let Some(choice) = choice {
            self.pending.push(Action::RunModal(choice));
        }
    }

    fn modal_ui(&mut self, ctx: &egui::Context) {
        let Some(modal) = &mut self.modal else {
            return;
        };
        match modal {
            Modal::Welcome => {
                if welcome_ui(ctx) {
                    self.pending.push(Action::DismissWelcome);
                }
            }
            Modal::About => {
                if about_ui(ctx) {
                    self.pending.push(Action::CloseModal);
                }
            }
            Modal::FixRow(state) => {
                if let Some(choice) = fix_row_ui(ctx, state) {
                    self.pending.push(Action::FixRow(choice));
                }
            }
            Modal::Run(_) => self.run_modal_ui(ctx),
            Modal::ConfirmResetSandbox => match confirm_reset_sandbox_ui(ctx) {
                Some(true) => self.pending.push(Action::ResetSandbox),
                Some(false) => self.pending.push(Action::CloseModal),
                None => {}
            },
        }
    }
}

/// Returns the frame of the step header: the panel colour with room
/// around the steps.
fn header_frame(ui: &Ui) -> egui::Frame {
    egui::Frame::side_top_panel(ui.style()).inner_margin(egui::Margin::symmetric(12, 8))
}

/// Returns the frame of the footer with the step's main action.
fn footer_frame(ui: &Ui) -> egui::Frame {
    egui::Frame::side_top_panel(ui.style())
        .fill(ui.visuals().extreme_bg_color)
        .inner_margin(egui::Margin::symmetric(16, 10))
}

/// Draws one step of the header as a numbered pill; returns whether it
/// was clicked. `blocked` is why the step cannot be reached yet.
fn step_pill_ui(
    ui: &mut Ui,
    number: usize,
    step: Step,
    current: Step,
    blocked: Option<&str>,
) -> bool {
    let text = format!("{number}. {}", step.label());
    let is_current = step == current;
    let button = if is_current {
        egui::Button::new(RichText::new(text).strong().color(theme::ON_ACCENT))
            .fill(theme::ACCENT)
            .corner_radius(12)
    } else {
        egui::Button::new(text).frame(false)
    };
    let response = ui.add_enabled(blocked.is_none(), button);
    match blocked {
        Some(reason) => {
            response.on_disabled_hover_text(reason);
            false
        }
        None if is_current => false,
        None => response
            .on_hover_text(format!("Go to {}", step.label()))
            .clicked(),
    }
}

/// Paints a small chevron between two steps; drawn rather than typed
/// because the default fonts have no arrow glyph.
fn arrow_ui(ui: &mut Ui) {
    let size = egui::vec2(14.0, ui.spacing().interact_size.y);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let stroke = egui::Stroke::new(1.5, ui.visuals().weak_text_color());
    let center = rect.center();
    let points = vec![
        center + egui::vec2(-3.0, -5.0),
        center + egui::vec2(3.0, 0.0),
        center + egui::vec2(-3.0, 5.0),
    ];
    ui.painter().add(egui::Shape::line(points, stroke));
}

/// Shows where customers go, in red for production.
fn environment_badge_ui(ui: &mut Ui, environment: &Environment) {
    let text = format!("Sending to: {}", environment.label());
    match environment {
        Environment::Production => {
            ui.label(RichText::new(text).strong().color(PRODUCTION_COLOR));
        }
        _ => {
            ui.label(RichText::new(text).weak());
        }
    }
}
