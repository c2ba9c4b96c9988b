//! Small widgets the screens share: buttons that show why they are
//! disabled, message boxes, section titles, labels for long values, count
//! formatting, and the spacing constants of the layout.

use egui::{Color32, RichText, TextStyle, Ui};

use super::theme;

/// Vertical space between the sections of a screen, in points.
pub(crate) const SECTION_SPACING: f32 = 16.0;

/// Colour of text that reports success.
pub(crate) const SUCCESS_COLOR: Color32 = theme::SUCCESS_TEXT;

/// Width of the form screens' content, in points, so lines stay short
/// enough to read on a wide window.
pub(crate) const FORM_WIDTH: f32 = 760.0;

/// The feeling a message box conveys, which sets its colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Error,
    Warning,
    Success,
}

impl Tone {
    fn colors(self) -> (Color32, Color32) {
        match self {
            Tone::Error => (theme::ERROR_TEXT, theme::ERROR_FILL),
            Tone::Warning => (theme::WARNING_TEXT, theme::WARNING_FILL),
            Tone::Success => (theme::SUCCESS_TEXT, theme::SUCCESS_FILL),
        }
    }
}

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

/// Adds a filled button for the main action of a screen, with the same
/// disabled behaviour as [`button`].
pub(crate) fn primary_button(ui: &mut Ui, label: &str, disabled_reason: Option<&str>) -> bool {
    let text = RichText::new(label).strong().color(theme::ON_ACCENT);
    let button = egui::Button::new(text)
        .fill(theme::ACCENT)
        .min_size(egui::vec2(120.0, 32.0));
    let response = ui.add_enabled(disabled_reason.is_none(), button);
    match disabled_reason {
        Some(reason) => {
            response.on_disabled_hover_text(reason);
            false
        }
        None => response.clicked(),
    }
}

/// Shows a message in a box tinted by its tone, wrapped to the available
/// width; the tinted box keeps coloured text readable.
pub(crate) fn message_box(ui: &mut Ui, tone: Tone, message: &str) {
    let (text, fill) = tone.colors();
    egui::Frame::new()
        .fill(fill)
        .stroke(egui::Stroke::new(1.0, text.gamma_multiply(0.35)))
        .corner_radius(6)
        .inner_margin(egui::Margin::symmetric(10, 6))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(egui::Label::new(RichText::new(message).color(text)).wrap());
        });
}

/// Shows an error in a red box.
pub(crate) fn error_label(ui: &mut Ui, message: &str) {
    message_box(ui, Tone::Error, message);
}

/// Shows a warning in an amber box.
pub(crate) fn warning_label(ui: &mut Ui, message: &str) {
    message_box(ui, Tone::Warning, message);
}

/// Shows a message in the success colour, wrapped to the available width.
pub(crate) fn success_label(ui: &mut Ui, message: &str) {
    ui.add(egui::Label::new(RichText::new(message).color(SUCCESS_COLOR)).wrap());
}

/// Shows a short explanation in the weak text colour.
pub(crate) fn hint_label(ui: &mut Ui, message: &str) {
    ui.add(egui::Label::new(RichText::new(message).weak()).wrap());
}

/// Shows a value that may be long (a file path, an id) on one line, cut
/// with "…" when it does not fit. Hovering shows it whole.
pub(crate) fn truncated_label(ui: &mut Ui, text: impl Into<egui::WidgetText>) -> egui::Response {
    ui.add(egui::Label::new(text).truncate())
}

/// Shows a spinner and what is being waited for.
pub(crate) fn busy_label(ui: &mut Ui, message: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(message);
    });
}

/// Shows the title of a screen and one line saying what it is for.
pub(crate) fn screen_title(ui: &mut Ui, title: &str, purpose: &str) {
    ui.add_space(4.0);
    ui.heading(RichText::new(title).strong());
    ui.add(egui::Label::new(RichText::new(purpose).color(ui.visuals().weak_text_color())).wrap());
    ui.add_space(SECTION_SPACING);
}

/// Shows the title of a section within a screen.
pub(crate) fn section_title(ui: &mut Ui, title: &str) {
    ui.label(
        RichText::new(title)
            .text_style(TextStyle::Name(theme::SECTION_STYLE.into()))
            .strong(),
    );
}

/// Draws a titled section in a light frame, so each screen's controls sit
/// in visible groups with the same spacing.
pub(crate) fn section<R>(ui: &mut Ui, title: &str, content: impl FnOnce(&mut Ui) -> R) -> R {
    let inner = egui::Frame::group(ui.style())
        .fill(ui.visuals().extreme_bg_color)
        .corner_radius(8)
        .inner_margin(egui::Margin::same(12))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            section_title(ui, title);
            ui.add_space(4.0);
            content(ui)
        })
        .inner;
    ui.add_space(SECTION_SPACING / 2.0);
    inner
}

/// An unsigned count of any integer type, for [`count`] and [`counted`].
pub(crate) trait Count {
    fn to_u64(self) -> u64;
}

impl Count for u64 {
    fn to_u64(self) -> u64 {
        self
    }
}

impl Count for u32 {
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

impl Count for usize {
    fn to_u64(self) -> u64 {
        self as u64
    }
}

/// Formats a count with thousands separators, such as "12,345".
pub(crate) fn count(value: impl Count) -> String {
    let digits = value.to_u64().to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Formats a count with its noun, singular for one: "1 row", "12,345 rows".
pub(crate) fn counted(value: impl Count, singular: &str, plural: &str) -> String {
    let value = value.to_u64();
    let noun = if value == 1 { singular } else { plural };
    format!("{} {noun}", count(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_groups_thousands() {
        assert_eq!(count(0u64), "0");
        assert_eq!(count(999u64), "999");
        assert_eq!(count(1000u64), "1,000");
        assert_eq!(count(12345u64), "12,345");
        assert_eq!(count(100000u64), "100,000");
        assert_eq!(count(1234567u64), "1,234,567");
    }

    #[test]
    fn counted_picks_singular() {
        assert_eq!(counted(1u64, "row", "rows"), "1 row");
        assert_eq!(counted(2000u64, "row", "rows"), "2,000 rows");
    }
}
