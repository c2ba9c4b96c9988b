//! Running the presets bar's actions. Each job does its one operation on
//! the presets folder, then lists the presets again, and reports both.

use std::path::PathBuf;

use crate::preset::{Preset, PresetStore};

use super::super::app::ImporterApp;
use super::super::logic::Outcome;
use super::super::presets::PresetAction;
use super::super::tasks::TaskKind;
use super::error_chain;

/// The result of a presets job.
#[derive(Debug, Default)]
pub(crate) struct PresetsUpdate {
    /// Every saved preset's name, sorted; `None` when listing failed.
    pub names: Option<Vec<String>>,
    /// Sentence for the user, and whether it reports an error.
    pub message: Option<(bool, String)>,
    /// A preset to apply to the open file.
    pub apply: Option<Preset>,
    /// A preset that matches the open file, with its score.
    pub proposal: Option<(String, f32)>,
}

impl ImporterApp {
    fn preset_store(&self) -> Option<PresetStore> {
        self.paths
            .as_ref()
            .map(|paths| PresetStore::new(paths.presets_dir()))
    }

    /// Runs one presets job in the background, then lists the presets.
    fn spawn_presets_job(
        &mut self,
        label: &str,
        job: impl FnOnce(&PresetStore) -> PresetsUpdate + Send + 'static,
    ) {
        let Some(store) = self.preset_store() else {
            return;
        };
        self.tasks
            .spawn_blocking(TaskKind::Presets, label, None, move || {
                let mut update = job(&store);
                match store.list() {
                    Ok(presets) => {
                        update.names =
                            Some(presets.into_iter().map(|preset| preset.name).collect());
                    }
                    Err(err) => {
                        tracing::warn!("failed to list presets: {}", error_chain(&err));
                    }
                }
                Outcome::Presets(update)
            });
    }

    /// Looks for a saved preset that matches the headers of a new file.
    pub(crate) fn find_matching_preset(&mut self, headers: Vec<String>) {
        self.spawn_presets_job("Looking for a matching preset", move |store| {
            let proposal = match store.find_matching(&headers) {
                Ok(found) => found.map(|found| (found.preset.name, found.score)),
                Err(err) => {
                    tracing::warn!(
                        "failed to look for a matching preset: {}",
                        error_chain(&err)
                    );
                    None
                }
            };
            PresetsUpdate {
                proposal,
                ..PresetsUpdate::default()
            }
        });
    }

    pub(crate) fn run_preset_action(&mut self, action: PresetAction) {
        let bar = &mut self.mapping.presets;
        bar.message = None;
        match action {
            PresetAction::Apply(name) => self.apply_preset(name),
            PresetAction::Save(name) => self.save_preset(name),
            PresetAction::Delete(name) => {
                self.spawn_presets_job("Deleting a preset", move |store| {
                    outcome_message(
                        store.delete(&name),
                        format!("Deleted the preset \"{name}\"."),
                    )
                });
            }
            PresetAction::Export(name) => self.export_preset(name),
            PresetAction::Import => self.import_preset(),
            PresetAction::DismissProposal => bar.proposal = None,
        }
    }

    fn apply_preset(&mut self, name: String) {
        self.mapping.presets.proposal = None;
        self.spawn_presets_job("Applying a preset", move |store| match store.load(&name) {
            Ok(preset) => PresetsUpdate {
                message: Some((false, format!("Applied the preset \"{name}\"."))),
                apply: Some(preset),
                ..PresetsUpdate::default()
            },
            Err(err) => failure(&format!("The preset \"{name}\" could not be read"), &err),
        });
    }

    fn save_preset(&mut self, name: String) {
        let Some(document) = &self.document else {
            return;
        };
        let preset = Preset::from_mapping(
            &name,
            &document.table.headers,
            &document.mapping,
            Some(self.settings.default_country.clone()),
        );
        self.mapping.presets.new_name.clear();
        self.mapping.presets.selected = Some(name.clone());
        self.spawn_presets_job("Saving a preset", move |store| {
            outcome_message(store.save(&preset), format!("Saved the preset \"{name}\"."))
        });
    }

    fn export_preset(&mut self, name: String) {
        if !self.file_dialogs {
            self.mapping.presets.message = Some((true, NO_DIALOG.to_owned()));
            return;
        }
        let Some(store) = self.preset_store() else {
            return;
        };
        self.tasks
            .spawn(TaskKind::Presets, "Exporting a preset", async move {
                let file = rfd::AsyncFileDialog::new()
                    .set_title("Export the preset")
                    .set_file_name(format!("{name}.json"))
                    .add_filter("Preset (JSON)", &["json"])
                    .save_file()
                    .await;
                let Some(file) = file else {
                    return Outcome::Presets(PresetsUpdate::default());
                };
                let path: PathBuf = file.path().to_path_buf();
                let done = format!("Exported the preset \"{name}\" to {}.", path.display());
                let result = tokio::task::spawn_blocking(move || store.export(&name, &path)).await;
                Outcome::Presets(match result {
                    Ok(result) => outcome_message(result, done),
                    Err(_) => PresetsUpdate::default(),
                })
            });
    }

    fn import_preset(&mut self) {
        if !self.file_dialogs {
            self.mapping.presets.message = Some((true, NO_DIALOG.to_owned()));
            return;
        }
        let Some(store) = self.preset_store() else {
            return;
        };
        self.tasks
            .spawn(TaskKind::Presets, "Importing a preset", async move {
                let file = rfd::AsyncFileDialog::new()
                    .set_title("Import a preset")
                    .add_filter("Preset (JSON)", &["json"])
                    .pick_file()
                    .await;
                let Some(file) = file else {
                    return Outcome::Presets(PresetsUpdate::default());
                };
                let path = file.path().to_path_buf();
                let listing = store.clone();
                let imported = tokio::task::spawn_blocking(move || store.import(&path)).await;
                let mut update = match imported {
                    Ok(Ok(preset)) => PresetsUpdate {
                        message: Some((false, format!("Imported the preset \"{}\".", preset.name))),
                        ..PresetsUpdate::default()
                    },
                    Ok(Err(err)) => failure("The preset file could not be imported", &err),
                    Err(_) => PresetsUpdate::default(),
                };
                update.names = listing
                    .list()
                    .ok()
                    .map(|presets| presets.into_iter().map(|preset| preset.name).collect());
                Outcome::Presets(update)
            });
    }

    pub(crate) fn apply_presets_update(&mut self, update: PresetsUpdate) {
        let bar = &mut self.mapping.presets;
        if let Some(names) = update.names {
            if bar
                .selected
                .as_ref()
                .is_some_and(|name| !names.contains(name))
            {
                bar.selected = None;
            }
            bar.names = names;
        }
        if update.message.is_some() {
            bar.message = update.message;
        }
        if update.proposal.is_some() {
            bar.proposal = update.proposal;
        }
        if let Some(preset) = update.apply {
            self.use_preset(&preset);
        }
    }

    /// Replaces the mapping (and the default country, when the preset has
    /// one) with a preset's, matched to the open file by header.
    fn use_preset(&mut self, preset: &Preset) {
        let Some(document) = &mut self.document else {
            return;
        };
        document.mapping = preset.apply(&document.table.headers);
        if let Some(country) = &preset.default_country {
            self.settings.default_country.clone_from(country);
        }
        self.mapping_changed();
    }
}

/// Hint shown when a preset file dialog cannot be used.
const NO_DIALOG: &str = "No file dialog can be shown on this computer, so preset files cannot be \
                         exported or imported here.";

fn outcome_message<T, E: std::error::Error>(result: Result<T, E>, done: String) -> PresetsUpdate {
    match result {
        Ok(_) => PresetsUpdate {
            message: Some((false, done)),
            ..PresetsUpdate::default()
        },
        Err(err) => failure("The preset operation failed", &err),
    }
}

fn failure(what: &str, err: &dyn std::error::Error) -> PresetsUpdate {
    let chain = error_chain(err);
    tracing::warn!("{what}: {chain}");
    PresetsUpdate {
        message: Some((true, format!("{what}: {chain}."))),
        ..PresetsUpdate::default()
    }
}
