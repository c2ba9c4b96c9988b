//! The first-run welcome: what the app does, that the sandbox is safe to
//! practise on, and how to switch to a real account.

use egui::{Context, Id, Modal};

use super::widgets;

/// Draws the welcome modal; returns `true` when the user dismissed it.
pub(crate) fn welcome_ui(ctx: &Context) -> bool {
    let response = Modal::new(Id::unique("welcome")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading(format!("Welcome to {}", super::PRODUCT_NAME));
        ui.add_space(8.0);
        ui.label(
            "This app moves your customer list from a spreadsheet into Vendasta's Business \
             App. It reads the file, lets you choose which column goes where, shows every row \
             before anything is sent, then uploads the customers and tells you what happened \
             to each one.",
        );
        ui.add_space(8.0);
        ui.label(
            "You start on the sandbox: a practice server built into the app. Nothing you do \
             there leaves this computer, so try a whole import as often as you like.",
        );
        ui.add_space(8.0);
        ui.label(
            "When you are ready for the real thing, go to Connect, choose Production, paste \
             your API token and enter your business location id.",
        );
        ui.add_space(widgets::SECTION_SPACING);
        ui.vertical_centered(|ui| widgets::primary_button(ui, "Get started", None))
            .inner
    });
    response.inner || response.should_close()
}
