//! A whole postal address written in one cell, split into its parts.
//!
//! Two layouts are read: parts separated by commas or line breaks
//! (`12 Elm St, Detroit, MI 48201, US`, as QuickBooks and Google write
//! them) and parts separated by two or more spaces (`2738 Walnut Road  Edmonton
//! AB  T4B 4P6  CA`, as Mailchimp writes them). Parts are recognised from
//! the end: country, postal code, region, city, and what remains is the
//! street.

use std::sync::LazyLock;

use regex::Regex;

use super::place::{country_code, region_code};

/// The parts of a one-cell address, as text still to be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressParts {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

static WIDE_GAP: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\s{2,}|\t").ok());

/// Splits a one-cell address. `default_country` (ISO 3166-1 alpha-2) is
/// used to recognise a region when the cell names no country.
pub fn split_address(cell: &str, default_country: Option<&str>) -> AddressParts {
    let mut parts = split_parts(cell);
    let mut result = AddressParts::default();
    if parts.is_empty() {
        return result;
    }

    if let Some(country) = take_country(&mut parts, default_country) {
        result.country = Some(country);
    }
    let country = result
        .country
        .as_deref()
        .and_then(country_code)
        .or(default_country);

    if parts.len() > 1 && parts.last().is_some_and(|part| is_postal_code(part)) {
        result.postal_code = parts.pop();
    }
    if parts.len() > 1
        && let Some(last) = parts.last()
        && let Some((region, postal_code)) = split_region_postal(last, country)
    {
        result.region = Some(region);
        result.postal_code = result.postal_code.or(postal_code);
        parts.pop();
    }

    assign_street_and_city(parts, &mut result);
    result
}

/// Reads what remains once country, postal code and region are taken off:
/// the last part is the city and the parts before it the street. A single
/// part is the street when it starts with a house number, else the city.
fn assign_street_and_city(mut parts: Vec<String>, result: &mut AddressParts) {
    match parts.len() {
        0 => {}
        1 => {
            let part = parts.remove(0);
            if part.starts_with(|c: char| c.is_ascii_digit()) {
                result.street = Some(part);
            } else {
                result.city = Some(part);
            }
        }
        _ => {
            result.city = parts.pop();
            result.street = Some(parts.join(", "));
        }
    }
}

/// Cuts the cell into parts: on line breaks and commas when it has any,
/// else on gaps of two or more spaces.
fn split_parts(cell: &str) -> Vec<String> {
    let cell = cell.trim();
    let pieces: Vec<&str> = if cell.contains([',', '\n']) {
        cell.split([',', '\n', '\r']).collect()
    } else {
        match WIDE_GAP.as_ref() {
            Some(regex) => regex.split(cell).collect(),
            None => vec![cell],
        }
    };
    pieces
        .into_iter()
        .map(super::collapse_spaces)
        .filter(|piece| !piece.is_empty())
        .collect()
}

/// Takes the last part off as the country when it names one. A part that
/// is also a region of the default country (`CA` is Canada and California)
/// stays a region unless a postal code or region comes before it.
fn take_country(parts: &mut Vec<String>, default_country: Option<&str>) -> Option<String> {
    if parts.len() < 2 {
        return None;
    }
    let last = parts.last()?;
    country_code(last)?;
    let before = &parts[parts.len() - 2];
    let also_region = default_country.is_some_and(|country| region_code(last, country).is_some());
    let before_is_region_or_postal = is_postal_code(before)
        || default_country
            .is_some_and(|country| split_region_postal(before, Some(country)).is_some())
        || country_code(last)
            .is_some_and(|country| split_region_postal(before, Some(country)).is_some());
    if also_region && !before_is_region_or_postal {
        return None;
    }
    parts.pop()
}

/// Reads `REGION` or `REGION POSTAL` (`MI 48201`, `New Brunswick E9R 5T3`)
/// against a country. Returns the region text and the postal code.
fn split_region_postal(part: &str, country: Option<&str>) -> Option<(String, Option<String>)> {
    let country = country?;
    let words: Vec<&str> = part.split_whitespace().collect();
    for length in (1..=words.len()).rev() {
        let region = words[..length].join(" ");
        let rest = words[length..].join(" ");
        if region_code(&region, country).is_none() {
            continue;
        }
        if rest.is_empty() {
            return Some((region, None));
        }
        if is_postal_code(&rest) {
            return Some((region, Some(rest)));
        }
    }
    None
}

/// Returns whether a part looks like a postal code: one or two words, each
/// with a digit, ten characters at most (`48201`, `T4B 4P6`, `SW1A 1AA`).
fn is_postal_code(part: &str) -> bool {
    let words: Vec<&str> = part.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= 2
        && part.len() <= 10
        && words.iter().all(|word| {
            word.chars().any(|c| c.is_ascii_digit())
                && word.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(street: &str, city: &str, region: &str, postal: &str, country: &str) -> AddressParts {
        let some = |text: &str| (!text.is_empty()).then(|| text.to_string());
        AddressParts {
            street: some(street),
            city: some(city),
            region: some(region),
            postal_code: some(postal),
            country: some(country),
        }
    }

    #[test]
    fn comma_form() {
        assert_eq!(
            split_address("12 Elm St, Detroit, MI 48201", Some("US")),
            parts("12 Elm St", "Detroit", "MI", "48201", "")
        );
        assert_eq!(
            split_address("9 Prairie Rd, Regina, SK S4P 3Y2, Canada", Some("US")),
            parts("9 Prairie Rd", "Regina", "SK", "S4P 3Y2", "Canada")
        );
        assert_eq!(
            split_address("2819 Spring Ct, Suite 628, Charlotte, NC 27009", Some("US")),
            parts("2819 Spring Ct, Suite 628", "Charlotte", "NC", "27009", "")
        );
    }

    #[test]
    fn line_break_form() {
        assert_eq!(
            split_address(
                "6466 Prairie Blvd\nMoncton, New Brunswick E9R 5T3\nca",
                Some("US")
            ),
            parts(
                "6466 Prairie Blvd",
                "Moncton",
                "New Brunswick",
                "E9R 5T3",
                "ca"
            )
        );
        assert_eq!(
            split_address("Ottawa, Ontario\nCA", Some("US")),
            parts("", "Ottawa", "Ontario", "", "CA")
        );
    }

    #[test]
    fn wide_gap_form() {
        assert_eq!(
            split_address("2738 Walnut Road  Edmonton  AB  T4B 4P6  CA", Some("US")),
            parts("2738 Walnut Road", "Edmonton", "AB", "T4B 4P6", "CA")
        );
        assert_eq!(
            split_address("7848 Walnut Blvd  San Francisco  CA  92083  US", Some("US")),
            parts("7848 Walnut Blvd", "San Francisco", "CA", "92083", "US")
        );
    }

    #[test]
    fn ca_stays_california_without_region() {
        assert_eq!(
            split_address("1 Main St, Fresno, CA", Some("US")),
            parts("1 Main St", "Fresno", "CA", "", "")
        );
    }

    #[test]
    fn single_part_is_street_or_city() {
        assert_eq!(
            split_address("12 Elm St", Some("US")),
            parts("12 Elm St", "", "", "", "")
        );
        assert_eq!(
            split_address("Hobart", Some("AU")),
            parts("", "Hobart", "", "", "")
        );
    }
}
