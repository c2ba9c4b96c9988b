//! Guesses which customer field each column of a sheet feeds, from the
//! meaning of its header and the look of its values.
//!
//! A header is normalised into words (see [`header::HeaderWords`]) and
//! matched against words that English, French, Spanish and German exports
//! use, never against whole known layouts. Words that mark a column as
//! something else win first: fax, identifiers, consent, type or label
//! columns, other people, the company. Sampled values then decide columns
//! whose header names no field and lower the confidence of a header whose
//! values disagree with it.

pub mod header;
mod values;

use crate::fields::{Mapping, Target};
use crate::table::Table;

use header::*;
use values::ValueProfile;

/// Confidence of a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// Values disagree with the header, or only a weak hint decided.
    Low,
    /// Only the header or only the values decided.
    Medium,
    /// The header names the field and the values agree.
    High,
}

/// The guess for one column, with its reason for the mapping screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnGuess {
    pub column: usize,
    pub header: String,
    pub target: Target,
    pub confidence: Confidence,
    /// Sentence that explains why this target was chosen.
    pub reason: String,
}

/// The guessed mapping of a sheet and the guess behind each column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingGuess {
    pub mapping: Mapping,
    pub columns: Vec<ColumnGuess>,
}

/// Guesses the target of every column of a table.
pub fn guess_mapping(table: &Table) -> Mapping {
    guess_columns(table).mapping
}

/// Part of an address a column contains, before groups are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Street1,
    Street2,
    /// Header with only the word "address": a street line when its group has a city
    /// column, else a whole address in one cell.
    StreetOrWhole,
    Whole,
    City,
    Region,
    Country,
}

/// Field that a header alone names for its column.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Ignore,
    Given,
    Family,
    /// A word that is a family name beside a given-name column and a whole
    /// name otherwise (French `Nom`).
    FamilyOrWhole,
    FullName,
    Phone,
    Email,
    Tags,
    Consent,
    Address {
        group_key: String,
        part: Part,
    },
    /// The header names no field, so the values decide.
    Unknown,
}

/// Guesses the target of every column, with a reason and a confidence for
/// each.
pub fn guess_columns(table: &Table) -> MappingGuess {
    let headers: Vec<HeaderWords> = table
        .headers
        .iter()
        .map(|text| HeaderWords::new(text))
        .collect();
    let has_geolocation = headers.iter().any(|words| words.has_any(GEOLOCATION));
    let mut fields: Vec<(Field, String)> = headers
        .iter()
        .map(|words| classify(words, has_geolocation))
        .collect();
    let profiles: Vec<ValueProfile> = (0..headers.len())
        .map(|column| ValueProfile::of_column(table, column))
        .collect();

    let mut guesses: Vec<ColumnGuess> = Vec::with_capacity(headers.len());
    for (column, (field, reason)) in fields.iter_mut().enumerate() {
        let header = table.headers.get(column).cloned().unwrap_or_default();
        let (target, confidence, reason) = settle_with_values(field, reason, &profiles[column]);
        guesses.push(ColumnGuess {
            column,
            header,
            target,
            confidence,
            reason,
        });
    }
    resolve_names(&fields, &mut guesses);
    resolve_addresses(&fields, &mut guesses);

    let mapping = Mapping {
        targets: guesses.iter().map(|guess| guess.target).collect(),
    };
    MappingGuess {
        mapping,
        columns: guesses,
    }
}

/// Classifies a header by its words. Returns the field and the reason.
fn classify(words: &HeaderWords, has_geolocation: bool) -> (Field, String) {
    if words.is_empty() {
        return (Field::Unknown, "The header is empty".to_string());
    }
    if let Some(field) = classify_non_customer(words) {
        return field;
    }
    if words.has_any(PHONE) {
        return (Field::Phone, "The header names a phone number".to_string());
    }
    if words.has_any(EMAIL) {
        return (
            Field::Email,
            "The header names an email address".to_string(),
        );
    }
    if words.has_any(COMPANY) || words.has("business") && words.has("name") {
        return (
            Field::Ignore,
            "The customer's company has no field in the API".to_string(),
        );
    }
    if words.has_any(TAGS) || words.only(&["label"]) {
        let reason = "The header names tags, labels, categories or groups";
        return (Field::Tags, reason.to_string());
    }
    if let Some(field) = classify_address(words, has_geolocation) {
        return field;
    }
    classify_name(words)
}

/// Recognises the columns that must win before any field word is read:
/// fax numbers, identifiers, dates, consent, columns that describe another
/// column (`E-mail Type`, `Phone 1 - Label`) and other people's details.
fn classify_non_customer(words: &HeaderWords) -> Option<(Field, String)> {
    let ignore = |reason: &str| Some((Field::Ignore, reason.to_string()));
    if words.has_any(FAX) {
        return ignore(
            "Fax numbers cannot take calls or text messages, so they are not sent as phone numbers",
        );
    }
    if words.has_any(IDENTIFIER) {
        return ignore("Identifiers of the old system have no customer field");
    }
    // Dates, times and IP addresses of an opt-in are not the opt-in itself.
    if words.has_any(RECORD_META) {
        return ignore("The column records when, where or how often, not a customer detail");
    }
    if let Some(field) = classify_consent(words) {
        return Some(field);
    }
    let describes_other_column = words.has_any(META)
        || words.has("display") && words.has_any(EMAIL)
        || words.has_any(&["label", "labels"])
            && words.text_words().count() > 1
            && !words.has("group");
    if describes_other_column {
        return ignore(
            "The column describes a value or the record rather than holding a customer detail",
        );
    }
    if words.has_any(OTHER_PERSON) {
        return ignore("The column is about someone other than the customer");
    }
    None
}

/// Consent columns, and the SMS-only and opt-out columns that look like
/// them but must not set permission to contact.
fn classify_consent(words: &HeaderWords) -> Option<(Field, String)> {
    let opt_in = words.has("opt") && words.has("in");
    let opt_out = words.has("opt") && words.has("out") || words.has_any(OPT_OUT);
    let accepts_marketing = words.has_any(&["accepts", "accept"]) && words.has("marketing");
    if !(words.has_any(CONSENT) || opt_in || opt_out || accepts_marketing) {
        return None;
    }
    if opt_out {
        return Some((
            Field::Ignore,
            "An opt-out column reads the other way round from consent, so it does not set permission to contact".to_string(),
        ));
    }
    if words.has_any(SMS) {
        return Some((
            Field::Ignore,
            "Consent to text messages alone does not give permission to contact".to_string(),
        ));
    }
    Some((
        Field::Consent,
        "The header names consent to marketing".to_string(),
    ))
}

/// Address parts, each with the key of its group: a qualifier such as
/// business or home and the number of Google's `Address N - ...` columns.
fn classify_address(words: &HeaderWords, has_geolocation: bool) -> Option<(Field, String)> {
    let postal_code = words.has_any(&["postal", "post"]) && words.has_any(&["code", "codigo"]);
    if words.has_any(POSTAL) || postal_code {
        return Some((
            Field::Ignore,
            "Postal codes and post-office boxes have no field in the API".to_string(),
        ));
    }
    let part = address_part(words)?;
    let qualifier = ADDRESS_QUALIFIERS
        .iter()
        .find(|(word, _)| words.has(word))
        .map(|(_, key)| *key)
        .unwrap_or("");
    let group_number = words
        .number_after(&["address", "adresse", "direccion"])
        .filter(|&(_, next)| next < words.words.len())
        .map(|(number, _)| number.to_string())
        .unwrap_or_default();
    let bare_part =
        qualifier.is_empty() && group_number.is_empty() && words.text_words().count() == 1;
    if has_geolocation && bare_part && matches!(part, Part::Region | Part::Country) {
        return Some((
            Field::Ignore,
            "Beside latitude and time-zone columns this is where the subscriber's IP address was, not the postal address".to_string(),
        ));
    }
    let group_key = format!("{qualifier}{group_number}");
    Some((
        Field::Address { group_key, part },
        "The header names a part of a postal address".to_string(),
    ))
}

fn address_part(words: &HeaderWords) -> Option<Part> {
    if words.has_any(COUNTRY) {
        return Some(Part::Country);
    }
    // A bare `St` header is the state in US exports, because a street column is
    // headed `Street`.
    if words.has_any(REGION) || words.only(&["st"]) {
        return Some(Part::Region);
    }
    if words.has_any(CITY) {
        return Some(Part::City);
    }
    if words.has("formatted") {
        return Some(Part::Whole);
    }
    if words.has("extended") {
        return Some(Part::Street2);
    }
    if !words.has_any(STREET) {
        return None;
    }
    // A number right after the street word with nothing after it is a line
    // number (`Address2`, `Street Address 2`, `Business Street 3`).
    let line = words
        .number_after(&[
            "street",
            "address",
            "adresse",
            "line",
            "addr",
            "strasse",
            "direccion",
        ])
        .filter(|&(_, next)| next >= words.words.len())
        .map(|(number, _)| number);
    Some(match line {
        Some(1) => Part::Street1,
        Some(_) => Part::Street2,
        None if words.has_any(&["street", "strasse", "calle", "rue", "line", "str"]) => {
            Part::Street1
        }
        None => Part::StreetOrWhole,
    })
}

fn classify_name(words: &HeaderWords) -> (Field, String) {
    if words.has_any(OTHER_NAME_PARTS) {
        return (
            Field::Ignore,
            "This part of a name has no field in the API".to_string(),
        );
    }
    let plain = words.only(&["first", "last", "name", "names"]);
    if words.has_any(GIVEN) && !words.has_any(&["completo", "full"]) || plain && words.has("first")
    {
        return (
            Field::Given,
            "The header names a given (first) name".to_string(),
        );
    }
    if words.has_any(FAMILY) || plain && words.has("last") {
        return (
            Field::Family,
            "The header names a family (last) name".to_string(),
        );
    }
    if words.only(&["nom"]) {
        return (
            Field::FamilyOrWhole,
            "In French exports \"Nom\" is the family name beside \"Prénom\", else the whole name"
                .to_string(),
        );
    }
    if words.has_any(WHOLE_NAME) || words.has_any(&["completo", "complet", "full"]) {
        return (
            Field::FullName,
            "The header names the customer's whole name".to_string(),
        );
    }
    (
        Field::Unknown,
        "No customer field matches this header".to_string(),
    )
}

/// Turns a header's field into a target, letting the values decide a
/// column whose header names no field and lowering the confidence when they
/// disagree. Address parts get their group later.
fn settle_with_values(
    field: &mut Field,
    reason: &str,
    profile: &ValueProfile,
) -> (Target, Confidence, String) {
    if let Some((new_field, target, reason)) = values_override(field, profile) {
        *field = new_field;
        let confidence = if target == Target::Location {
            Confidence::High
        } else {
            Confidence::Medium
        };
        return (target, confidence, reason.to_string());
    }
    let agree = |share: f32| {
        if profile.sampled == 0 || share >= 0.5 {
            Confidence::High
        } else {
            Confidence::Low
        }
    };
    let (target, confidence) = match field {
        Field::Phone => (Target::Phone, agree(profile.phone_share)),
        Field::Email => (Target::Email, agree(profile.email_share)),
        Field::Given => (Target::GivenName, Confidence::High),
        Field::Family => (Target::FamilyName, Confidence::High),
        Field::FamilyOrWhole => (Target::FamilyName, Confidence::Medium),
        Field::FullName => (Target::FullName, Confidence::High),
        Field::Tags => (Target::Tags, Confidence::High),
        Field::Consent => (Target::Consent, Confidence::High),
        Field::Unknown | Field::Ignore | Field::Address { .. } => {
            (Target::Ignore, Confidence::High)
        }
    };
    (target, confidence, reason.to_string())
}

/// Returns the field the values prove when they outweigh the header:
/// business location ids anywhere, email addresses under a name or unknown
/// header (names never look like addresses), and formatted phone numbers
/// under an unknown header.
fn values_override(field: &Field, profile: &ValueProfile) -> Option<(Field, Target, &'static str)> {
    let mostly = |share: f32| profile.sampled > 0 && share >= 0.8;
    if mostly(profile.location_share) {
        let reason = "The values are business location ids (AG-...)";
        return Some((Field::Ignore, Target::Location, reason));
    }
    let name_or_unknown = matches!(
        field,
        Field::Unknown | Field::FullName | Field::Given | Field::Family | Field::FamilyOrWhole
    );
    if name_or_unknown && mostly(profile.email_share) {
        let reason = "The values look like email addresses";
        return Some((Field::Email, Target::Email, reason));
    }
    let formatted_phones = mostly(profile.phone_share) && profile.formatted_phone_share >= 0.5;
    if *field == Field::Unknown && formatted_phones {
        let reason = "The values look like phone numbers";
        return Some((Field::Phone, Target::Phone, reason));
    }
    None
}

/// Separate given and family columns win over whole-name columns; a French
/// `Nom` without a `Prénom` beside it is the whole name.
fn resolve_names(fields: &[(Field, String)], guesses: &mut [ColumnGuess]) {
    let has_given = fields.iter().any(|(field, _)| *field == Field::Given);
    let has_family = fields.iter().any(|(field, _)| *field == Field::Family);
    for (guess, (field, _)) in guesses.iter_mut().zip(fields) {
        match field {
            Field::FamilyOrWhole if !has_given => guess.target = Target::FullName,
            Field::FullName if has_given || has_family => {
                guess.target = Target::Ignore;
                guess.reason =
                    "Separate given and family name columns are used instead of the whole name"
                        .to_string();
            }
            _ => {}
        }
    }
}

/// Numbers address groups in column order and settles columns that say
/// only "address": a street line when the group has a city, else a whole
/// address in one cell.
fn resolve_addresses(fields: &[(Field, String)], guesses: &mut [ColumnGuess]) {
    let mut group_keys: Vec<&str> = Vec::new();
    for (field, _) in fields {
        if let Field::Address { group_key, .. } = field
            && !group_keys.contains(&group_key.as_str())
        {
            group_keys.push(group_key);
        }
    }
    let group_has = |key: &str, wanted: Part| {
        fields.iter().any(|(field, _)| {
            matches!(field, Field::Address { group_key, part } if group_key == key && *part == wanted)
        })
    };
    for (guess, (field, _)) in guesses.iter_mut().zip(fields) {
        let Field::Address { group_key, part } = field else {
            continue;
        };
        let position = group_keys
            .iter()
            .position(|key| key == group_key)
            .unwrap_or(0);
        let group = u8::try_from(position + 1).unwrap_or(u8::MAX);
        guess.target = match part {
            Part::Street1 => Target::Street1 { group },
            Part::Street2 => Target::Street2 { group },
            Part::StreetOrWhole
                if group_has(group_key, Part::City) && !group_has(group_key, Part::Street1) =>
            {
                Target::Street1 { group }
            }
            Part::StreetOrWhole | Part::Whole => {
                guess.reason = "The header names a whole postal address in one cell".to_string();
                Target::Address { group }
            }
            Part::City => Target::City { group },
            Part::Region => Target::Region { group },
            Part::Country => Target::Country { group },
        };
    }
}

#[cfg(test)]
mod tests;
