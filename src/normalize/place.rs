//! Countries and their subdivisions (states, provinces, territories) as ISO
//! 3166 codes, looked up by code or by name in English, French, Spanish or
//! German with the `keshvar` crate's data.

use std::collections::HashMap;
use std::sync::LazyLock;

use keshvar::CountryIterator;

/// Languages whose country and subdivision names are recognised.
const LANGUAGES: [&str; 4] = ["en", "fr", "es", "de"];

/// Common ways of writing a country that the crate's data lacks, as
/// (alias, ISO 3166-1 alpha-2).
const COUNTRY_ALIASES: [(&str, &str); 6] = [
    ("UK", "GB"),
    ("Great Britain", "GB"),
    ("England", "GB"),
    ("Scotland", "GB"),
    ("Wales", "GB"),
    ("America", "US"),
];

/// Reason an address part cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error(
        "\"{value}\" is not a country this importer knows; use the country's name or its two-letter code (such as US or CA)"
    )]
    UnknownCountry { value: String },
    #[error(
        "\"{value}\" is not a state, province or region of {country}; use its name or its code (such as MI for Michigan)"
    )]
    UnknownRegion { value: String, country: String },
    #[error(
        "The region \"{value}\" cannot be read because the row has no country; fill in the country or set a default country"
    )]
    RegionWithoutCountry { value: String },
}

/// Lookup tables built once from the crate's data.
struct Places {
    /// Normalised name or code to ISO 3166-1 alpha-2.
    countries: HashMap<String, String>,
    /// ISO 3166-1 alpha-2 to (normalised subdivision name or code to ISO
    /// 3166-2 code such as `US-MI`).
    regions: HashMap<String, HashMap<String, String>>,
    /// ISO 3166-1 alpha-2 to the English short name, for messages.
    names: HashMap<String, String>,
}

static PLACES: LazyLock<Places> = LazyLock::new(build_places);

/// Normalises a name or code for lookup: accents folded to ASCII, lower
/// case, and everything but letters and digits removed, so `U.S.`,
/// `États-Unis` and `etats unis` meet the same key.
fn lookup_key(text: &str) -> String {
    deunicode::deunicode(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn build_places() -> Places {
    let mut countries = HashMap::new();
    let mut regions = HashMap::new();
    let mut names = HashMap::new();
    let all: Vec<keshvar::Country> = CountryIterator::new().collect();

    // Codes go in before names so a name never shadows a code.
    for country in &all {
        let alpha2 = country.alpha2().to_string();
        countries.insert(lookup_key(&alpha2), alpha2.clone());
        names.insert(alpha2, country.iso_short_name().to_string());
    }
    for country in &all {
        let alpha2 = country.alpha2().to_string();
        let keys = country_names(country);
        for key in keys {
            countries
                .entry(lookup_key(&key))
                .or_insert_with(|| alpha2.clone());
        }
        regions.insert(alpha2.clone(), subdivision_keys(country, &alpha2));
    }
    for (alias, alpha2) in COUNTRY_ALIASES {
        countries
            .entry(lookup_key(alias))
            .or_insert_with(|| alpha2.to_string());
    }
    Places {
        countries,
        regions,
        names,
    }
}

/// Returns the alpha-3 code and every name of a country: the ISO short and
/// long names, the unofficial names and the translations.
fn country_names(country: &keshvar::Country) -> Vec<String> {
    let mut names = vec![
        country.alpha3().to_string(),
        country.iso_short_name().to_string(),
        country.iso_long_name().to_string(),
    ];
    names.extend(
        country
            .unofficial_name_list()
            .iter()
            .map(|name| name.to_string()),
    );
    names.extend(
        LANGUAGES
            .iter()
            .filter_map(|language| country.translations().get(language))
            .map(|name| name.to_string()),
    );
    names
}

fn subdivision_keys(country: &keshvar::Country, alpha2: &str) -> HashMap<String, String> {
    let mut keys = HashMap::new();
    let subdivisions = country.subdivisions();
    for subdivision in subdivisions.values() {
        let code = format!("{alpha2}-{}", subdivision.code());
        keys.insert(lookup_key(subdivision.code()), code.clone());
        keys.insert(lookup_key(&code), code);
    }
    // Official names go in before translations and unofficial names, so
    // `Washington` is the state and not a short name of the capital.
    for pass in [
        NamePass::Official,
        NamePass::Translated,
        NamePass::Unofficial,
    ] {
        for subdivision in subdivisions.values() {
            let code = format!("{alpha2}-{}", subdivision.code());
            for name in subdivision_names(subdivision, pass) {
                keys.entry(lookup_key(&name))
                    .or_insert_with(|| code.clone());
            }
        }
    }
    keys
}

/// The kinds of subdivision names, in the order they claim a lookup key.
#[derive(Debug, Clone, Copy)]
enum NamePass {
    Official,
    Translated,
    Unofficial,
}

fn subdivision_names(subdivision: &keshvar::Subdivision, pass: NamePass) -> Vec<String> {
    match pass {
        NamePass::Official => vec![subdivision.name().to_string()],
        NamePass::Translated => LANGUAGES
            .iter()
            .filter_map(|language| subdivision.translations().get(language))
            .map(|name| name.to_string())
            .collect(),
        NamePass::Unofficial => subdivision
            .unofficial_name_list()
            .iter()
            .map(|name| name.to_string())
            .collect(),
    }
}

/// Returns the ISO 3166-1 alpha-2 code of a country written as a code
/// (`US`, `USA`) or a name (`United States`, `Australie`, `U.S.`).
pub fn country_code(text: &str) -> Option<&'static str> {
    let places: &'static Places = &PLACES;
    places.countries.get(&lookup_key(text)).map(String::as_str)
}

/// Returns the ISO 3166-2 code of a subdivision of `country` written as a
/// code (`MI`, `US-MI`) or a name (`Michigan`, `Québec`).
pub fn region_code(text: &str, country: &str) -> Option<&'static str> {
    let places: &'static Places = &PLACES;
    let subdivisions = places.regions.get(&country.to_ascii_uppercase())?;
    subdivisions.get(&lookup_key(text)).map(String::as_str)
}

/// Returns the English short name of a country code, for messages.
pub fn country_name(alpha2: &str) -> String {
    PLACES
        .names
        .get(&alpha2.to_ascii_uppercase())
        .cloned()
        .unwrap_or_else(|| alpha2.to_string())
}

/// Reads a country cell.
pub fn parse_country(text: &str) -> Result<&'static str, PlaceError> {
    country_code(text).ok_or_else(|| PlaceError::UnknownCountry {
        value: text.to_string(),
    })
}

/// Reads a region cell against the row's country.
pub fn parse_region(text: &str, country: Option<&str>) -> Result<&'static str, PlaceError> {
    let Some(country) = country else {
        return Err(PlaceError::RegionWithoutCountry {
            value: text.to_string(),
        });
    };
    region_code(text, country).ok_or_else(|| PlaceError::UnknownRegion {
        value: text.to_string(),
        country: country_name(country),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_by_code_and_name() {
        for text in [
            "US",
            "us",
            "USA",
            "U.S.",
            "United States",
            "United States of America",
            " USA   ",
        ] {
            assert_eq!(country_code(text), Some("US"), "{text}");
        }
        for text in ["CA", "Canada", "CANADA", "ca"] {
            assert_eq!(country_code(text), Some("CA"), "{text}");
        }
        assert_eq!(country_code("Australie"), Some("AU"));
        assert_eq!(country_code("AUSTRALIA"), Some("AU"));
        assert_eq!(country_code("États-Unis"), Some("US"));
        assert_eq!(country_code("Deutschland"), Some("DE"));
        assert_eq!(country_code("UK"), Some("GB"));
        assert_eq!(country_code("Atlantis"), None);
    }

    #[test]
    fn regions_by_code_and_name() {
        assert_eq!(region_code("MI", "US"), Some("US-MI"));
        assert_eq!(region_code("Michigan", "US"), Some("US-MI"));
        assert_eq!(region_code("california", "US"), Some("US-CA"));
        assert_eq!(region_code("SK", "CA"), Some("CA-SK"));
        assert_eq!(region_code("Québec", "CA"), Some("CA-QC"));
        assert_eq!(region_code("QUEBEC", "CA"), Some("CA-QC"));
        assert_eq!(region_code("on", "CA"), Some("CA-ON"));
        assert_eq!(region_code("NSW", "AU"), Some("AU-NSW"));
        assert_eq!(region_code("Tasmania", "AU"), Some("AU-TAS"));
        assert_eq!(region_code("Bayern", "DE"), Some("DE-BY"));
        assert_eq!(region_code("Washington", "US"), Some("US-WA"));
        assert_eq!(region_code("WA", "US"), Some("US-WA"));
        assert_eq!(region_code("Narnia", "US"), None);
    }

    #[test]
    fn region_errors_name_the_country() {
        let error = parse_region("Narnia", Some("CA"))
            .err()
            .map(|error| error.to_string());
        assert!(error.is_some_and(|message| message.contains("Canada")));
        assert!(matches!(
            parse_region("MI", None),
            Err(PlaceError::RegionWithoutCountry { .. })
        ));
    }
}
