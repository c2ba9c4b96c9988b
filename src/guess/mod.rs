//! Guesses which customer field each column of a sheet feeds, from the
//! meaning of its header and the look of its values.
//!
//! A header is normalised into words (see [`header::HeaderWords`]) and
//! matched against words that English, French, Spanish, German, Italian,
//! Dutch and Portuguese exports use, never against whole known layouts. Words that mark a column as
//! something else win first: fax, identifiers, consent, type or label
//! columns, other people, the company. A `Group - Field` header such as
//! `Person - First name`, or a leading group word as in
//! `billing_first_name`, is read by its field part. Sampled values then
//! decide columns whose header names no field. They overrule an email or
//! phone header with extra words whose values contain no addresses or whole
//! numbers, and a name header over identifiers. They lower the confidence
//! of a header whose values disagree with it, such as a plain `Email`
//! column of invalid addresses, which stays mapped so its rows show errors.

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
    let mut fields: Vec<(Field, String)> = table
        .headers
        .iter()
        .zip(&headers)
        .map(|(text, words)| classify_header(text, words, has_geolocation))
        .collect();
    let profiles: Vec<ValueProfile> = (0..headers.len())
        .map(|column| ValueProfile::of_column(table, column))
        .collect();

    let mut guesses: Vec<ColumnGuess> = Vec::with_capacity(headers.len());
    for (column, (field, reason)) in fields.iter_mut().enumerate() {
        let header = table.headers.get(column).cloned().unwrap_or_default();
        let plain = headers[column].names_only_contact();
        let (target, confidence, reason) =
            settle_with_values(field, reason, plain, &profiles[column]);
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

/// Separators between the parts of a `Group - Field - Kind` header.
const PART_SEPARATORS: [&str; 3] = [" - ", " \u{2013} ", " \u{2014} "];

/// Classifies a header, reading the field part of a `Group - Field` or
/// `Group - Field - Kind` header (Pipedrive's `Person - First name`) on its
/// own when the group names the record rather than a field. A header that
/// starts with a group word (`billing_first_name`, `Contact Email`) is read
/// without it when the rest names a field.
fn classify_header(text: &str, words: &HeaderWords, has_geolocation: bool) -> (Field, String) {
    let whole = classify(words, has_geolocation);
    if let Some(field_words) = field_part(text) {
        let field = classify(&field_words, has_geolocation);
        // The whole header keeps an address group's qualifier (`Billing - City`).
        if matches!(field.0, Field::Address { .. }) {
            return whole;
        }
        return field;
    }
    let Some(field_words) = words.after_group() else {
        return whole;
    };
    let field = classify(&field_words, has_geolocation);
    if matches!(field.0, Field::Address { .. } | Field::Unknown) {
        return whole;
    }
    field
}

/// Returns the words after the group of a `Group - Field` header when the
/// group names the record (`Person`, `Contact`) and no field of its own.
/// A numbered group (`Address 1 - City`, `Phone 1 - Label`) is one of
/// several items, and the part after it describes that item, so it gets
/// `None`, as does a group that names a field (`Phone - Mobile`).
fn field_part(text: &str) -> Option<HeaderWords> {
    let (group, rest) = PART_SEPARATORS
        .iter()
        .filter_map(|separator| text.split_once(separator))
        .min_by_key(|(group, _)| group.len())?;
    let group = HeaderWords::new(group);
    let rest = HeaderWords::new(rest);
    let numbered = group.text_words().count() < group.words.len();
    if group.is_empty() || rest.is_empty() || numbered {
        return None;
    }
    let names_record = matches!(classify(&group, false).0, Field::Unknown | Field::FullName);
    names_record.then_some(rest)
}

/// Classifies a header by its words. Returns the field and the reason.
fn classify(words: &HeaderWords, has_geolocation: bool) -> (Field, String) {
    if words.is_empty() {
        return (Field::Unknown, "The header is empty".to_string());
    }
    if let Some(field) = classify_non_customer(words) {
        return field;
    }
    if let Some(field) = classify_contact(words) {
        return field;
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

/// Phone and email columns, and the columns about a phone number or an
/// email address that must not be read as one: extensions, country codes,
/// formats, bounces, domains and "do not contact" flags.
fn classify_contact(words: &HeaderWords) -> Option<(Field, String)> {
    let is_phone = words.has_any(PHONE);
    let is_email = !is_phone && words.has_any(EMAIL);
    if !is_phone && !is_email {
        return None;
    }
    if words.has_any(NEGATION) {
        return Some((
            Field::Ignore,
            "The column records that the customer must not be contacted, not a phone number or email address".to_string(),
        ));
    }
    if is_phone && words.has_any(PHONE_ATTRIBUTES) {
        return Some((
            Field::Ignore,
            "The column holds a part of a phone number or a fact about it, not a whole number"
                .to_string(),
        ));
    }
    if is_email && words.has_any(EMAIL_ATTRIBUTES) {
        return Some((
            Field::Ignore,
            "The column holds a fact about an email address, not the address".to_string(),
        ));
    }
    Some(if is_phone {
        (Field::Phone, "The header names a phone number".to_string())
    } else {
        (
            Field::Email,
            "The header names an email address".to_string(),
        )
    })
}

/// Consent columns, and the SMS-only and opt-out columns that look like
/// them but must not set permission to contact.
fn classify_consent(words: &HeaderWords) -> Option<(Field, String)> {
    let opt_in = words.has("opt") && words.has("in");
    let opt_out = words.has("opt") && words.has("out") || words.has_any(OPT_OUT);
    let accepts_marketing = words.has_any(ACCEPT) && words.has_any(MARKETING);
    // German joins words: `Werbeeinwilligung`, `Newslettereinwilligung`.
    let compound_consent = words
        .words
        .iter()
        .any(|word| word.ends_with("einwilligung") || word.ends_with("zustimmung"));
    // Pipedrive's `Marketing status` contains subscribed or unsubscribed, but
    // HubSpot's `Marketing contact status` is a billing tier, not consent.
    let marketing_status = words.has("marketing") && words.has("status") && !words.has("contact");
    let consent = words.has_any(CONSENT) || compound_consent || marketing_status;
    if !(consent || opt_in || opt_out || accepts_marketing) {
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
    if words.has_any(NOT_MARKETING) {
        return Some((
            Field::Ignore,
            "Consent to reminders, appointment or service messages is not consent to marketing, so it does not give permission to contact".to_string(),
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
    if words.has_any(STREET2) {
        return Some(Part::Street2);
    }
    if !words.has_any(STREET) {
        return None;
    }
    // A number right after the street word with nothing after it is a line
    // number (`Address2`, `Street Address 2`, `Business Street 3`).
    let line = words.trailing_number_after(&[
        "street",
        "address",
        "adresse",
        "line",
        "addr",
        "strasse",
        "direccion",
    ]);
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
    let about_record =
        words.has_any(RECORD_NAMES) && !words.has_any(NAME_WORDS) && words.text_words().count() > 1;
    if about_record {
        return (
            Field::Unknown,
            "The header names the customer record with other words, not the customer's name"
                .to_string(),
        );
    }
    if words.has_any(WHOLE_NAME) || words.has_any(NAME_WORDS) {
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
    plain_header: bool,
    profile: &ValueProfile,
) -> (Target, Confidence, String) {
    if let Some((new_field, target, reason)) = values_override(field, plain_header, profile) {
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

/// Returns the field the values prove when they outweigh the header.
/// An email or phone header with words beside the field's own is ignored
/// when most of its values lack an `@` or have too few digits. A plain
/// `Email` or `Phone` header stays mapped whatever its values, so that its
/// invalid values show as row errors instead of being dropped. Business
/// location ids win anywhere. Email addresses win under a name or unknown
/// header, because names never look like addresses. Identifiers and
/// contact methods (`Email`, `Phone`) under a name header are not names.
/// Formatted phone numbers win under an unknown header.
fn values_override(
    field: &Field,
    plain_header: bool,
    profile: &ValueProfile,
) -> Option<(Field, Target, &'static str)> {
    let mostly = |share: f32| profile.sampled > 0 && share >= 0.8;
    let under_half = |share: f32| profile.sampled > 0 && share < 0.5;
    if *field == Field::Email && !plain_header && under_half(profile.at_sign_share) {
        let reason = "The header names an email address, but most values have no @, so they are not addresses";
        return Some((Field::Ignore, Target::Ignore, reason));
    }
    let short_values = profile.sampled > 0 && profile.short_digits_share > 0.5;
    if *field == Field::Phone && !plain_header && short_values {
        let reason = "The header names a phone number, but most values have fewer than 6 digits, so they are not whole numbers";
        return Some((Field::Ignore, Target::Ignore, reason));
    }
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
    let not_names = mostly(profile.identifier_share) || mostly(profile.contact_method_share);
    if name_or_unknown && not_names {
        let reason = "The values are identifiers or ways of contact, not names";
        return Some((Field::Ignore, Target::Ignore, reason));
    }
    let formatted_phones = mostly(profile.phone_share) && profile.formatted_phone_share >= 0.5;
    if *field == Field::Unknown && formatted_phones {
        let reason = "The values look like phone numbers";
        return Some((Field::Phone, Target::Phone, reason));
    }
    None
}

/// Settles name columns: a French `Nom` without a `Prénom` beside it is
/// the whole name. A whole-name column beside given and family columns
/// stays mapped, because each row reads it only when its given and family
/// name cells are both empty (Thunderbird's `Display Name`).
fn resolve_names(fields: &[(Field, String)], guesses: &mut [ColumnGuess]) {
    let has_given = fields.iter().any(|(field, _)| *field == Field::Given);
    let has_family = fields.iter().any(|(field, _)| *field == Field::Family);
    for (guess, (field, _)) in guesses.iter_mut().zip(fields) {
        match field {
            Field::FamilyOrWhole if !has_given => guess.target = Target::FullName,
            Field::FullName if guess.target == Target::FullName && (has_given || has_family) => {
                guess.reason = "The header names the whole name, which a row uses only when its given and family name cells are empty".to_string();
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
