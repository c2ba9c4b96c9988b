//! Phone numbers: split when one cell contains several, extensions dropped,
//! and each number checked and written in E.164 with the `phonenumber`
//! crate (Google's libphonenumber metadata).

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::LazyLock;

use phonenumber::Mode;
use regex::Regex;

/// Reason a phone value cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error(
        "{} was converted to scientific notation by Excel and has lost digits; re-export the file with the phone column formatted as Text",
        super::quote(.value)
    )]
    ScientificNotation { value: String },
    #[error(
        "{} is not a valid phone number for {country}; check the digits and the area code, or start it with + and the country code",
        super::quote(.value)
    )]
    Invalid { value: String, country: String },
    #[error(
        "{} has no country code and the row has no country; start it with + and the country code, or set a default country",
        super::quote(.value)
    )]
    NoCountry { value: String },
    #[error(
        "{} has no country code and the row's country {} was not recognised; start the number with + and the country code, or correct the country to its name or two-letter code",
        super::quote(.value),
        super::quote(.country)
    )]
    UnknownRowCountry { value: String, country: String },
}

/// Something changed in a phone value that still reads as a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneWarning {
    #[error(
        "The extension of {} was dropped because the API has no field for extensions",
        super::quote(.value)
    )]
    ExtensionDropped { value: String },
}

/// Every number read from one cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneCell {
    /// E.164 numbers in cell order, without repeats.
    pub numbers: Vec<String>,
    pub errors: Vec<PhoneError>,
    pub warnings: Vec<PhoneWarning>,
}

/// One number read on its own, cached because parsing and validating cost
/// several microseconds each and exports repeat numbers.
type ParsedNumber = Result<(String, bool), PhoneError>;

/// Cache entries kept per thread before the cache is emptied. An entry
/// takes about 200 bytes with its strings (an estimate from the sizes of its
/// parts), so a file of distinct numbers costs each rayon worker at most
/// about 2 MB. A number seen again after the cache was emptied is only
/// parsed again.
const CACHE_CAPACITY: usize = 10_000;

thread_local! {
    static CACHE: RefCell<HashMap<(Option<String>, String), ParsedNumber>> =
        RefCell::new(HashMap::new());
}

static SCIENTIFIC: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$").ok());

/// A trailing extension: `x204`, `ext. 17`, `ext 31`, `extension 5`,
/// `#12`, `;ext=9` (the RFC 3966 form) or a bare `ext.` that
/// libphonenumber would otherwise read as the keypad digits 398.
static EXTENSION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?P<number>.*[\d)])\s*[,;]?\s*(?:ext(?:ension)?\.?|x|#)\s*=?\s*(?P<extension>\d*)\.?\s*$").ok()
});

/// Reads every number in a cell with `country` (ISO 3166-1 alpha-2) as the
/// region of numbers written without a country code. Numbers may be
/// separated by ` ::: `, `;`, `,`, ` / ` or a line break.
pub fn parse_phones(cell: &str, country: Option<&str>) -> PhoneCell {
    let mut result = PhoneCell::default();
    // `;ext=9` is an extension, so it must not be split off as a number.
    let cell = cell.replace(";ext=", " ext ").replace(";EXT=", " ext ");
    for piece in split_numbers(&cell) {
        match parse_cached(piece, country) {
            Ok((number, had_extension)) => {
                if had_extension {
                    result.warnings.push(PhoneWarning::ExtensionDropped {
                        value: piece.to_string(),
                    });
                }
                if !result.numbers.contains(&number) {
                    result.numbers.push(number);
                }
            }
            Err(error) => result.errors.push(error),
        }
    }
    result
}

fn split_numbers(cell: &str) -> Vec<&str> {
    cell.split(":::")
        .flat_map(|part| part.split(" / "))
        .flat_map(|part| part.split([';', ',', '\n', '\r']))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect()
}

fn parse_cached(text: &str, country: Option<&str>) -> ParsedNumber {
    let key = (country.map(str::to_string), text.to_string());
    if let Some(hit) = CACHE.with(|cache| cache.borrow().get(&key).cloned()) {
        return hit;
    }
    let parsed = parse_number(text, country);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, parsed.clone());
    });
    parsed
}

/// Parses one number. Returns its E.164 form and whether an extension was
/// dropped.
fn parse_number(text: &str, country: Option<&str>) -> ParsedNumber {
    let is_scientific = SCIENTIFIC
        .as_ref()
        .is_some_and(|regex| regex.is_match(text));
    if is_scientific {
        return Err(PhoneError::ScientificNotation {
            value: text.to_string(),
        });
    }

    let (number_text, had_extension) = split_extension(text);
    let region = country.and_then(|code| phonenumber::country::Id::from_str(code).ok());
    if region.is_none() && !number_text.trim_start().starts_with('+') {
        return Err(PhoneError::NoCountry {
            value: text.to_string(),
        });
    }
    let invalid = || PhoneError::Invalid {
        value: text.to_string(),
        country: country.map_or_else(|| "its country".to_string(), super::place::country_name),
    };
    let number = phonenumber::parse(region, number_text).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    let had_extension = had_extension || number.extension().is_some();
    Ok((number.format().mode(Mode::E164).to_string(), had_extension))
}

/// Splits a trailing extension off a number.
fn split_extension(text: &str) -> (&str, bool) {
    let captures = EXTENSION.as_ref().and_then(|regex| regex.captures(text));
    match captures.and_then(|captures| captures.name("number")) {
        Some(number) => (number.as_str(), true),
        None => (text, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(cell: &str, country: &str) -> Vec<String> {
        parse_phones(cell, Some(country)).numbers
    }

    #[test]
    fn national_forms_become_e164() {
        for text in [
            "(313) 555-0142",
            "313.555.0142",
            "+1 313 555 0142",
            "1-313-555-0142",
            "3135550142",
        ] {
            assert_eq!(numbers(text, "US"), ["+13135550142"], "{text}");
        }
        assert_eq!(numbers("0491 570 156", "AU"), ["+61491570156"]);
        assert_eq!(numbers("02079460123", "GB"), ["+442079460123"]);
    }

    #[test]
    fn extensions_are_dropped_with_a_warning() {
        for text in [
            "(313) 555-0101 x204",
            "+1 313-555-0101 ext. 17",
            "313.555.0101;ext=9",
            "313-555-0101 ext.",
            "313 555 0101 ext 31",
        ] {
            let cell = parse_phones(text, Some("US"));
            assert_eq!(cell.numbers, ["+13135550101"], "{text}");
            assert!(cell.errors.is_empty(), "{text}: {:?}", cell.errors);
            assert_eq!(cell.warnings.len(), 1, "{text}");
        }
    }

    #[test]
    fn several_numbers_in_one_cell() {
        assert_eq!(
            numbers("313-555-0101 ::: 313-555-0102", "US"),
            ["+13135550101", "+13135550102"]
        );
        assert_eq!(
            numbers("313-555-0103 / 313-555-0104", "US"),
            ["+13135550103", "+13135550104"]
        );
        assert_eq!(
            numbers("313-555-0105; 313-555-0105", "US"),
            ["+13135550105"]
        );
    }

    #[test]
    fn scientific_notation_is_an_error() {
        let cell = parse_phones("3.13556E+09", Some("US"));
        assert!(cell.numbers.is_empty());
        assert_eq!(
            cell.errors,
            [PhoneError::ScientificNotation {
                value: "3.13556E+09".to_string()
            }]
        );
        assert!(cell.errors[0].to_string().contains("formatted as Text"));
    }

    #[test]
    fn short_number_is_invalid() {
        let cell = parse_phones("555-0123", Some("US"));
        assert!(cell.numbers.is_empty());
        assert_eq!(cell.errors.len(), 1);
        let message = cell.errors[0].to_string();
        assert!(message.contains("\"555-0123\""), "{message}");
        assert!(message.contains("United States"), "{message}");
    }

    #[test]
    fn no_country_needs_a_plus() {
        assert_eq!(numbers("+61 491 570 156", ""), ["+61491570156"]);
        let cell = parse_phones("3135550142", None);
        assert!(matches!(cell.errors[..], [PhoneError::NoCountry { .. }]));
    }
}
