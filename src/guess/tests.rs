//! Unit tests of the guesser on inline headers and values.

use std::path::PathBuf;

use super::*;
use crate::table::{Record, SourceFormat, SourceInfo};

fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
    Table {
        source: SourceInfo {
            path: PathBuf::from("inline.csv"),
            format: SourceFormat::Csv {
                encoding: "UTF-8".to_string(),
                delimiter: b',',
            },
            sheet: None,
            sheets: Vec::new(),
            fingerprint: String::new(),
        },
        headers: headers.iter().map(|header| header.to_string()).collect(),
        header_row: 1,
        records: rows
            .iter()
            .enumerate()
            .map(|(index, cells)| Record::new(index as u32 + 2, *cells))
            .collect(),
        notes: Vec::new(),
    }
}

fn targets(headers: &[&str]) -> Vec<Target> {
    guess_mapping(&table(headers, &[])).targets
}

fn target_of(header: &str) -> Target {
    targets(&[header])[0]
}

#[test]
fn names_in_four_languages() {
    for header in [
        "First Name",
        "Given Name",
        "Prénom",
        "Vorname",
        "Nombre",
        "first_name",
        "FIRST",
    ] {
        assert_eq!(target_of(header), Target::GivenName, "{header}");
    }
    for header in [
        "Last Name",
        "Family Name",
        "Surname",
        "Nachname",
        "Apellidos",
        "Last",
    ] {
        assert_eq!(target_of(header), Target::FamilyName, "{header}");
    }
    for header in ["Name", "Full Name", "Customer", "Nombre completo"] {
        assert_eq!(target_of(header), Target::FullName, "{header}");
    }
}

#[test]
fn french_nom_depends_on_prenom() {
    assert_eq!(
        targets(&["Prénom", "Nom"]),
        [Target::GivenName, Target::FamilyName]
    );
    assert_eq!(
        targets(&["Nom", "Courriel"]),
        [Target::FullName, Target::Email]
    );
}

#[test]
fn separate_names_win_over_whole_name() {
    assert_eq!(
        targets(&["Name", "Given Name", "Family Name"]),
        [Target::Ignore, Target::GivenName, Target::FamilyName]
    );
}

#[test]
fn emails_and_phones_with_numbering() {
    for header in [
        "Email",
        "E-mail",
        "E-mail 2 Address",
        "E-mail 1 - Value",
        "Courriel",
        "Correo electrónico",
        "E-Mail",
    ] {
        assert_eq!(target_of(header), Target::Email, "{header}");
    }
    for header in [
        "Phone",
        "Phone 4",
        "Phone_1",
        "Phone 1 - Value",
        "Téléphone",
        "Cellulaire",
        "Handy",
        "Telefon",
        "Mobile Phone",
        "Cell",
    ] {
        assert_eq!(target_of(header), Target::Phone, "{header}");
    }
}

#[test]
fn traps_never_map_to_email_or_phone() {
    for header in [
        "E-mail Type",
        "E-mail Display Name",
        "E-mail 1 - Label",
        "E-mail 1 - Type",
        "Phone 1 - Type",
        "Phone 1 - Label",
        "Marketing contact status",
        "Business Fax",
        "Home Fax",
        "Customer ID",
        "Record ID",
        "Accepts SMS Marketing",
        "Email Opt Out",
        "Assistant's Phone",
    ] {
        assert_eq!(target_of(header), Target::Ignore, "{header}");
    }
}

#[test]
fn consent_columns() {
    for header in [
        "Accepts Email Marketing",
        "Accepts Marketing",
        "Email subscriber status",
        "Email Subscription Status",
        "Opt-in",
        "Permission",
    ] {
        assert_eq!(target_of(header), Target::Consent, "{header}");
    }
}

#[test]
fn tags_columns() {
    for header in ["Tags", "Labels", "Categories", "Group Membership", "Groups"] {
        assert_eq!(target_of(header), Target::Tags, "{header}");
    }
    assert_eq!(target_of("Relation 1 - Label"), Target::Ignore);
}

#[test]
fn outlook_groups_in_column_order() {
    let found = targets(&[
        "Business Street",
        "Business City",
        "Home Street",
        "Home Street 2",
        "Home State",
        "Home Country/Region",
    ]);
    assert_eq!(
        found,
        [
            Target::Street1 { group: 1 },
            Target::City { group: 1 },
            Target::Street1 { group: 2 },
            Target::Street2 { group: 2 },
            Target::Region { group: 2 },
            Target::Country { group: 2 },
        ]
    );
}

#[test]
fn google_numbered_groups() {
    let found = targets(&[
        "Address 1 - Street",
        "Address 1 - City",
        "Address 2 - City",
        "Address 1 - Postal Code",
        "Address 1 - Formatted",
        "Address 1 - Label",
    ]);
    assert_eq!(
        found,
        [
            Target::Street1 { group: 1 },
            Target::City { group: 1 },
            Target::City { group: 2 },
            Target::Ignore,
            Target::Address { group: 1 },
            Target::Ignore,
        ]
    );
}

#[test]
fn shopify_line_numbers_are_not_groups() {
    let found = targets(&[
        "Default Address Address1",
        "Default Address Address2",
        "Default Address City",
        "Default Address Province Code",
        "Default Address Country Code",
        "Default Address Zip",
        "Default Address Phone",
    ]);
    assert_eq!(
        found,
        [
            Target::Street1 { group: 1 },
            Target::Street2 { group: 1 },
            Target::City { group: 1 },
            Target::Region { group: 1 },
            Target::Country { group: 1 },
            Target::Ignore,
            Target::Phone,
        ]
    );
}

#[test]
fn one_cell_addresses() {
    assert_eq!(
        targets(&["Billing Address", "Shipping Address"]),
        [Target::Address { group: 1 }, Target::Address { group: 2 }]
    );
    assert_eq!(
        targets(&["Adresse", "Ville"]),
        [Target::Street1 { group: 1 }, Target::City { group: 1 }]
    );
}

#[test]
fn geolocation_columns_are_ignored() {
    assert_eq!(
        targets(&["Address", "CC", "REGION", "LATITUDE"]),
        [
            Target::Address { group: 1 },
            Target::Ignore,
            Target::Ignore,
            Target::Ignore
        ]
    );
}

#[test]
fn values_decide_unknown_headers() {
    let sheet = table(
        &["Contact point", "Reach at", "Account group", "Number"],
        &[
            &[
                "ana@example.com",
                "(313) 555-0101",
                "AG-1234ABCD",
                "7001000000001",
            ],
            &["bo@example.com", "313-555-0102", "AG-99ZZ", "7001000000002"],
        ],
    );
    let guess = guess_columns(&sheet);
    assert_eq!(guess.columns[0].target, Target::Email);
    assert_eq!(guess.columns[0].confidence, Confidence::Medium);
    assert_eq!(guess.columns[1].target, Target::Phone);
    assert_eq!(guess.columns[2].target, Target::Location);
    assert_eq!(guess.columns[3].target, Target::Ignore);
}

#[test]
fn values_that_disagree_lower_confidence() {
    let sheet = table(&["Email"], &[&["Ana Smith"], &["Bo Lee"]]);
    let guess = guess_columns(&sheet);
    assert_eq!(guess.columns[0].target, Target::Email);
    assert_eq!(guess.columns[0].confidence, Confidence::Low);
}

#[test]
fn everything_else_is_ignored() {
    for header in [
        "Birthday",
        "Notes",
        "Company",
        "Organization Name",
        "Zip",
        "Code postal",
        "PLZ",
        "Total Spent",
        "First Visit",
        "Middle Name",
        "Location",
        "OPTIN_TIME",
        "OPTIN_IP",
        "LAST_CHANGED",
        "",
    ] {
        assert_eq!(target_of(header), Target::Ignore, "{header}");
    }
}
