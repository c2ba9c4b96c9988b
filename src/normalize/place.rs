//! Countries and their subdivisions (states, provinces, territories) as ISO
//! 3166 codes, looked up by code or by name in English, French, Spanish,
//! German, Italian, Portuguese or Dutch. The names come from the `keshvar` crate through the generated
//! table in `place_data.rs`, so the program never runs keshvar's code.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::place_data::COUNTRIES;

/// Common ways of writing a country that keshvar's data lacks, as
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
        "{} is not a country this importer knows; use the country's name or its two-letter code (such as US or CA)",
        super::quote(.value)
    )]
    UnknownCountry { value: String },
    #[error(
        "{} is not a state, province or region of {country}; use its name or its code (such as {example_code} for {example_name})",
        super::quote(.value)
    )]
    UnknownRegion {
        value: String,
        country: String,
        /// Code of a real subdivision of the country, without the country
        /// prefix.
        example_code: String,
        /// Name of the subdivision of `example_code`.
        example_name: String,
    },
    #[error(
        "{} cannot be read as a region because the importer's place table lists no states, provinces or regions of {country}; clear the cell or check the country",
        super::quote(.value)
    )]
    CountryWithoutRegions { value: String, country: String },
    #[error(
        "The region {} cannot be read because the row has no country; fill in the country or set a default country",
        super::quote(.value)
    )]
    RegionWithoutCountry { value: String },
    #[error(
        "The region {} cannot be read because the row's country {} was not recognised; correct the country to its name or two-letter code",
        super::quote(.value),
        super::quote(.country)
    )]
    RegionOfUnknownCountry { value: String, country: String },
}

/// One country of the generated table.
#[derive(Debug)]
pub(crate) struct CountryRecord {
    /// ISO 3166-1 alpha-2 code such as `US`.
    pub alpha2: &'static str,
    /// ISO 3166-1 alpha-3 code such as `USA`.
    pub alpha3: &'static str,
    /// ISO short name in English, such as `United States of America`.
    pub short_name: &'static str,
    /// The ISO long name, the unofficial names and the translations.
    pub other_names: &'static [&'static str],
    /// Subdivisions, sorted by code.
    pub subdivisions: &'static [SubdivisionRecord],
}

/// One subdivision of a country in the generated table.
#[derive(Debug)]
pub(crate) struct SubdivisionRecord {
    /// ISO 3166-2 code such as `US-MI`.
    pub code: &'static str,
    /// Official name, such as `Michigan`.
    pub name: &'static str,
    /// Translations of the name.
    pub translations: &'static [&'static str],
    /// Unofficial names and abbreviations.
    pub unofficial_names: &'static [&'static str],
}

impl SubdivisionRecord {
    /// Returns the code without the country prefix, such as `MI`.
    fn local_code(&self) -> &'static str {
        self.code
            .split_once('-')
            .map_or(self.code, |(_, local_code)| local_code)
    }
}

/// Lookup tables built once from the generated table.
struct Places {
    /// Normalised name or code to ISO 3166-1 alpha-2.
    countries: HashMap<String, &'static str>,
    /// ISO 3166-1 alpha-2 to (normalised subdivision name or code to ISO
    /// 3166-2 code such as `US-MI`).
    regions: HashMap<&'static str, HashMap<String, &'static str>>,
    /// ISO 3166-1 alpha-2 to the English short name, for messages.
    names: HashMap<&'static str, &'static str>,
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
    for country in COUNTRIES {
        names.insert(country.alpha2, country.short_name);
        regions.insert(country.alpha2, subdivision_keys(country.subdivisions));
    }

    // Codes go in before names so a name never shadows a code.
    for country in COUNTRIES {
        countries.insert(lookup_key(country.alpha2), country.alpha2);
    }
    for country in COUNTRIES {
        let names = [country.alpha3, country.short_name]
            .into_iter()
            .chain(country.other_names.iter().copied());
        for name in names {
            countries.entry(lookup_key(name)).or_insert(country.alpha2);
        }
    }
    for (alias, alpha2) in COUNTRY_ALIASES {
        countries.entry(lookup_key(alias)).or_insert(alpha2);
    }
    Places {
        countries,
        regions,
        names,
    }
}

fn subdivision_keys(subdivisions: &'static [SubdivisionRecord]) -> HashMap<String, &'static str> {
    let mut keys = HashMap::new();
    for subdivision in subdivisions {
        keys.insert(lookup_key(subdivision.local_code()), subdivision.code);
        keys.insert(lookup_key(subdivision.code), subdivision.code);
    }
    // Official names go in before translations and unofficial names, so
    // `Washington` is the state and not a short name of the capital.
    for pass in [
        NamePass::Official,
        NamePass::Translated,
        NamePass::Unofficial,
    ] {
        for subdivision in subdivisions {
            for name in subdivision_names(subdivision, pass) {
                keys.entry(lookup_key(name)).or_insert(subdivision.code);
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

fn subdivision_names(
    subdivision: &'static SubdivisionRecord,
    pass: NamePass,
) -> &'static [&'static str] {
    match pass {
        NamePass::Official => std::slice::from_ref(&subdivision.name),
        NamePass::Translated => subdivision.translations,
        NamePass::Unofficial => subdivision.unofficial_names,
    }
}

/// Returns the ISO 3166-1 alpha-2 code of a country written as a code
/// (`US`, `USA`) or a name (`United States`, `Australie`, `U.S.`).
pub fn country_code(text: &str) -> Option<&'static str> {
    PLACES.countries.get(&lookup_key(text)).copied()
}

/// Returns the ISO 3166-2 code of a subdivision of `country` written as a
/// code (`MI`, `US-MI`) or a name (`Michigan`, `Québec`).
pub fn region_code(text: &str, country: &str) -> Option<&'static str> {
    let subdivisions = PLACES.regions.get(country.to_ascii_uppercase().as_str())?;
    subdivisions.get(&lookup_key(text)).copied()
}

/// Returns the English short name of a country code, for messages.
pub fn country_name(alpha2: &str) -> String {
    PLACES
        .names
        .get(alpha2.to_ascii_uppercase().as_str())
        .map_or_else(|| alpha2.to_string(), |name| name.to_string())
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
    if let Some(code) = region_code(text, country) {
        return Ok(code);
    }
    let value = text.to_string();
    let country_name = country_name(country);
    Err(match region_example(country) {
        Some(example) => PlaceError::UnknownRegion {
            value,
            country: country_name,
            example_code: example.local_code().to_string(),
            example_name: example.name.to_string(),
        },
        None => PlaceError::CountryWithoutRegions {
            value,
            country: country_name,
        },
    })
}

/// Returns the subdivision that region errors of a country give as an
/// example. It is the first by code whose code is letters (`AG` for
/// Agrigento rather than `21` for Piemonte), or else the first.
fn region_example(alpha2: &str) -> Option<&'static SubdivisionRecord> {
    let country = COUNTRIES
        .iter()
        .find(|country| country.alpha2.eq_ignore_ascii_case(alpha2))?;
    let has_letter_code = |subdivision: &&SubdivisionRecord| {
        subdivision
            .local_code()
            .chars()
            .all(|c| c.is_ascii_alphabetic())
    };
    country
        .subdivisions
        .iter()
        .find(has_letter_code)
        .or_else(|| country.subdivisions.first())
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
    fn countries_by_name_in_more_languages() {
        for (text, code) in [
            ("Svizzera", "CH"),
            ("Suíça", "CH"),
            ("Zwitserland", "CH"),
            ("Espanha", "ES"),
            ("Spagna", "ES"),
            ("Spanje", "ES"),
            ("Germania", "DE"),
            ("Alemanha", "DE"),
            ("Duitsland", "DE"),
            ("Brasil", "BR"),
            ("België", "BE"),
            ("Stati Uniti", "US"),
            ("Sint Maarten", "SX"),
        ] {
            assert_eq!(country_code(text), Some(code), "{text}");
        }
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
    fn region_errors_give_an_example_of_the_country() {
        for (country, name, example) in [
            ("IT", "Italy", "(such as AG for Agrigento)"),
            ("DE", "Germany", "(such as BB for Brandenburg)"),
            ("CA", "Canada", "(such as AB for Alberta)"),
            ("US", "United States of America", "(such as AK for Alaska)"),
        ] {
            let message = parse_region("Narnia", Some(country))
                .err()
                .map(|error| error.to_string())
                .unwrap_or_default();
            assert!(message.contains(name), "{message}");
            assert!(message.ends_with(example), "{message}");
            assert!(!message.contains("Michigan") || country == "US");
        }
    }

    #[test]
    fn region_example_is_a_real_subdivision() {
        for country in COUNTRIES.iter().filter(|c| !c.subdivisions.is_empty()) {
            let example = region_example(country.alpha2).map(|example| example.code);
            assert!(example.is_some(), "{}", country.alpha2);
            let local = region_example(country.alpha2).map(|example| example.local_code());
            let found = local.and_then(|local| region_code(local, country.alpha2));
            assert_eq!(found, example, "{}", country.alpha2);
        }
    }

    #[test]
    fn region_of_country_without_regions() {
        let country = COUNTRIES.iter().find(|c| c.subdivisions.is_empty());
        let Some(country) = country else {
            return;
        };
        assert!(matches!(
            parse_region("Narnia", Some(country.alpha2)),
            Err(PlaceError::CountryWithoutRegions { .. })
        ));
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
