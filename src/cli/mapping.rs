//! The mapping and check options that `check` and `import` derive from
//! their shared reading arguments (`--preset`, `--mapping`,
//! `--default-country`), so both commands map a file alike and word their
//! errors alike.

use super::ReadArgs;
use crate::check::CheckOptions;
use crate::fields::Mapping;
use crate::guess::guess_mapping;
use crate::normalize::place::country_code;
use crate::paths::AppPaths;
use crate::preset::PresetStore;
use crate::table::Table;

/// Returns the mapping of `table` (from `--preset`, or guessed from the
/// headers) and the check options, whose default country is
/// `--default-country`, else the preset's. The error is a lowercase
/// message for `error: ...`.
pub(super) fn mapping_and_options(
    read: &ReadArgs,
    table: &Table,
) -> Result<(Mapping, CheckOptions), String> {
    let (mapping, preset_country) = choose_mapping(read, table)?;
    let code = read
        .default_country
        .as_deref()
        .or(preset_country.as_deref());
    let default_country = resolve_country(code)?;
    Ok((mapping, CheckOptions { default_country }))
}

/// Returns the mapping (from the named preset, or guessed) and the
/// preset's default country.
fn choose_mapping(read: &ReadArgs, table: &Table) -> Result<(Mapping, Option<String>), String> {
    if let Some(name) = &read.preset {
        let paths = AppPaths::from_env().ok_or(
            "there is no home folder to find presets in; set CUSTOMER_IMPORTER_HOME to a folder",
        )?;
        let preset = PresetStore::new(paths.presets_dir())
            .load(name)
            .map_err(|err| format!("{err}; save the mapping as a preset in the app first"))?;
        return Ok((preset.apply(&table.headers), preset.default_country));
    }
    match read.mapping.as_str() {
        "auto" => Ok((guess_mapping(table), None)),
        other => Err(format!(
            "unknown mapping mode {other:?}; use --mapping auto or --preset NAME"
        )),
    }
}

/// Returns the ISO 3166-1 alpha-2 code of a country given by code or name,
/// or `None` when none is given.
fn resolve_country(code: Option<&str>) -> Result<Option<String>, String> {
    let Some(code) = code.map(str::trim).filter(|code| !code.is_empty()) else {
        return Ok(None);
    };
    match country_code(code) {
        Some(alpha2) => Ok(Some(alpha2.to_owned())),
        None => Err(format!(
            "{code:?} is not a country; give --default-country a two-letter ISO 3166-1 code such \
             as US"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn read_args(mapping: &str, default_country: Option<&str>) -> ReadArgs {
        ReadArgs {
            file: PathBuf::from("customers.csv"),
            sheet: None,
            preset: None,
            mapping: mapping.to_owned(),
            default_country: default_country.map(str::to_owned),
        }
    }

    fn table() -> Table {
        Table {
            source: crate::table::SourceInfo {
                path: PathBuf::from("customers.csv"),
                format: crate::table::SourceFormat::Xlsx,
                sheet: None,
                sheets: Vec::new(),
                fingerprint: "f".to_owned(),
            },
            headers: vec!["Email".to_owned()],
            header_row: 1,
            records: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn auto_mapping_with_country() {
        let (mapping, options) =
            mapping_and_options(&read_args("auto", Some(" us ")), &table()).expect("mapped");
        assert_eq!(mapping.target(0), crate::fields::Target::Email);
        assert_eq!(options.default_country.as_deref(), Some("US"));
    }

    #[test]
    fn unknown_mode_and_country_are_errors() {
        let err = mapping_and_options(&read_args("manual", None), &table()).expect_err("mode");
        assert_eq!(
            err,
            "unknown mapping mode \"manual\"; use --mapping auto or --preset NAME"
        );
        let err =
            mapping_and_options(&read_args("auto", Some("Atlantis")), &table()).expect_err("land");
        assert!(err.starts_with("\"Atlantis\" is not a country"), "{err}");
    }
}
