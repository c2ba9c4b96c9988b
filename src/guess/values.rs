//! Profiles of the values of a column, from a sample of its non-empty
//! cells.

use crate::normalize::clean_cell;
use crate::normalize::email::normalize_email;
use crate::normalize::record::is_location_id;
use crate::table::Table;

use super::header::CONTACT_METHODS;

/// Non-empty cells read per column; enough to tell the kind of values
/// without reading a whole large file.
const SAMPLE_SIZE: usize = 200;

/// Minimum number of digits of a value that can be a phone number.
/// Extensions (`204`) and country codes (`+1`) have fewer.
// NOTE: a few small countries (Niue, Saint Helena) have shorter national
// numbers, so a column of only those would be ignored.
pub const MIN_PHONE_DIGITS: usize = 6;

/// Shares of a column's sampled values that look like each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ValueProfile {
    /// Number of non-empty cells sampled.
    pub sampled: usize,
    pub email_share: f32,
    pub phone_share: f32,
    /// Share of phone-like values written with a `+`, spaces or
    /// punctuation, which an identifier column does not have.
    pub formatted_phone_share: f32,
    /// Share of values with an `@`, valid addresses or not.
    pub at_sign_share: f32,
    /// Share of values with fewer than [`MIN_PHONE_DIGITS`] digits, such as
    /// extensions, country codes and flags.
    pub short_digits_share: f32,
    pub location_share: f32,
    /// Share of GUIDs and long hex or digit strings, which no name is.
    pub identifier_share: f32,
    /// Share of values that name a way of contact (`Email`, `Phone`).
    pub contact_method_share: f32,
}

impl ValueProfile {
    /// Samples the first non-empty cells of a column. A cell too long to
    /// be a customer field is left out of the sample: the check rejects it
    /// anyway, and scanning megabytes of one cell would slow the guess.
    pub fn of_column(table: &Table, column: usize) -> Self {
        let values: Vec<String> = table
            .records
            .iter()
            .map(|record| record.get(column))
            .filter(|raw| crate::normalize::excess_length(raw).is_none())
            .map(clean_cell)
            .filter(|text| !text.is_empty())
            .take(SAMPLE_SIZE)
            .collect();
        if values.is_empty() {
            return Self::default();
        }
        let share = |count: usize| count as f32 / values.len() as f32;
        let phones: Vec<&String> = values
            .iter()
            .filter(|text| looks_like_phone(text))
            .collect();
        let formatted = phones
            .iter()
            .filter(|text| text.chars().any(|c| !c.is_ascii_digit()))
            .count();
        Self {
            sampled: values.len(),
            email_share: share(values.iter().filter(|text| looks_like_email(text)).count()),
            phone_share: share(phones.len()),
            formatted_phone_share: share(formatted),
            at_sign_share: share(values.iter().filter(|text| text.contains('@')).count()),
            short_digits_share: share(
                values
                    .iter()
                    .filter(|text| digit_count(text) < MIN_PHONE_DIGITS)
                    .count(),
            ),
            location_share: share(values.iter().filter(|text| is_location_id(text)).count()),
            identifier_share: share(
                values
                    .iter()
                    .filter(|text| looks_like_identifier(text))
                    .count(),
            ),
            contact_method_share: share(
                values
                    .iter()
                    .filter(|text| CONTACT_METHODS.contains(&text.to_lowercase().as_str()))
                    .count(),
            ),
        }
    }
}

fn digit_count(text: &str) -> usize {
    text.chars().filter(char::is_ascii_digit).count()
}

/// Returns whether a cell is a GUID or a string of at least 8 hex digits
/// with a digit among them (`6f1d2c3a-90b1-...`, `4711000123`). The digit
/// keeps short all-letter names such as `Abbe` or `Dee` out.
fn looks_like_identifier(text: &str) -> bool {
    let compact: Vec<char> = text
        .chars()
        .filter(|c| !matches!(c, '-' | '{' | '}'))
        .collect();
    compact.len() >= 8
        && compact.iter().all(char::is_ascii_hexdigit)
        && compact.iter().any(char::is_ascii_digit)
}

/// Returns whether a cell contains at least one valid-looking email address.
fn looks_like_email(text: &str) -> bool {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(|token| token.trim_matches(|c: char| c == '<' || c == '>'))
        .any(|token| token.contains('@') && normalize_email(token).is_some())
}

/// Returns whether a cell looks like a phone number: 7 to 15 digits with
/// only the characters people write numbers with, or Excel's scientific
/// notation of a long number.
fn looks_like_phone(text: &str) -> bool {
    let text = text.split(":::").next().unwrap_or("").trim();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./xXeE".contains(c) || c.is_ascii_whitespace());
    allowed
        && !looks_like_date(text)
        && ((7..=15).contains(&digits) || text.contains(['e', 'E']) && digits >= 3)
}

/// Returns whether a value starts like a date (`2023-12-12`, `12/31/2023`,
/// `31.12.2023`), which has as many digits as a phone number.
fn looks_like_date(text: &str) -> bool {
    let fields: Vec<&str> = text
        .split(|c: char| c == '-' || c == '/' || c == '.' || c.is_whitespace())
        .take(3)
        .collect();
    let lengths: Vec<usize> = fields.iter().map(|field| field.len()).collect();
    let numeric = fields
        .iter()
        .all(|field| !field.is_empty() && field.chars().all(|c| c.is_ascii_digit()));
    numeric
        && matches!(
            lengths.as_slice(),
            [4, 1 | 2, 1 | 2] | [1 | 2, 1 | 2, 2 | 4]
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_like_values() {
        assert!(looks_like_phone("(313) 555-0142"));
        assert!(looks_like_phone("+1 313 555 0142 x12"));
        assert!(looks_like_phone("3.13556E+09"));
        assert!(!looks_like_phone("12 Elm St"));
        assert!(!looks_like_phone("2000"));
        assert!(!looks_like_phone("2023-12-12 17:12:00"));
        assert!(!looks_like_phone("12/31/2023"));
    }

    #[test]
    fn email_like_values() {
        assert!(looks_like_email("ana@example.com"));
        assert!(looks_like_email("<a@example.com> ::: <b@example.com>"));
        assert!(!looks_like_email("Ana Smith"));
    }
}
