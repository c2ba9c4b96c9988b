//! The "About" modal: the app's version and the commit it was built from.

use egui::{Context, Id, Modal};

/// Draws the about modal; returns `true` when the user closed it.
pub(crate) fn about_ui(ctx: &Context) -> bool {
    let response = Modal::new(Id::unique("about")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading(super::PRODUCT_NAME);
        ui.label(format!("Version {}", crate::VERSION));
        ui.add_space(6.0);
        ui.label("Moves a small business's customer list from a spreadsheet into Vendasta's Business App.");
        ui.add_space(10.0);
        ui.vertical_centered(|ui| ui.button("Close").clicked()).inner
    });
    response.inner || response.should_close()
}
