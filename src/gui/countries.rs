//! The country list of the default-country picker: ISO 3166-1 alpha-2
//! codes with their English short names, from the table that
//! `normalize::place` reads.

use std::sync::OnceLock;

use crate::normalize::place_data;

/// One entry of the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CountryEntry {
    /// ISO 3166-1 alpha-2 code such as `US`.
    pub code: &'static str,
    /// ISO short name in English, such as `United States of America`.
    pub name: &'static str,
}

/// Returns every country, sorted by name; built once on first use.
pub(crate) fn all() -> &'static [CountryEntry] {
    static COUNTRIES: OnceLock<Vec<CountryEntry>> = OnceLock::new();
    COUNTRIES.get_or_init(|| {
        let mut countries: Vec<CountryEntry> = place_data::COUNTRIES
            .iter()
            .map(|country| CountryEntry {
                code: country.alpha2,
                name: country.short_name,
            })
            .collect();
        countries.sort_by(|a, b| a.name.cmp(b.name));
        countries
    })
}

/// Returns the English name of a code, or `None` for an unknown code.
pub(crate) fn name_of(code: &str) -> Option<&'static str> {
    all()
        .iter()
        .find(|country| country.code.eq_ignore_ascii_case(code))
        .map(|country| country.name)
}

/// Returns "Name (CC)" for a code, or the code alone when it is unknown.
pub(crate) fn label_of(code: &str) -> String {
    match name_of(code) {
        Some(name) => format!("{name} ({code})"),
        None => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_common_countries() {
        assert!(all().len() > 240);
        assert_eq!(name_of("us"), Some("United States of America"));
        assert_eq!(name_of("CA"), Some("Canada"));
        assert_eq!(name_of("ZZ"), None);
    }

    #[test]
    fn label_names_code() {
        assert_eq!(label_of("CA"), "Canada (CA)");
        assert_eq!(label_of("ZZ"), "ZZ");
    }
}
