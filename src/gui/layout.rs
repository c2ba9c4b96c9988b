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
use super::results::results_ui;
use super::run::RunModal;
use super::run_modals::{confirm_undo_ui, new_token_ui, resume_ui};
use super::state::Step;
use super::state::{Document, RowCounts};
use super::tasks::TaskKind;
use super::upload::{UploadView, upload_ui};
use super::welcome::welcome_ui;
use super::widgets;

/// Colour of the badge that warns the user they are sending to production.
const PRODUCTION_COLOR: Color32 = Color32::from_rgb(0xc0, 0x39, 0x2b);

impl ImporterApp {
    /// Draws the whole window for this frame.
    pub(crate) fn layout_ui(&mut self, ui: &mut Ui) {
        egui::Panel::top("menu_bar").show(ui, |ui| self.menu_bar_ui(ui));
        egui::Panel::top("step_header").show(ui, |ui| self.step_header_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| self.screen_ui(ui));
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

    /// Draws "Connect → Open → Map → Preview → Upload → Results"; a step
    /// that cannot be reached yet is greyed out with the reason on hover.
    fn step_header_ui(&mut self, ui: &mut Ui) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            for (position, step) in Step::ALL.into_iter().enumerate() {
                if position > 0 {
                    arrow_ui(ui);
                }
                let text = RichText::new(format!("{}. {}", position + 1, step.label()));
                let text = if step == self.step {
                    text.strong().underline()
                } else {
                    text
                };
                let reason = self.unreachable_reason(step);
                let button = egui::Button::new(text).frame(step == self.step);
                let response = ui.add_enabled(reason.is_none(), button);
                if let Some(reason) = reason {
                    response.on_disabled_hover_text(reason);
                } else if response.clicked() && step != self.step {
                    self.pending.push(Action::GoTo(step));
                }
            }
        });
        ui.add_space(4.0);
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
                if notice.is_error {
                    widgets::error_label(ui, &notice.message);
                } else {
                    ui.label(&notice.message);
                }
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
        let actions = open_ui(ui, &self.open, &view);
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
        let counts = match &self.document {
            Some(Document {
                rows: Some(rows),
                excluded,
                ..
            }) => RowCounts::of(rows, excluded),
            _ => RowCounts::default(),
        };
        let destination = self.connect.connection().map(|connection| {
            format!(
                "{}, location {}",
                connection.environment.label(),
                connection.location_id
            )
        });
        let view = UploadView {
            destination,
            counts,
            run: self.run.as_ref(),
        };
        let actions = upload_ui(
            ui,
            &mut self.upload_form,
            &mut self.settings.batch_tag,
            &view,
        );
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
        }
    }
}

/// Paints a small right arrow between two steps; drawn rather than typed
/// because the default fonts have no arrow glyph.
fn arrow_ui(ui: &mut Ui) {
    let size = egui::vec2(16.0, ui.spacing().interact_size.y);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let stroke = egui::Stroke::new(1.5, ui.visuals().weak_text_color());
    let start = rect.left_center() + egui::vec2(2.0, 0.0);
    ui.painter()
        .arrow(start, egui::vec2(rect.width() - 4.0, 0.0), stroke);
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
