//! A whole postal address written in one cell, split into its parts.
//!
//! Two layouts are read: parts separated by commas or line breaks
//! (`12 Elm St, Detroit, MI 48201, US`, as QuickBooks and Google write
//! them) and parts separated by two or more spaces (`2738 Walnut Road  Edmonton
//! AB  T4B 4P6  CA`, as Mailchimp writes them). Parts are recognised from
//! the end: country, postal code, region, city, and what remains is the
//! street. A postal code written before or after the city, as most of
//! Europe writes it (`111 51 Stockholm`, `75001 Paris`, `Cambridge CB2 1TH`),
//! is taken off the city. A cell that does not split at all is one street
//! line.

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

/// Postal codes clear enough to take off a city name. They are 4 to 8
/// digits in one or two groups (`75001`, `111 51`, `00-950`, `01310-100`),
/// optionally after a country prefix (`D-10115`, `CH-8001`). The Dutch
/// `1012 AB` and the British and Canadian letter-digit codes (`SW1A 1AA`,
/// `H2X 1Y4`) are read too.
static CLEAR_POSTAL_CODE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            (?:[a-z]{1,2}-)?(?:\d{4,8}|\d{2,5}[\ -]\d{2,4})
            | \d{4}\ ?[a-z]{2}
            | [a-z]{1,2}\d[a-z\d]?\ ?\d[a-z]{2}
            | [a-z]\d[a-z]\ ?\d[a-z]\d
        )$",
    )
    .ok()
});

/// Splits a one-cell address. `default_country` (ISO 3166-1 alpha-2) is
/// used to recognise a region when the cell names no country.
pub fn split_address(cell: &str, default_country: Option<&str>) -> AddressParts {
    let mut parts = split_parts(cell);
    let mut result = AddressParts::default();
    if parts.len() <= 1 {
        result.street = parts.pop();
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
    // NOTE: a city that is also a subdivision name of its country, such as
    // `London SW1A 2AA` (GB-LND) or `Paris 75001` (FR-75C), is read here as
    // the region, and the address gets no city.
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
/// the last part is the city and the parts before it the street. A postal
/// code is taken off the city, and a part that is only a postal code is
/// dropped. A single part is the street when it starts or ends with a
/// house number, else the city.
fn assign_street_and_city(mut parts: Vec<String>, result: &mut AddressParts) {
    if parts.len() > 1
        && let Some(index) = parts
            .iter()
            .skip(1)
            .position(|part| is_clear_postal_code(part))
    {
        let postal_code = parts.remove(index + 1);
        result.postal_code.get_or_insert(postal_code);
    }
    match parts.len() {
        0 => {}
        1 => {
            let part = parts.remove(0);
            if has_house_number(&part) {
                result.street = Some(part);
            } else {
                assign_city(part, result);
            }
        }
        _ => {
            if let Some(city) = parts.pop() {
                assign_city(city, result);
            }
            result.street = Some(parts.join(", "));
        }
    }
}

/// Sets the city, without a clear postal code written before or after it.
/// A city part made only of such a code is kept as the postal code.
fn assign_city(part: String, result: &mut AddressParts) {
    match split_city_postal(&part) {
        Some((city, postal_code)) => {
            result.city = Some(city);
            result.postal_code.get_or_insert(postal_code);
        }
        None if is_clear_postal_code(&part) => {
            result.postal_code.get_or_insert(part);
        }
        None => result.city = Some(part),
    }
}

/// Splits `111 51 Stockholm`, `75001 Paris` or `Cambridge CB2 1TH` into
/// the city and the postal code. Returns `None` when the part has no clear
/// postal code at its start or end, or nothing besides one, so a city name
/// with digits in it (`29 Palms`) is kept whole.
fn split_city_postal(part: &str) -> Option<(String, String)> {
    let words: Vec<&str> = part.split_whitespace().collect();
    for length in [2, 1] {
        if words.len() <= length {
            continue;
        }
        let leading = words[..length].join(" ");
        if is_clear_postal_code(&leading) {
            return Some((words[length..].join(" "), leading));
        }
        let trailing = words[words.len() - length..].join(" ");
        if is_clear_postal_code(&trailing) {
            return Some((words[..words.len() - length].join(" "), trailing));
        }
    }
    None
}

fn is_clear_postal_code(text: &str) -> bool {
    CLEAR_POSTAL_CODE
        .as_ref()
        .is_some_and(|regex| regex.is_match(text.trim()))
}

/// Returns whether a part starts or ends with a house number such as `12`,
/// `12a` or `5-7` (`12 Elm St`, `Hauptstr. 5`, `Calle Mayor 12`).
fn has_house_number(part: &str) -> bool {
    let is_number = |word: &str| {
        word.starts_with(|c: char| c.is_ascii_digit())
            && word
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '/')
    };
    let mut words = part.split_whitespace();
    let first = words.next();
    let last = words.next_back().or(first);
    first.is_some_and(is_number) || last.is_some_and(is_number)
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
            split_address("Hauptstr. 5, 10115", Some("DE")),
            parts("Hauptstr. 5", "", "", "10115", "")
        );
        assert_eq!(
            split_address("Ottawa, Ontario, CA", Some("US")),
            parts("", "Ottawa", "Ontario", "", "CA")
        );
    }

    #[test]
    fn unsplit_cell_is_street() {
        for (cell, country) in [
            ("12 Elm St", "US"),
            ("Calle Mayor 12", "ES"),
            ("Rue du Marché", "FR"),
            ("Flat 3  ", "GB"),
            ("Hobart", "AU"),
        ] {
            assert_eq!(
                split_address(cell, Some(country)),
                parts(cell.trim(), "", "", "", ""),
                "{cell}"
            );
        }
        assert_eq!(split_address("  ", Some("US")), parts("", "", "", "", ""));
    }

    #[test]
    fn postal_code_before_or_after_city() {
        let cases = [
            (
                "Drottninggatan 5, 111 51 Stockholm, Sweden",
                parts("Drottninggatan 5", "Stockholm", "", "111 51", "Sweden"),
            ),
            (
                "12 rue de Rivoli, 75001 Paris, France",
                parts("12 rue de Rivoli", "Paris", "", "75001", "France"),
            ),
            (
                "Hauptstr. 5, 10115 Berlin",
                parts("Hauptstr. 5", "Berlin", "", "10115", ""),
            ),
            (
                "Bahnhofstrasse 1, CH-8001 Zürich, Switzerland",
                parts("Bahnhofstrasse 1", "Zürich", "", "CH-8001", "Switzerland"),
            ),
            (
                "Damrak 1, 1012 LG Amsterdam",
                parts("Damrak 1", "Amsterdam", "", "1012 LG", ""),
            ),
            (
                "ul. Marszałkowska 1, 00-950 Warszawa, Poland",
                parts("ul. Marszałkowska 1", "Warszawa", "", "00-950", "Poland"),
            ),
            (
                "1 Trinity St, Cambridge CB2 1TH, United Kingdom",
                parts("1 Trinity St", "Cambridge", "", "CB2 1TH", "United Kingdom"),
            ),
            (
                "12 rue de Rivoli, 75001, Paris",
                parts("12 rue de Rivoli", "Paris", "", "75001", ""),
            ),
            (
                "Drottninggatan 5  111 51 Stockholm  Sweden",
                parts("Drottninggatan 5", "Stockholm", "", "111 51", "Sweden"),
            ),
        ];
        for (cell, expected) in cases {
            assert_eq!(split_address(cell, Some("US")), expected, "{cell}");
        }
    }

    #[test]
    fn city_with_digits_is_kept() {
        assert_eq!(
            split_address("73 Adobe Rd, 29 Palms, CA 92277", Some("US")),
            parts("73 Adobe Rd", "29 Palms", "CA", "92277", "")
        );
        assert_eq!(
            split_address("5 Main St, Springfield 2", Some("US")),
            parts("5 Main St", "Springfield 2", "", "", "")
        );
        assert_eq!(
            split_address("12 Elm St, Apt 3B, Detroit", Some("US")),
            parts("12 Elm St, Apt 3B", "Detroit", "", "", "")
        );
    }
}
