//! Named mapping presets: the mapping of a sheet, the headers it was made
//! for and the default country, kept as one JSON file each in the presets
//! folder so the next file from the same system maps in one click.
//!
//! A preset contains no token, key or customer data: only headers, targets
//! and a country code.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fields::{Mapping, Target};
use crate::guess::header::HeaderWords;

/// Maximum length of a preset name, in characters, so the file name built
/// from it stays within every file system's limit of 255 bytes.
pub const MAX_NAME_CHARS: usize = 60;

/// Share of headers two sheets must have in common (Jaccard index of the
/// normalised header sets) for a preset to be proposed.
pub const MATCH_THRESHOLD: f32 = 0.8;

/// One column of a preset: its header and the target it feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresetColumn {
    pub header: String,
    pub target: Target,
}

/// A saved mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preset {
    pub name: String,
    /// Every column of the sheet the preset was made for, in order.
    pub columns: Vec<PresetColumn>,
    /// ISO 3166-1 alpha-2 code for rows that name no country.
    #[serde(default)]
    pub default_country: Option<String>,
}

/// A preset proposed for a sheet, with how closely its headers match.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetMatch {
    pub preset: Preset,
    /// Jaccard index of the two header sets, from 0.0 to 1.0.
    pub score: f32,
}

/// Failure to save, read or find a preset.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("no preset named {name:?}")]
    NotFound { name: String },
    #[error("invalid preset name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("cannot access preset file {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a preset file", path.display())]
    Malformed {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl Preset {
    /// Makes a preset from a sheet's headers and mapping.
    pub fn from_mapping(
        name: &str,
        headers: &[String],
        mapping: &Mapping,
        default_country: Option<String>,
    ) -> Self {
        let columns = headers
            .iter()
            .enumerate()
            .map(|(column, header)| PresetColumn {
                header: header.clone(),
                target: mapping.target(column),
            })
            .collect();
        Self {
            name: name.trim().to_string(),
            columns,
            default_country,
        }
    }

    /// Builds the mapping of a sheet from this preset, matching columns by
    /// header so reordered columns still map. A header that repeats takes
    /// the preset's columns of that header in order; a header the preset
    /// lacks is ignored.
    pub fn apply(&self, headers: &[String]) -> Mapping {
        let keys: Vec<String> = self
            .columns
            .iter()
            .map(|column| header_key(&column.header))
            .collect();
        let mut used = vec![false; self.columns.len()];
        let targets = headers
            .iter()
            .map(|header| {
                let key = header_key(header);
                let found = (0..keys.len()).find(|&index| !used[index] && keys[index] == key);
                match found {
                    Some(index) => {
                        used[index] = true;
                        self.columns[index].target
                    }
                    None => Target::Ignore,
                }
            })
            .collect();
        Mapping { targets }
    }

    /// Returns how closely a sheet's headers match this preset's: the
    /// Jaccard index of the two sets of normalised headers.
    pub fn match_score(&self, headers: &[String]) -> f32 {
        let ours: std::collections::HashSet<String> = self
            .columns
            .iter()
            .map(|column| header_key(&column.header))
            .collect();
        let theirs: std::collections::HashSet<String> =
            headers.iter().map(|header| header_key(header)).collect();
        let union = ours.union(&theirs).count();
        if union == 0 {
            return 0.0;
        }
        ours.intersection(&theirs).count() as f32 / union as f32
    }
}

/// Compares headers without case, accents, punctuation or stray spaces.
fn header_key(header: &str) -> String {
    HeaderWords::new(header).words.join(" ")
}

/// The presets folder.
#[derive(Debug, Clone)]
pub struct PresetStore {
    dir: PathBuf,
}

impl PresetStore {
    /// Uses `dir`, usually [`crate::paths::AppPaths::presets_dir`]. The
    /// folder is created on the first save.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Writes a preset, replacing one of the same name (names compare
    /// without case). Returns the file written.
    pub fn save(&self, preset: &Preset) -> Result<PathBuf, PresetError> {
        let path = self.dir.join(file_name(&preset.name)?);
        std::fs::create_dir_all(&self.dir).map_err(|source| PresetError::Io {
            path: self.dir.clone(),
            source,
        })?;
        write_json(&path, preset)?;
        tracing::debug!(path = %path.display(), "preset saved");
        Ok(path)
    }

    /// Returns every readable preset, sorted by name. A file that cannot
    /// be read is logged and skipped so one bad file hides no others.
    pub fn list(&self) -> Result<Vec<Preset>, PresetError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(PresetError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut presets = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|ext| ext.to_str()) != Some("json") {
                continue;
            }
            match read_json(&path) {
                Ok(preset) => presets.push(preset),
                Err(error) => {
                    tracing::warn!(path = %path.display(), "skipped preset file: {error}")
                }
            }
        }
        presets.sort_by_key(|preset| preset.name.to_lowercase());
        Ok(presets)
    }

    /// Reads the preset of that name (without case).
    pub fn load(&self, name: &str) -> Result<Preset, PresetError> {
        let path = self.dir.join(file_name(name)?);
        if !path.exists() {
            return Err(PresetError::NotFound {
                name: name.to_string(),
            });
        }
        read_json(&path)
    }

    /// Deletes the preset of that name.
    pub fn delete(&self, name: &str) -> Result<(), PresetError> {
        let path = self.dir.join(file_name(name)?);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(PresetError::NotFound {
                    name: name.to_string(),
                })
            }
            Err(source) => Err(PresetError::Io { path, source }),
        }
    }

    /// Writes a preset to any file, to share it.
    pub fn export(&self, name: &str, path: &Path) -> Result<(), PresetError> {
        write_json(path, &self.load(name)?)
    }

    /// Reads a preset file made by [`PresetStore::export`] and saves it
    /// here. Returns the preset.
    pub fn import(&self, path: &Path) -> Result<Preset, PresetError> {
        let preset = read_json(path)?;
        self.save(&preset)?;
        Ok(preset)
    }

    /// Proposes the saved preset whose headers best match a sheet's, if
    /// its score reaches [`MATCH_THRESHOLD`]. The columns a report adds
    /// ([`crate::report::ADDED_HEADERS`]) are left out of the score, so a
    /// report of failed or skipped rows, opened to fix and send them again,
    /// gets the preset of the file it came from.
    pub fn find_matching(&self, headers: &[String]) -> Result<Option<PresetMatch>, PresetError> {
        let added: Vec<String> = crate::report::ADDED_HEADERS
            .iter()
            .map(|header| header_key(header))
            .collect();
        let sheet_headers: Vec<String> = headers
            .iter()
            .filter(|header| !added.contains(&header_key(header)))
            .cloned()
            .collect();
        let best = self
            .list()?
            .into_iter()
            .map(|preset| PresetMatch {
                score: preset.match_score(&sheet_headers),
                preset,
            })
            .filter(|found| found.score >= MATCH_THRESHOLD)
            .max_by(|a, b| a.score.total_cmp(&b.score));
        Ok(best)
    }
}

/// Builds a file name that is safe on every platform from any preset name:
/// lower case, ASCII letters, digits and `-` kept, every other byte written
/// as `_XX` in hex, so two different names never share a file.
fn file_name(name: &str) -> Result<String, PresetError> {
    let name = name.trim();
    let invalid = |reason: &str| PresetError::InvalidName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("a preset needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(&format!("use at most {MAX_NAME_CHARS} characters")));
    }
    let mut file = String::from("preset-");
    for byte in name.to_lowercase().bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            file.push(char::from(byte));
        } else {
            file.push_str(&format!("_{byte:02x}"));
        }
    }
    file.push_str(".json");
    Ok(file)
}

fn write_json(path: &Path, preset: &Preset) -> Result<(), PresetError> {
    let io_error = |source| PresetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(preset).map_err(|source| PresetError::Malformed {
        path: path.to_path_buf(),
        source,
    })?;
    // Write beside the target, then rename, so a crash never leaves half a
    // preset behind.
    let temporary = path.with_extension("json.partial");
    std::fs::write(&temporary, text).map_err(io_error)?;
    std::fs::rename(&temporary, path).map_err(io_error)
}

fn read_json(path: &Path) -> Result<Preset, PresetError> {
    let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| PresetError::Malformed {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn sample(name: &str) -> Preset {
        let columns = headers(&["First Name", "Email", "Notes"]);
        let mapping = Mapping {
            targets: vec![Target::GivenName, Target::Email, Target::Ignore],
        };
        Preset::from_mapping(name, &columns, &mapping, Some("CA".to_string()))
    }

    #[test]
    fn save_list_load_delete() -> Result<(), PresetError> {
        let dir = tempfile::tempdir().map_err(|source| PresetError::Io {
            path: PathBuf::new(),
            source,
        })?;
        let store = PresetStore::new(dir.path().join("presets"));
        assert!(store.list()?.is_empty());
        store.save(&sample("Shop export"))?;
        store.save(&sample("Outlook"))?;
        let names: Vec<String> = store
            .list()?
            .into_iter()
            .map(|preset| preset.name)
            .collect();
        assert_eq!(names, ["Outlook", "Shop export"]);
        assert_eq!(store.load("shop EXPORT")?, sample("Shop export"));
        store.delete("Outlook")?;
        assert!(matches!(
            store.load("Outlook"),
            Err(PresetError::NotFound { .. })
        ));
        Ok(())
    }

    #[test]
    fn export_and_import() -> Result<(), PresetError> {
        let dir = tempfile::tempdir().map_err(|source| PresetError::Io {
            path: PathBuf::new(),
            source,
        })?;
        let first = PresetStore::new(dir.path().join("one"));
        let second = PresetStore::new(dir.path().join("two"));
        first.save(&sample("Shared"))?;
        let file = dir.path().join("shared.json");
        first.export("Shared", &file)?;
        assert_eq!(second.import(&file)?, sample("Shared"));
        assert_eq!(second.load("Shared")?, sample("Shared"));
        Ok(())
    }

    #[test]
    fn file_names_are_safe() -> Result<(), PresetError> {
        assert_eq!(file_name("Shop")?, "preset-shop.json");
        assert_eq!(
            file_name("../etc/passwd")?,
            "preset-_2e_2e_2fetc_2fpasswd.json"
        );
        assert_eq!(file_name("CON")?, "preset-con.json");
        assert_ne!(file_name("a b")?, file_name("a_b")?);
        assert!(file_name("").is_err());
        assert!(file_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        Ok(())
    }

    #[test]
    fn apply_maps_by_header_name() {
        let preset = sample("Shop");
        let mapping = preset.apply(&headers(&["email ", "Unknown", "FIRST NAME"]));
        assert_eq!(
            mapping.targets,
            [Target::Email, Target::Ignore, Target::GivenName]
        );
    }

    #[test]
    fn matching_needs_nearly_the_same_headers() -> Result<(), PresetError> {
        let dir = tempfile::tempdir().map_err(|source| PresetError::Io {
            path: PathBuf::new(),
            source,
        })?;
        let store = PresetStore::new(dir.path().to_path_buf());
        store.save(&sample("Shop"))?;
        let reordered = store.find_matching(&headers(&["Notes", "E-mail", "First Name"]))?;
        assert_eq!(reordered.map(|found| found.score), Some(1.0));
        assert!(
            store
                .find_matching(&headers(&["Phone", "City", "Notes"]))?
                .is_none()
        );
        Ok(())
    }

    #[test]
    fn report_columns_do_not_lower_the_score() -> Result<(), PresetError> {
        let dir = tempfile::tempdir().map_err(|source| PresetError::Io {
            path: PathBuf::new(),
            source,
        })?;
        let store = PresetStore::new(dir.path().to_path_buf());
        store.save(&sample("Shop"))?;
        let mut report_headers = headers(&["First Name", "Email", "Notes"]);
        report_headers.extend(crate::report::ADDED_HEADERS.map(str::to_owned));
        let found = store.find_matching(&report_headers)?;
        assert_eq!(found.map(|found| found.score), Some(1.0));
        Ok(())
    }

    #[test]
    fn preset_json_has_no_secret_fields() -> Result<(), serde_json::Error> {
        let json = serde_json::to_value(sample("Shop"))?;
        let keys: Vec<&String> = json
            .as_object()
            .map(|object| object.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["columns", "default_country", "name"]);
        Ok(())
    }
}
