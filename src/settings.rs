//! What the app remembers between runs. Tokens are never part of it: they
//! live in the OS keychain.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::environment::Environment;

/// Settings saved as JSON in the config folder. Every field has a default,
/// so a file from an older version still loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub environment: Environment,
    /// Business location id (`AG-...`) last used, per keychain account of
    /// an environment.
    pub location_ids: BTreeMap<String, String>,
    /// ISO 3166-1 alpha-2 code for rows that name no country.
    pub default_country: String,
    /// Whether the first-run welcome was dismissed.
    pub welcome_dismissed: bool,
    /// Whether each upload tags the customers it creates, so the run can be
    /// found and undone.
    pub batch_tag: bool,
    /// Requests in flight at most during an upload.
    pub max_concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Sandbox,
            location_ids: BTreeMap::new(),
            default_country: "US".to_owned(),
            welcome_dismissed: false,
            batch_tag: true,
            max_concurrency: 8,
        }
    }
}

/// Why settings could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("failed to write settings to {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Settings {
    /// Loads settings from `path`. A missing file gives the defaults, and so
    /// does a damaged one, after a warning in the log.
    pub fn load(path: &Path) -> Self {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Self::default(),
            Err(err) => {
                tracing::warn!(path = %path.display(), "failed to read settings, using defaults: {err}");
                return Self::default();
            }
        };
        serde_json::from_str(&text).unwrap_or_else(|err| {
            tracing::warn!(path = %path.display(), "settings file is damaged, using defaults: {err}");
            Self::default()
        })
    }

    /// Saves settings to `path` through a temporary file, so a crash never
    /// leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let write_error = |source| SettingsError::Write {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_error)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|err| write_error(err.into()))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(write_error)?;
        std::fs::rename(&temporary, path).map_err(write_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let settings = Settings::load(&dir.path().join("settings.json"));
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.environment, Environment::Sandbox);
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("config").join("settings.json");
        let settings = Settings {
            environment: Environment::Custom("http://127.0.0.1:9/business".to_owned()),
            welcome_dismissed: true,
            ..Settings::default()
        };
        settings.save(&path).expect("save");
        assert_eq!(Settings::load(&path), settings);
    }

    #[test]
    fn old_file_without_new_fields_loads() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"welcome_dismissed": true}"#).expect("write");
        let settings = Settings::load(&path);
        assert!(settings.welcome_dismissed);
        assert!(settings.batch_tag);
    }
}
