//! Where the importer keeps its files: the platform's standard config, data
//! and log folders, from the `directories` crate.
//!
//! Setting `CUSTOMER_IMPORTER_HOME` puts every folder under that one
//! directory instead, which tests use to stay out of the user's folders.

use std::path::PathBuf;

/// The folders the importer writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// Settings and presets (`settings.json`, `presets/`).
    pub config_dir: PathBuf,
    /// The run journal.
    pub data_dir: PathBuf,
    /// Rotated log files.
    pub log_dir: PathBuf,
}

impl AppPaths {
    /// Returns the folders for this user, or `None` when the platform has no
    /// home folder to put them in.
    pub fn from_env() -> Option<Self> {
        if let Some(home) = std::env::var_os("CUSTOMER_IMPORTER_HOME") {
            return Some(Self::under(PathBuf::from(home)));
        }
        let dirs = directories::ProjectDirs::from("com", "Vendasta", "customer-importer")?;
        Some(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            log_dir: dirs.data_local_dir().join("logs"),
        })
    }

    /// Returns folders that all sit under `root`.
    pub fn under(root: PathBuf) -> Self {
        Self {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            log_dir: root.join("logs"),
        }
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.json")
    }

    pub fn presets_dir(&self) -> PathBuf {
        self.config_dir.join("presets")
    }

    pub fn journal_file(&self) -> PathBuf {
        self.data_dir.join("journal.sqlite3")
    }

    /// Returns the file of the in-app sandbox's customers
    /// (`SandboxConfig::state_file`).
    pub fn sandbox_file(&self) -> PathBuf {
        self.data_dir.join("sandbox.json")
    }
}
