//! Small widgets the screens share: buttons that show why they are
//! disabled, coloured messages, and the spacing constants of the layout.

use egui::{Color32, RichText, Ui};

/// Vertical space between the sections of a screen, in points.
pub(crate) const SECTION_SPACING: f32 = 14.0;

/// Colour of text that reports success.
pub(crate) const SUCCESS_COLOR: Color32 = Color32::from_rgb(0x2e, 0x8b, 0x57);

/// Adds a button that is enabled when `disabled_reason` is `None`, and
/// otherwise greyed out with the reason shown on hover. Returns whether it
/// was clicked.
pub(crate) fn button(ui: &mut Ui, label: &str, disabled_reason: Option<&str>) -> bool {
    let response = ui.add_enabled(disabled_reason.is_none(), egui::Button::new(label));
    match disabled_reason {
        Some(reason) => {
            response.on_disabled_hover_text(reason);
            false
        }
        None => response.clicked(),
    }
}

/// Adds a prominent button for the main action of a screen, with the same
/// disabled behaviour as [`button`].
pub(crate) fn primary_button(ui: &mut Ui, label: &str, disabled_reason: Option<&str>) -> bool {
    let text = RichText::new(label).strong();
    let button = egui::Button::new(text).min_size(egui::vec2(120.0, 28.0));
    let response = ui.add_enabled(disabled_reason.is_none(), button);
    match disabled_reason {
        Some(reason) => {
            response.on_disabled_hover_text(reason);
            false
        }
        None => response.clicked(),
    }
}

/// Shows a message in the error colour, wrapped to the available width.
pub(crate) fn error_label(ui: &mut Ui, message: &str) {
    let color = ui.visuals().error_fg_color;
    ui.add(egui::Label::new(RichText::new(message).color(color)).wrap());
}

/// Shows a message in the warning colour, wrapped to the available width.
pub(crate) fn warning_label(ui: &mut Ui, message: &str) {
    let color = ui.visuals().warn_fg_color;
    ui.add(egui::Label::new(RichText::new(message).color(color)).wrap());
}

/// Shows a message in the success colour, wrapped to the available width.
pub(crate) fn success_label(ui: &mut Ui, message: &str) {
    ui.add(egui::Label::new(RichText::new(message).color(SUCCESS_COLOR)).wrap());
}

/// Shows a short explanation in the weak text colour.
pub(crate) fn hint_label(ui: &mut Ui, message: &str) {
    ui.add(egui::Label::new(RichText::new(message).weak()).wrap());
}

/// Shows the title of a screen and one line saying what it is for.
pub(crate) fn screen_title(ui: &mut Ui, title: &str, purpose: &str) {
    ui.heading(title);
    hint_label(ui, purpose);
    ui.add_space(SECTION_SPACING);
}
