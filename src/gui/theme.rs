//! The look of the app: egui's light theme with larger text, roomier
//! spacing and darker status colours.
//!
//! The light theme was chosen over egui's default dark one because the
//! screens are mostly tables of customer data, which shop owners know from
//! light spreadsheets, and because coloured status text (errors, warnings)
//! keeps more contrast on a light background. The app uses the light theme
//! whatever the desktop's setting, so screenshots match what users see.

use egui::{Color32, FontFamily, FontId, Stroke, TextStyle, Theme};

/// Text style of the title of a section within a screen.
pub(crate) const SECTION_STYLE: &str = "section";

/// Colour of error text: a dark red that keeps its contrast on the light
/// panels and on [`ERROR_FILL`].
pub(crate) const ERROR_TEXT: Color32 = Color32::from_rgb(0xa8, 0x1c, 0x14);
/// Colour of warning text: a dark amber, since yellow and orange are
/// hard to read on white.
pub(crate) const WARNING_TEXT: Color32 = Color32::from_rgb(0x8a, 0x4b, 0x00);
/// Colour of text that reports success.
pub(crate) const SUCCESS_TEXT: Color32 = Color32::from_rgb(0x1b, 0x6e, 0x33);

/// Track of a progress bar, a grey that shows on the white of a section.
pub(crate) const PROGRESS_TRACK: Color32 = Color32::from_rgb(0xe3, 0xe7, 0xed);

/// Background tints of the message boxes, by tone.
pub(crate) const ERROR_FILL: Color32 = Color32::from_rgb(0xfd, 0xec, 0xea);
pub(crate) const WARNING_FILL: Color32 = Color32::from_rgb(0xff, 0xf4, 0xe0);
pub(crate) const SUCCESS_FILL: Color32 = Color32::from_rgb(0xe8, 0xf5, 0xe9);

/// Fill of the main button of a screen, and its text colour.
pub(crate) const ACCENT: Color32 = Color32::from_rgb(0x1a, 0x5f, 0xb4);
pub(crate) const ON_ACCENT: Color32 = Color32::WHITE;

/// Applies the theme to the whole app.
pub(crate) fn apply(ctx: &egui::Context) {
    ctx.set_theme(Theme::Light);
    // Sizes and spacing go into both styles, because the dark one is in
    // use until the theme preference takes effect.
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(11.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(14.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Heading,
                FontId::new(24.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(13.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Name(SECTION_STYLE.into()),
                FontId::new(17.0, FontFamily::Proportional),
            ),
        ]
        .into();
        let spacing = &mut style.spacing;
        spacing.item_spacing = egui::vec2(8.0, 6.0);
        spacing.button_padding = egui::vec2(10.0, 4.0);
        spacing.interact_size.y = 22.0;
        spacing.combo_height = 320.0;
    });
    ctx.style_mut_of(Theme::Light, |style| {
        let visuals = &mut style.visuals;
        visuals.error_fg_color = ERROR_TEXT;
        visuals.warn_fg_color = WARNING_TEXT;
        visuals.hyperlink_color = ACCENT;
        visuals.selection.bg_fill = Color32::from_rgb(0xc6, 0xdc, 0xf7);
        visuals.selection.stroke = Stroke::new(1.0, ACCENT);
        visuals.striped = true;
        // The default light theme draws body text in a mid grey; a darker
        // one reads better at length.
        visuals.widgets.noninteractive.fg_stroke.color = Color32::from_gray(40);
        visuals.widgets.inactive.fg_stroke.color = Color32::from_gray(30);
    });
}
