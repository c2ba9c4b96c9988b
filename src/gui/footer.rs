//! The main action of each step, which the footer bar draws at the bottom
//! right of the window, where the eye ends after reading the screen.

use super::actions::Action;
use super::app::ImporterApp;
use super::connect::{self, ConnectAction};
use super::mapping::{self, MapAction};
use super::open::OpenAction;
use super::preview::{self, PreviewAction};
use super::results::ResultsAction;
use super::state::Step;
use super::tasks::TaskKind;
use super::upload;
use super::widgets;

/// The main action of the step on screen.
pub(crate) struct MainAction {
    pub label: String,
    /// Reason the action is not available yet, shown beside the greyed-out
    /// button.
    pub blocked: Option<String>,
    pub action: Action,
}

impl MainAction {
    fn new(label: impl Into<String>, blocked: Option<&str>, action: Action) -> Self {
        Self {
            label: label.into(),
            blocked: blocked.map(str::to_owned),
            action,
        }
    }
}

impl ImporterApp {
    /// Returns the main action of the current step, or `None` when the
    /// step has none (an upload being sent).
    pub(crate) fn main_action(&mut self) -> Option<MainAction> {
        match self.step {
            Step::Connect => Some(MainAction::new(
                "Continue",
                connect::continue_blocked(&self.connect),
                Action::Connect(ConnectAction::Continue),
            )),
            Step::Open => Some(self.open_main_action()),
            Step::Map => {
                let blocked = self
                    .document
                    .as_ref()
                    .map_or(Some("Open a spreadsheet first"), |document| {
                        mapping::incomplete_reason(&document.mapping)
                    });
                Some(MainAction::new(
                    "Continue to preview",
                    blocked,
                    Action::Map(MapAction::Continue),
                ))
            }
            Step::Preview => self.preview_main_action(),
            Step::Upload => self.upload_main_action(),
            Step::Results => {
                let busy = self.run.as_ref().is_some_and(|run| run.is_active());
                Some(MainAction::new(
                    "Import another file",
                    busy.then_some("Wait until the running session ends"),
                    Action::Results(ResultsAction::NewImport),
                ))
            }
        }
    }

    fn open_main_action(&self) -> MainAction {
        let blocked = if self.tasks.is_running(TaskKind::Read) {
            Some("The file is still being read")
        } else {
            match &self.document {
                None => Some("Open a spreadsheet first"),
                Some(document) if document.table.records.is_empty() => {
                    Some("The file has no customer rows below the header")
                }
                Some(_) => None,
            }
        };
        MainAction::new("Continue", blocked, Action::Open(OpenAction::Continue))
    }

    fn preview_main_action(&mut self) -> Option<MainAction> {
        let document = self.document.as_ref()?;
        let checking = self.tasks.is_running(TaskKind::Check);
        let counts = self.preview.counts_for(document)?;
        let blocked = preview::continue_blocked(&counts, checking);
        Some(MainAction::new(
            format!(
                "Continue with {}",
                widgets::counted(counts.ready, "ready row", "ready rows")
            ),
            blocked,
            Action::Preview(PreviewAction::Continue),
        ))
    }

    fn upload_main_action(&mut self) -> Option<MainAction> {
        let view = self.upload_view();
        let (label, blocked, action) =
            upload::main_action(&self.upload_form, self.settings.batch_tag, &view)?;
        Some(MainAction {
            label,
            blocked,
            action: Action::Upload(action),
        })
    }
}
