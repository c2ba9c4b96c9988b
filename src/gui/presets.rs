//! The presets bar of the mapping screen: a proposal when a saved preset
//! matches the file's headers, and saving, applying, deleting, exporting
//! and importing named mappings.

use egui::Ui;

use super::widgets;

/// State of the presets bar.
#[derive(Debug, Clone, Default)]
pub(crate) struct PresetsBar {
    /// Names of the saved presets, sorted.
    pub names: Vec<String>,
    /// Preset picked in the combo box.
    pub selected: Option<String>,
    /// Name typed for saving the current mapping.
    pub new_name: String,
    /// A saved preset whose headers match the open file, with the share of
    /// matching headers (0.0 to 1.0), until applied or dismissed.
    pub proposal: Option<(String, f32)>,
    /// Last result of a preset operation, and whether it is an error.
    pub message: Option<(bool, String)>,
}

/// Requests from the presets bar to the app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PresetAction {
    Apply(String),
    Save(String),
    Delete(String),
    Export(String),
    Import,
    DismissProposal,
}

/// Draws the presets bar. `unavailable` is the reason presets cannot be
/// used (no folder to keep them in), `busy` whether an operation runs.
pub(crate) fn presets_ui(
    ui: &mut Ui,
    bar: &mut PresetsBar,
    unavailable: Option<&'static str>,
    busy: bool,
) -> Vec<PresetAction> {
    let mut actions = Vec::new();
    if let Some((name, score)) = bar.proposal.clone() {
        proposal_ui(ui, &name, score, &mut actions);
    }
    let reason = unavailable.or(busy.then_some("A preset operation is running"));
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Presets");
        saved_presets_ui(ui, bar, label.id, reason, &mut actions);
        ui.separator();
        ui.add(
            egui::TextEdit::singleline(&mut bar.new_name)
                .hint_text("Name for this mapping")
                .desired_width(180.0),
        );
        let name = bar.new_name.trim().to_owned();
        let save_reason = reason.or(name
            .is_empty()
            .then_some("Type a name for the preset first"));
        if widgets::button(ui, "Save preset", save_reason) {
            actions.push(PresetAction::Save(name));
        }
        if widgets::button(ui, "Import preset…", reason) {
            actions.push(PresetAction::Import);
        }
    });
    match &bar.message {
        Some((true, message)) => widgets::error_label(ui, message),
        Some((false, message)) => widgets::hint_label(ui, message),
        None => {}
    }
    actions
}

fn proposal_ui(ui: &mut Ui, name: &str, score: f32, actions: &mut Vec<PresetAction>) {
    ui.horizontal_wrapped(|ui| {
        let percent = (score * 100.0).round();
        widgets::success_label(
            ui,
            &format!("The saved preset \"{name}\" matches {percent}% of these columns."),
        );
        if ui.button("Apply preset").clicked() {
            actions.push(PresetAction::Apply(name.to_owned()));
        }
        if ui.button("Keep the guesses").clicked() {
            actions.push(PresetAction::DismissProposal);
        }
    });
}

fn saved_presets_ui(
    ui: &mut Ui,
    bar: &mut PresetsBar,
    label_id: egui::Id,
    reason: Option<&'static str>,
    actions: &mut Vec<PresetAction>,
) {
    let selected_text = bar.selected.clone().unwrap_or_else(|| {
        if bar.names.is_empty() {
            "No saved presets".to_owned()
        } else {
            "Choose a preset".to_owned()
        }
    });
    egui::ComboBox::from_id_salt("saved_presets")
        .selected_text(selected_text)
        .width(180.0)
        .show_ui(ui, |ui| {
            for name in &bar.names {
                ui.selectable_value(&mut bar.selected, Some(name.clone()), name);
            }
        })
        .response
        .labelled_by(label_id);
    let chosen = bar.selected.clone();
    let chosen_reason = reason.or(chosen.is_none().then_some("Choose a saved preset first"));
    let chosen = chosen.unwrap_or_default();
    if widgets::button(ui, "Apply", chosen_reason) {
        actions.push(PresetAction::Apply(chosen.clone()));
    }
    if widgets::button(ui, "Delete", chosen_reason) {
        actions.push(PresetAction::Delete(chosen.clone()));
    }
    if widgets::button(ui, "Export…", chosen_reason) {
        actions.push(PresetAction::Export(chosen));
    }
}
