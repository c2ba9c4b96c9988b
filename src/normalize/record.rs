//! Builds the customer of one record from the cells its mapping names,
//! collecting an [`Issue`] for every value that cannot be read or was
//! changed.

use crate::check::{Attribute, CheckOptions, Issue, RowCheck, Severity};
use crate::customer::{Address, Customer};
use crate::fields::{Mapping, Target};
use crate::table::Record;
use compact_str::CompactString;

use super::address::split_address;
use super::consent::parse_consent;
use super::email::parse_emails;
use super::name::{clean_name, split_full_name};
use super::phone::{PhoneError, parse_phones};
use super::place::{PlaceError, country_code, parse_country, parse_region};
use super::tags::parse_tags;
use super::{MAX_CELL_CHARS, clean_cell, collapse_spaces, dedup_keep_order, excess_length, quote};

/// The columns of one address group, by part.
#[derive(Debug, Clone, Default)]
struct GroupColumns {
    group: u8,
    street1: Vec<usize>,
    street2: Vec<usize>,
    city: Vec<usize>,
    region: Vec<usize>,
    country: Vec<usize>,
    one_cell: Vec<usize>,
}

impl GroupColumns {
    fn all(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts().chain(self.one_cell.iter().copied())
    }

    fn parts(&self) -> impl Iterator<Item = usize> + '_ {
        [
            &self.street1,
            &self.street2,
            &self.city,
            &self.region,
            &self.country,
        ]
        .into_iter()
        .flatten()
        .copied()
    }
}

/// A mapping regrouped by target, built once per table so each record is
/// read without searching the mapping again.
#[derive(Debug, Clone, Default)]
pub struct ColumnPlan {
    given: Vec<usize>,
    family: Vec<usize>,
    full_name: Vec<usize>,
    phones: Vec<usize>,
    emails: Vec<usize>,
    tags: Vec<usize>,
    consent: Vec<usize>,
    location: Vec<usize>,
    /// Address groups in the order of their first column.
    groups: Vec<GroupColumns>,
    /// Every mapped column with the attribute its problems are filed under.
    mapped: Vec<(usize, Attribute)>,
}

impl ColumnPlan {
    pub fn new(mapping: &Mapping) -> Self {
        let mut plan = Self::default();
        for (column, target) in mapping.targets.iter().enumerate() {
            if let Some(attribute) = attribute_of(*target) {
                plan.mapped.push((column, attribute));
            }
            match *target {
                Target::Ignore => {}
                Target::GivenName => plan.given.push(column),
                Target::FamilyName => plan.family.push(column),
                Target::FullName => plan.full_name.push(column),
                Target::Phone => plan.phones.push(column),
                Target::Email => plan.emails.push(column),
                Target::Tags => plan.tags.push(column),
                Target::Consent => plan.consent.push(column),
                Target::Location => plan.location.push(column),
                Target::Street1 { group } => plan.group(group).street1.push(column),
                Target::Street2 { group } => plan.group(group).street2.push(column),
                Target::City { group } => plan.group(group).city.push(column),
                Target::Region { group } => plan.group(group).region.push(column),
                Target::Country { group } => plan.group(group).country.push(column),
                Target::Address { group } => plan.group(group).one_cell.push(column),
            }
        }
        plan
    }

    fn group(&mut self, group: u8) -> &mut GroupColumns {
        let index = match self
            .groups
            .iter()
            .position(|columns| columns.group == group)
        {
            Some(index) => index,
            None => {
                self.groups.push(GroupColumns {
                    group,
                    ..GroupColumns::default()
                });
                self.groups.len() - 1
            }
        };
        &mut self.groups[index]
    }
}

/// Returns the attribute under which problems of a column mapped to
/// `target` are filed, or `None` for an ignored column.
fn attribute_of(target: Target) -> Option<Attribute> {
    let attribute = match target {
        Target::Ignore => return None,
        Target::GivenName | Target::FullName => Attribute::GivenName,
        Target::FamilyName => Attribute::FamilyName,
        Target::Phone => Attribute::PhoneNumbers,
        Target::Email => Attribute::EmailAddresses,
        Target::Tags => Attribute::Tags,
        Target::Consent => Attribute::PermissionToContact,
        Target::Location => Attribute::Location,
        Target::Street1 { .. }
        | Target::Street2 { .. }
        | Target::City { .. }
        | Target::Region { .. }
        | Target::Country { .. }
        | Target::Address { .. } => Attribute::Address,
    };
    Some(attribute)
}

/// The record being read and the issues found so far.
struct RowReader<'a> {
    record: &'a Record,
    options: &'a CheckOptions,
    issues: Vec<Issue>,
    /// Columns whose cell is longer than [`MAX_CELL_CHARS`], which read as
    /// empty.
    too_long: Vec<usize>,
    /// Text of the row's country cell when it is not a known country.
    unknown_country: Option<String>,
}

impl RowReader<'_> {
    fn cell(&self, column: usize) -> String {
        if self.too_long.contains(&column) {
            return String::new();
        }
        clean_cell(self.record.get(column))
    }

    /// Files an error on each mapped cell longer than [`MAX_CELL_CHARS`] and
    /// sets it aside, so no normaliser spends time on it.
    fn reject_long_cells(&mut self, plan: &ColumnPlan) {
        for &(column, attribute) in &plan.mapped {
            let raw = self.record.get(column);
            if excess_length(raw).is_none() {
                continue;
            }
            self.too_long.push(column);
            self.push(
                Severity::Error,
                attribute,
                Some(column),
                format!(
                    "{} is longer than a customer field can be (at most {MAX_CELL_CHARS} \
                     characters), so the cell was not read; check that the column holds what \
                     its header says, then shorten the value or ignore the column",
                    quote(raw)
                ),
            );
        }
    }

    /// Returns the first non-empty cell among `columns`, with its column.
    fn first_value(&self, columns: &[usize]) -> Option<(usize, String)> {
        columns
            .iter()
            .map(|&column| (column, self.cell(column)))
            .find(|(_, text)| !text.is_empty())
    }

    fn push(
        &mut self,
        severity: Severity,
        attribute: Attribute,
        column: Option<usize>,
        message: String,
    ) {
        // The boxed text drops the spare capacity `format!` leaves, because
        // every issue stays in memory for the preview.
        self.issues.push(Issue {
            severity,
            attribute,
            column,
            message: message.into(),
        });
    }

    fn default_country(&self) -> Option<&str> {
        self.options
            .default_country
            .as_deref()
            .filter(|code| !code.is_empty())
    }
}

/// Returns the options with the default country as an ISO 3166-1 alpha-2
/// code in upper case, so `us`, ` US ` and `Canada` all work. An unknown
/// country is kept as typed, in upper case, and then matches no region or
/// phone metadata.
pub fn normalize_options(options: &CheckOptions) -> CheckOptions {
    let default_country = options
        .default_country
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            super::place::country_code(text)
                .map_or_else(|| text.to_ascii_uppercase(), str::to_string)
        });
    CheckOptions { default_country }
}

/// Reads one record into the customer it would send. `options` must come
/// from [`normalize_options`].
pub fn read_record(record: &Record, plan: &ColumnPlan, options: &CheckOptions) -> RowCheck {
    let mut reader = RowReader {
        record,
        options,
        issues: Vec::new(),
        too_long: Vec::new(),
        unknown_country: None,
    };
    reader.reject_long_cells(plan);
    let mut customer = Customer::default();
    read_names(&reader, plan, &mut customer);
    customer.address = read_address(&mut reader, plan);
    let phone_country = customer
        .address
        .as_ref()
        .and_then(|address| address.country_code.clone())
        .or_else(|| reader.default_country().map(CompactString::new));
    customer.phone_numbers = read_phones(&mut reader, plan, phone_country.as_deref());
    customer.email_addresses = read_emails(&mut reader, plan);
    customer.tags = plan
        .tags
        .iter()
        .flat_map(|&column| parse_tags(&reader.cell(column)))
        .map(|tag| CompactString::new(&tag))
        .collect();
    dedup_keep_order(&mut customer.tags);
    // Checked rows stay in memory for the preview, and a list grown from
    // empty has room for four entries, so every list of a row is shrunk to
    // its length.
    customer.tags.shrink_to_fit();
    customer.permission_to_contact = read_consent(&mut reader, plan);
    let location = read_location(&mut reader, plan);

    if !customer.has_contact() {
        reader.push(
            Severity::Error,
            Attribute::Contact,
            None,
            "The row has no email address and no phone number; add at least one, because the API needs one to create a customer".to_string(),
        );
    }
    reader.issues.shrink_to_fit();
    RowCheck {
        row: record.row,
        customer,
        location,
        issues: reader.issues,
    }
}

/// Fills the given and family name: separate name columns win, and a whole
/// name is split only when they are empty.
fn read_names(reader: &RowReader<'_>, plan: &ColumnPlan, customer: &mut Customer) {
    customer.given_name = reader
        .first_value(&plan.given)
        .and_then(|(_, text)| clean_name(&text))
        .map(compact);
    customer.family_name = reader
        .first_value(&plan.family)
        .and_then(|(_, text)| clean_name(&text))
        .map(compact);
    if customer.given_name.is_some() || customer.family_name.is_some() {
        return;
    }
    if let Some((_, text)) = reader.first_value(&plan.full_name) {
        let parts = split_full_name(&text);
        customer.given_name = parts.given.map(compact);
        customer.family_name = parts.family.map(compact);
    }
}

/// Reads the first address group, in column order, that has any value. A
/// whole-address cell and the group's separate part columns are combined
/// part by part.
fn read_address(reader: &mut RowReader<'_>, plan: &ColumnPlan) -> Option<Address> {
    let group = plan
        .groups
        .iter()
        .find(|group| group.all().any(|column| !reader.cell(column).is_empty()))?;
    let separate = group_parts(reader, group);
    let raw = match one_cell_parts(reader, group, &separate) {
        Some(cell) => merge_parts(cell, separate),
        None => separate,
    };
    let address = resolve_address(reader, raw);
    (!address.is_empty()).then_some(address)
}

/// Address text read from the cells, before countries and regions are
/// turned into codes. Each text comes with the column it was read from.
#[derive(Debug, Default)]
struct RawAddress {
    street: Option<String>,
    city: Option<String>,
    region: Option<(usize, String)>,
    country: Option<(usize, String)>,
}

fn joined(reader: &RowReader<'_>, columns: &[usize], separator: &str) -> Option<String> {
    joined_with(reader, columns, separator, collapse_spaces)
}

/// Joins the cells of `columns`, each read through `clean`, with
/// `separator`, leaving out cells that `clean` makes empty.
fn joined_with(
    reader: &RowReader<'_>,
    columns: &[usize],
    separator: &str,
    clean: fn(&str) -> String,
) -> Option<String> {
    let values: Vec<String> = columns
        .iter()
        .map(|&column| clean(&reader.cell(column)))
        .filter(|text| !text.is_empty())
        .collect();
    (!values.is_empty()).then(|| values.join(separator))
}

/// Returns the street text of one cell. A line break inside the cell
/// separates two street lines (`400 Market St` above `Suite 210`), so it
/// becomes `, `, like the break between street line 1 and line 2.
fn street_lines(text: &str) -> String {
    text.lines()
        .map(collapse_spaces)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn group_parts(reader: &RowReader<'_>, group: &GroupColumns) -> RawAddress {
    let line1 = joined_with(reader, &group.street1, " ", street_lines);
    let line2 = joined_with(reader, &group.street2, ", ", street_lines);
    let street = match (line1, line2) {
        (Some(line1), Some(line2)) => Some(format!("{line1}, {line2}")),
        (line1, line2) => line1.or(line2),
    };
    RawAddress {
        street,
        city: joined(reader, &group.city, " "),
        region: reader.first_value(&group.region),
        country: reader.first_value(&group.country),
    }
}

/// Splits the group's whole-address cell, or returns `None` when it has
/// none. A separate country column, when filled, is the country its
/// regions are read against.
fn one_cell_parts(
    reader: &RowReader<'_>,
    group: &GroupColumns,
    separate: &RawAddress,
) -> Option<RawAddress> {
    let (column, text) = reader.first_value(&group.one_cell)?;
    let country = separate
        .country
        .as_ref()
        .and_then(|(_, text)| country_code(text))
        .or(reader.default_country());
    let parts = split_address(&text, country);
    Some(RawAddress {
        street: parts.street,
        city: parts.city,
        region: parts.region.map(|region| (column, region)),
        country: parts.country.map(|country| (column, country)),
    })
}

/// Combines a whole-address cell with the separate part columns of its
/// group. A filled part column wins, and the cell gives the parts they
/// leave empty, so a cell `12 Elm St` beside a state column still gives
/// the street. When the city column names a city that the cell's last part
/// does not contain, that part belongs to the street (`Calle Mayor 12, 3º
/// B` beside a city column `Madrid`). A cell that only repeats the part
/// columns gives no street.
fn merge_parts(cell: RawAddress, separate: RawAddress) -> RawAddress {
    let mut street = cell.street;
    if let (Some(cell_city), Some(city)) = (&cell.city, &separate.city)
        && !cell_city.to_lowercase().contains(&city.to_lowercase())
    {
        street = Some(match street {
            Some(street) => format!("{street}, {cell_city}"),
            None => cell_city.clone(),
        });
    }
    if street
        .as_deref()
        .is_some_and(|street| repeats_parts(street, &separate))
    {
        street = None;
    }
    RawAddress {
        street: separate.street.or(street),
        city: separate.city.or(cell.city),
        region: separate.region.or(cell.region),
        country: separate.country.or(cell.country),
    }
}

/// Returns whether every word of a cell is a word of the separate city,
/// region or country columns (`Laval QC` beside `Laval` and `QC`).
fn repeats_parts(text: &str, separate: &RawAddress) -> bool {
    let known = [
        separate.city.as_deref(),
        separate.region.as_ref().map(|(_, text)| text.as_str()),
        separate.country.as_ref().map(|(_, text)| text.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<&str>>()
    .join(" ")
    .to_lowercase();
    let known_words: Vec<&str> = known.split_whitespace().collect();
    let text = text.to_lowercase();
    !known_words.is_empty()
        && text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|word| !word.is_empty())
            .all(|word| known_words.contains(&word))
}

/// Turns the country and region into ISO codes. The default country fills
/// in only when the row has some other address part.
fn resolve_address(reader: &mut RowReader<'_>, raw: RawAddress) -> Address {
    let mut address = Address {
        street_address: raw.street.map(compact),
        city: raw.city.map(compact),
        ..Address::default()
    };
    if let Some((column, text)) = &raw.country {
        match parse_country(text) {
            Ok(code) => address.country_code = Some(CompactString::new(code)),
            Err(error) => {
                reader.unknown_country = Some(text.clone());
                reader.push(
                    Severity::Error,
                    Attribute::Address,
                    Some(*column),
                    error.to_string(),
                );
            }
        }
    }
    let has_other_part =
        address.street_address.is_some() || address.city.is_some() || raw.region.is_some();
    if address.country_code.is_none() && raw.country.is_none() && has_other_part {
        address.country_code = reader
            .default_country()
            .map(|code| CompactString::new(code.to_ascii_uppercase()));
    }
    if let Some((column, text)) = &raw.region {
        let parsed = match (&address.country_code, &raw.country) {
            // The country cell already has its own error, and the region
            // error points at it instead of asking for a country.
            (None, Some((_, country))) => Err(PlaceError::RegionOfUnknownCountry {
                value: text.clone(),
                country: country.clone(),
            }),
            (country_code, _) => parse_region(text, country_code.as_deref()),
        };
        match parsed {
            Ok(code) => address.region_code = Some(CompactString::new(code)),
            Err(error) => reader.push(
                Severity::Error,
                Attribute::Address,
                Some(*column),
                error.to_string(),
            ),
        }
    }
    address
}

fn read_phones(
    reader: &mut RowReader<'_>,
    plan: &ColumnPlan,
    country: Option<&str>,
) -> Vec<CompactString> {
    let mut numbers = Vec::new();
    for &column in &plan.phones {
        let text = reader.cell(column);
        if text.is_empty() {
            continue;
        }
        let cell = parse_phones(&text, country);
        numbers.extend(cell.numbers.into_iter().map(compact));
        for error in cell.errors {
            // A number without a country code fails for want of a country,
            // and the message names the country that was not recognised.
            let error = match (error, &reader.unknown_country) {
                (PhoneError::NoCountry { value }, Some(country)) => PhoneError::UnknownRowCountry {
                    value,
                    country: country.clone(),
                },
                (error, _) => error,
            };
            reader.push(
                Severity::Error,
                Attribute::PhoneNumbers,
                Some(column),
                error.to_string(),
            );
        }
        for warning in cell.warnings {
            reader.push(
                Severity::Warning,
                Attribute::PhoneNumbers,
                Some(column),
                warning.to_string(),
            );
        }
    }
    dedup_keep_order(&mut numbers);
    numbers.shrink_to_fit();
    numbers
}

fn read_emails(reader: &mut RowReader<'_>, plan: &ColumnPlan) -> Vec<CompactString> {
    let mut addresses = Vec::new();
    for &column in &plan.emails {
        let text = reader.cell(column);
        if text.is_empty() {
            continue;
        }
        let (valid, errors) = parse_emails(&text);
        addresses.extend(valid.into_iter().map(compact));
        for error in errors {
            reader.push(
                Severity::Error,
                Attribute::EmailAddresses,
                Some(column),
                error.to_string(),
            );
        }
    }
    dedup_keep_order(&mut addresses);
    addresses.shrink_to_fit();
    addresses
}

/// Reads consent. Any column that grants it wins, and a word no rule covers
/// leaves it unknown (`None`) with a warning. No consent column means no
/// consent.
fn read_consent(reader: &mut RowReader<'_>, plan: &ColumnPlan) -> Option<bool> {
    let mut consent = Some(false);
    for &column in &plan.consent {
        let text = reader.cell(column);
        match parse_consent(&text) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => {
                reader.push(
                    Severity::Warning,
                    Attribute::PermissionToContact,
                    Some(column),
                    format!("{} is not a consent answer this importer reads (such as yes or no); permission to contact is left unset", quote(&text)),
                );
                consent = None;
            }
        }
    }
    consent
}

/// Reads the business location id (`AG-` and letters or digits).
fn read_location(reader: &mut RowReader<'_>, plan: &ColumnPlan) -> Option<String> {
    let (column, text) = reader.first_value(&plan.location)?;
    if is_location_id(&text) {
        return Some(text.to_ascii_uppercase());
    }
    reader.push(
        Severity::Error,
        Attribute::Location,
        Some(column),
        format!(
            "{} is not a business location id (such as AG-1234ABCD); correct it or clear the cell",
            quote(&text)
        ),
    );
    None
}

/// Copies a value into a `CompactString` of its own length. Converting
/// the `String` itself would keep a long value's spare capacity.
fn compact(text: String) -> CompactString {
    CompactString::new(&text)
}

/// Returns whether a value is a business location id such as `AG-1234ABCD`.
pub fn is_location_id(text: &str) -> bool {
    let Some(rest) = text
        .get(..3)
        .filter(|prefix| prefix.eq_ignore_ascii_case("AG-"))
        .and(text.get(3..))
    else {
        return false;
    };
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> Record {
        Record::new(2, cells)
    }

    fn read(targets: Vec<Target>, cells: &[&str]) -> RowCheck {
        let options = CheckOptions {
            default_country: Some("CA".to_string()),
        };
        read_record(
            &record(cells),
            &ColumnPlan::new(&Mapping { targets }),
            &options,
        )
    }

    fn error_attributes(row: &RowCheck) -> Vec<Attribute> {
        row.issues
            .iter()
            .filter(|issue| issue.severity == Severity::Error)
            .map(|issue| issue.attribute)
            .collect()
    }

    #[test]
    fn first_address_group_with_a_value_wins() {
        let targets = vec![
            Target::Email,
            Target::City { group: 1 },
            Target::Street1 { group: 2 },
            Target::City { group: 2 },
            Target::Region { group: 2 },
        ];
        let row = read(
            targets.clone(),
            &["a@example.com", "", "1 Rue Rachel", "Montréal", "QC"],
        );
        let address = row.customer.address.unwrap_or_default();
        assert_eq!(address.street_address.as_deref(), Some("1 Rue Rachel"));
        assert_eq!(address.region_code.as_deref(), Some("CA-QC"));
        assert_eq!(address.country_code.as_deref(), Some("CA"));

        let row = read(
            targets,
            &["a@example.com", "Regina", "1 Rue Rachel", "Montréal", "QC"],
        );
        let address = row.customer.address.unwrap_or_default();
        assert_eq!(address.city.as_deref(), Some("Regina"));
        assert_eq!(address.street_address, None);
    }

    #[test]
    fn street_lines_join_with_comma() {
        let targets = vec![
            Target::Phone,
            Target::Street1 { group: 1 },
            Target::Street2 { group: 1 },
        ];
        let row = read(targets, &["416 555 0142", "12 Elm St", "Unit 4"]);
        let street = row
            .customer
            .address
            .and_then(|address| address.street_address);
        assert_eq!(street.as_deref(), Some("12 Elm St, Unit 4"));
    }

    #[test]
    fn line_break_in_street_cell_joins_with_comma() {
        let targets = vec![Target::Phone, Target::Street1 { group: 1 }];
        let row = read(targets, &["416 555 0142", "400 Market St\r\n  Suite 210\n"]);
        let street = row
            .customer
            .address
            .and_then(|address| address.street_address);
        assert_eq!(street.as_deref(), Some("400 Market St, Suite 210"));
    }

    fn address_of(row: RowCheck) -> Address {
        row.customer.address.unwrap_or_default()
    }

    #[test]
    fn whole_address_keeps_street_beside_parts() {
        let targets = vec![
            Target::Email,
            Target::Address { group: 1 },
            Target::City { group: 1 },
            Target::Region { group: 1 },
            Target::Country { group: 1 },
        ];
        let cases = [
            (["12 Elm St", "", "MI", "US"], "12 Elm St", None, "US-MI"),
            (
                ["12 Elm St", "Detroit", "", "United States"],
                "12 Elm St",
                Some("Detroit"),
                "",
            ),
            (
                ["Calle Mayor 12, 3º B", "Madrid", "", "Spain"],
                "Calle Mayor 12, 3º B",
                Some("Madrid"),
                "",
            ),
            (
                [
                    "Calle Mayor 12, Alcalá de Henares",
                    "ALCALÁ DE HENARES",
                    "",
                    "ES",
                ],
                "Calle Mayor 12",
                Some("ALCALÁ DE HENARES"),
                "",
            ),
            (
                [
                    "3037 Prairie Ct\nSaskatoon sk S7Y 7S6\nca",
                    "Saskatoon",
                    "sk",
                    "ca",
                ],
                "3037 Prairie Ct",
                Some("Saskatoon"),
                "CA-SK",
            ),
            (
                ["9 Prairie Rd, Regina, SK", "", "", "Canada"],
                "9 Prairie Rd",
                Some("Regina"),
                "CA-SK",
            ),
        ];
        for (cells, street, city, region) in cases {
            let row = read(targets.clone(), &[&["a@example.com"][..], &cells].concat());
            let address = address_of(row);
            assert_eq!(address.street_address.as_deref(), Some(street), "{cells:?}");
            assert_eq!(address.city.as_deref(), city, "{cells:?}");
            let region = (!region.is_empty()).then_some(region);
            assert_eq!(address.region_code.as_deref(), region, "{cells:?}");
        }
    }

    #[test]
    fn whole_address_repeating_parts_is_no_street() {
        let targets = vec![
            Target::Email,
            Target::Address { group: 1 },
            Target::City { group: 1 },
            Target::Region { group: 1 },
        ];
        let row = read(targets, &["a@example.com", "Laval QC", "Laval", "QC"]);
        let address = address_of(row);
        assert_eq!(address.street_address, None);
        assert_eq!(address.city.as_deref(), Some("Laval"));
        assert_eq!(address.region_code.as_deref(), Some("CA-QC"));
    }

    #[test]
    fn whole_address_alone_is_street() {
        let targets = vec![Target::Email, Target::Address { group: 1 }];
        let address = address_of(read(targets, &["a@example.com", "Calle Mayor 12"]));
        assert_eq!(address.street_address.as_deref(), Some("Calle Mayor 12"));
        assert_eq!(address.city, None);
        assert_eq!(address.country_code.as_deref(), Some("CA"));
    }

    #[test]
    fn whole_address_regions_use_country_column() {
        let targets = vec![
            Target::Email,
            Target::Address { group: 1 },
            Target::Country { group: 1 },
        ];
        let row = read(targets, &["a@example.com", "1 Main St, Fresno, CA", "US"]);
        let address = address_of(row);
        assert_eq!(address.city.as_deref(), Some("Fresno"));
        assert_eq!(address.region_code.as_deref(), Some("US-CA"));
        assert_eq!(address.country_code.as_deref(), Some("US"));
    }

    #[test]
    fn region_of_unknown_country_points_at_country() {
        let targets = vec![
            Target::Email,
            Target::Region { group: 1 },
            Target::Country { group: 1 },
        ];
        for country in ["Atlantis", "Narnia"] {
            let row = read(targets.clone(), &["a@example.com", "TI", country]);
            let messages: Vec<String> = row
                .issues
                .iter()
                .map(|issue| issue.message.to_string())
                .collect();
            assert_eq!(messages.len(), 2, "{messages:?}");
            assert!(messages[0].contains("is not a country"), "{messages:?}");
            assert!(
                messages[1].contains(&format!("country \"{country}\" was not recognised")),
                "{messages:?}"
            );
            assert!(!messages[1].contains("default country"), "{messages:?}");
        }
    }

    #[test]
    fn empty_address_cells_give_no_address() {
        let row = read(
            vec![Target::Email, Target::City { group: 1 }],
            &["a@example.com", ""],
        );
        assert_eq!(row.customer.address, None);
    }

    #[test]
    fn unknown_region_is_an_address_error() {
        let row = read(
            vec![Target::Email, Target::Region { group: 1 }],
            &["a@example.com", "Narnia"],
        );
        assert_eq!(error_attributes(&row), [Attribute::Address]);
        assert_eq!(row.issues[0].column, Some(1));
    }

    #[test]
    fn whole_name_used_only_without_name_columns() {
        let targets = vec![Target::Email, Target::GivenName, Target::FullName];
        let row = read(targets.clone(), &["a@example.com", "Ana", "Smith, Bo"]);
        assert_eq!(row.customer.given_name.as_deref(), Some("Ana"));
        assert_eq!(row.customer.family_name, None);
        let row = read(targets, &["a@example.com", "", "Smith, Bo"]);
        assert_eq!(row.customer.given_name.as_deref(), Some("Bo"));
        assert_eq!(row.customer.family_name.as_deref(), Some("Smith"));
    }

    #[test]
    fn phones_use_the_row_country() {
        let targets = vec![Target::Phone, Target::Country { group: 1 }];
        let row = read(targets, &["0491 570 156", "Australia"]);
        assert_eq!(row.customer.phone_numbers, ["+61491570156"]);
    }

    #[test]
    fn phone_of_unknown_country_points_at_country() {
        let targets = vec![Target::Phone, Target::Country { group: 1 }];
        let options = CheckOptions::default();
        let row = read_record(
            &record(&["079 123 45 67", "Atlantis"]),
            &ColumnPlan::new(&Mapping { targets }),
            &options,
        );
        let phone_messages: Vec<String> = row
            .issues
            .iter()
            .filter(|issue| issue.attribute == Attribute::PhoneNumbers)
            .map(|issue| issue.message.to_string())
            .collect();
        assert_eq!(phone_messages.len(), 1, "{phone_messages:?}");
        assert!(
            phone_messages[0].contains("country \"Atlantis\" was not recognised"),
            "{phone_messages:?}"
        );
        assert!(!phone_messages[0].contains("default country"));
    }

    #[test]
    fn default_country_accepts_names_and_case() {
        for text in ["us", " US ", "United States"] {
            let options = CheckOptions {
                default_country: Some(text.to_string()),
            };
            assert_eq!(
                normalize_options(&options).default_country.as_deref(),
                Some("US"),
                "{text}"
            );
        }
    }

    #[test]
    fn consent_reads_any_yes() {
        let targets = vec![Target::Email, Target::Consent, Target::Consent];
        assert_eq!(
            read(targets.clone(), &["a@example.com", "no", "yes"])
                .customer
                .permission_to_contact,
            Some(true)
        );
        assert_eq!(
            read(targets.clone(), &["a@example.com", "", "no"])
                .customer
                .permission_to_contact,
            Some(false)
        );
        let unknown = read(targets, &["a@example.com", "maybe", ""]);
        assert_eq!(unknown.customer.permission_to_contact, None);
        assert!(unknown.has_warnings());
        assert!(unknown.is_ready());
        assert_eq!(
            read(vec![Target::Email], &["a@example.com"])
                .customer
                .permission_to_contact,
            Some(false)
        );
    }

    #[test]
    fn no_contact_is_an_error() {
        let row = read(vec![Target::FullName, Target::Email], &["Ana Smith", ""]);
        assert_eq!(error_attributes(&row), [Attribute::Contact]);
        let row = read(
            vec![Target::FullName, Target::Email],
            &["Ana Smith", "nope"],
        );
        assert_eq!(
            error_attributes(&row),
            [Attribute::EmailAddresses, Attribute::Contact]
        );
    }

    #[test]
    fn long_cell_is_an_error_at_its_column() {
        let name = "A".repeat(100_000);
        let row = read(
            vec![Target::GivenName, Target::Email],
            &[&name, "a@example.com"],
        );
        assert_eq!(error_attributes(&row), [Attribute::GivenName]);
        assert_eq!(row.issues[0].column, Some(0));
        assert_eq!(row.customer.given_name, None);
        let message = row.issues[0].message.to_string();
        assert!(message.contains("(100000 characters)"), "{message}");
        assert!(message.len() < 400, "{message}");
    }

    #[test]
    fn long_email_is_not_read() {
        let email = format!("{}@example.com", "a".repeat(100_000));
        let row = read(vec![Target::Email], &[&email]);
        assert_eq!(
            error_attributes(&row),
            [Attribute::EmailAddresses, Attribute::Contact]
        );
        assert!(row.customer.email_addresses.is_empty());
        assert!(
            row.issues
                .iter()
                .all(|issue| issue.message.to_string().len() < 400)
        );
    }

    #[test]
    fn cell_at_the_limit_is_read() {
        let name = "A".repeat(MAX_CELL_CHARS);
        let row = read(
            vec![Target::GivenName, Target::Email],
            &[&name, "a@example.com"],
        );
        assert!(row.is_ready());
        assert_eq!(row.customer.given_name.as_deref(), Some(name.as_str()));
    }

    #[test]
    fn long_ignored_cell_is_no_error() {
        let notes = "x".repeat(100_000);
        let row = read(
            vec![Target::Email, Target::Ignore],
            &["a@example.com", &notes],
        );
        assert!(row.issues.is_empty());
    }

    #[test]
    fn location_ids() {
        assert!(is_location_id("AG-1234ABCD"));
        assert!(is_location_id("ag-99zz"));
        assert!(!is_location_id("AG-"));
        assert!(!is_location_id("Main store"));
    }
}
