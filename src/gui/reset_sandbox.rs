//! The confirmation before resetting the built-in sandbox, which deletes
//! every customer it holds.

use egui::{Context, Id, Modal};

use super::widgets;

/// Draws the confirmation; returns `Some(true)` to reset, `Some(false)` to
/// keep the customers, and `None` while the user decides.
pub(crate) fn confirm_reset_sandbox_ui(ctx: &Context) -> Option<bool> {
    let response = Modal::new(Id::unique("confirm_reset_sandbox")).show(ctx, |ui| {
        ui.set_max_width(480.0);
        ui.heading("Reset the sandbox?");
        ui.add_space(8.0);
        ui.label(
            "Every customer in the sandbox will be deleted, so you can practise an import again \
             from the start. Nothing outside the sandbox changes: your spreadsheet and your real \
             Business App stay as they are.",
        );
        ui.add_space(widgets::SECTION_SPACING);
        ui.horizontal(|ui| {
            if widgets::primary_button(ui, "Delete the sandbox customers", None) {
                return Some(true);
            }
            ui.button("Keep them").clicked().then_some(false)
        })
        .inner
    });
    if response.should_close() {
        return Some(false);
    }
    response.inner
}
