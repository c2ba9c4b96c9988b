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
fn whole_name_kept_beside_separate_names() {
    // Rows read the whole name only when given and family are empty.
    assert_eq!(
        targets(&["Name", "Given Name", "Family Name"]),
        [Target::FullName, Target::GivenName, Target::FamilyName]
    );
    assert_eq!(
        targets(&[
            "First Name",
            "Last Name",
            "Display Name",
            "Nickname",
            "Screen Name",
            "User Name",
        ]),
        [
            Target::GivenName,
            Target::FamilyName,
            Target::FullName,
            Target::Ignore,
            Target::Ignore,
            Target::Ignore,
        ]
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
    let sheet = table(
        &["Email", "Phone"],
        &[
            &["ana@example", "313-555-0101"],
            &["bo@example", "call 313 555 0102"],
            &["cy@example.com", "ask for 313-555-0103"],
        ],
    );
    let guess = guess_columns(&sheet);
    assert_eq!(guess.columns[0].target, Target::Email);
    assert_eq!(guess.columns[0].confidence, Confidence::Low);
    assert_eq!(guess.columns[1].target, Target::Phone);
    assert_eq!(guess.columns[1].confidence, Confidence::Low);
}

fn single_column(header: &str, values: &[&str]) -> ColumnGuess {
    let rows: Vec<&[&str]> = values.iter().map(std::slice::from_ref).collect();
    guess_columns(&table(&[header], &rows)).columns.remove(0)
}

#[test]
fn qualified_email_without_at_signs_is_ignored() {
    for values in [
        ["HTML", "Text", "HTML"],
        ["0", "1", "0"],
        ["Ana Smith", "Bo Lee", "x"],
    ] {
        for header in ["Email Campaign", "Email Greeting"] {
            let guess = single_column(header, &values);
            assert_eq!(guess.target, Target::Ignore, "{header}: {values:?}");
        }
    }
    let mostly_addresses = table(
        &["Email"],
        &[
            &["ana@example.com"],
            &["bo@example.com"],
            &["not an address"],
        ],
    );
    assert_eq!(guess_mapping(&mostly_addresses).targets, [Target::Email]);
}

#[test]
fn qualified_phone_with_short_values_is_ignored() {
    for values in [
        ["204", "17", "3301"],
        ["+1", "+44", "+33"],
        ["Yes", "No", "0"],
    ] {
        for header in ["Phone Line", "Phone Verified Flag"] {
            let guess = single_column(header, &values);
            assert_eq!(guess.target, Target::Ignore, "{header}: {values:?}");
        }
    }
    let local_numbers = table(&["Phone"], &[&["555 014"], &["(313) 555-0142"], &["22"]]);
    assert_eq!(guess_mapping(&local_numbers).targets, [Target::Phone]);
}

#[test]
fn plain_contact_headers_keep_invalid_values() {
    let bad_emails = ["not-an-email", "HTML", "0"];
    for header in [
        "Email",
        "E-mail",
        "Email Address",
        "Work Email",
        "billing_email",
        "Person - Email",
    ] {
        let guess = single_column(header, &bad_emails);
        assert_eq!(guess.target, Target::Email, "{header}");
        assert_eq!(guess.confidence, Confidence::Low, "{header}");
    }
    let bad_phones = ["12", "n/a", "+1"];
    for header in [
        "Phone",
        "Phone Number",
        "Mobile Phone",
        "billing_phone",
        "Téléphone",
    ] {
        let guess = single_column(header, &bad_phones);
        assert_eq!(guess.target, Target::Phone, "{header}");
        assert_eq!(guess.confidence, Confidence::Low, "{header}");
    }
    let mapping = guess_mapping(&table(
        &["Email", "Phone"],
        &[&["not-an-email", "212-555-0101"]],
    ));
    assert_eq!(mapping.targets, [Target::Email, Target::Phone]);
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

#[test]
fn prefixed_headers_read_field_part() {
    assert_eq!(
        targets(&[
            "Person - Name",
            "Person - First name",
            "Person - Last name",
            "Person - Labels",
            "Person - Email - Work",
            "Person - Phone - Mobile",
            "Person - Postal address",
            "Person - Organization",
            "Person - Owner",
            "Person - ID",
        ]),
        [
            Target::FullName,
            Target::GivenName,
            Target::FamilyName,
            Target::Tags,
            Target::Email,
            Target::Phone,
            Target::Address { group: 1 },
            Target::Ignore,
            Target::Ignore,
            Target::Ignore,
        ]
    );
    assert_eq!(
        targets(&[
            "Contact - First Name",
            "Contact \u{2013} Last Name",
            "Lead - Surname"
        ]),
        [Target::GivenName, Target::FamilyName, Target::FamilyName]
    );
    for header in ["Person - Phone - Type", "Contact - Email - Label"] {
        assert_eq!(target_of(header), Target::Ignore, "{header}");
    }
}

#[test]
fn numbered_or_field_groups_keep_whole_header() {
    assert_eq!(
        targets(&[
            "Address 1 - City",
            "Address 1 - Street",
            "Address 2 - City",
            "Phone - Mobile",
            "Phone 1 - Label",
            "Relation 1 - Label",
            "Emergency Contact - Phone",
        ]),
        [
            Target::City { group: 1 },
            Target::Street1 { group: 1 },
            Target::City { group: 2 },
            Target::Phone,
            Target::Ignore,
            Target::Ignore,
            Target::Ignore,
        ]
    );
    assert_eq!(
        targets(&["Billing - Street", "Billing - City", "Shipping - City"]),
        [
            Target::Street1 { group: 1 },
            Target::City { group: 1 },
            Target::City { group: 2 },
        ]
    );
}

#[test]
fn city_and_second_street_line_words() {
    for header in ["Localidad", "Localité", "Locality", "Ort", "Ortschaft"] {
        assert_eq!(target_of(header), Target::City { group: 1 }, "{header}");
    }
    for header in [
        "Complément d'adresse",
        "Complemento de dirección",
        "Adresszusatz",
        "Apt/Suite",
        "Extended Address",
    ] {
        assert_eq!(
            targets(&["Street", header]),
            [Target::Street1 { group: 1 }, Target::Street2 { group: 1 }],
            "{header}"
        );
    }
    assert_eq!(
        targets(&["Dirección", "Localidad"]),
        [Target::Street1 { group: 1 }, Target::City { group: 1 }]
    );
}

#[test]
fn consent_in_four_languages() {
    for header in [
        "Acepta comunicaciones comerciales",
        "Acepta publicidad",
        "Consentimiento",
        "Suscripción",
        "Accepte les e-mails",
        "Accepte les offres commerciales",
        "Consentement",
        "Einwilligung",
        "Newsletter-Einwilligung",
        "Werbeeinwilligung",
        "Zustimmung Werbung",
        "Agreed to marketing emails",
        "Marketing status",
        "Person - Marketing status",
    ] {
        assert_eq!(target_of(header), Target::Consent, "{header}");
    }
}

#[test]
fn contact_attributes_are_not_contacts() {
    for header in [
        "Email Format",
        "Do Not Email",
        "Email Bounced",
        "Email Domain",
        "Email Reminders",
        "Email Marketing",
        "E-Mail-Format",
        "Ne pas envoyer d'e-mails",
        "Keine E-Mails",
        "Phone Ext",
        "Phone Extension",
        "Work Phone Ext",
        "Phone Country Code",
        "Indicatif du téléphone",
        "Prefijo teléfono",
        "Telefon Durchwahl",
        "Do Not Call Phone",
    ] {
        assert_eq!(target_of(header), Target::Ignore, "{header}");
    }
    for header in [
        "Email",
        "Work Email",
        "Mobile Phone",
        "Default Address Phone",
    ] {
        assert_ne!(target_of(header), Target::Ignore, "{header}");
    }
}

#[test]
fn reminder_opt_ins_are_not_consent() {
    assert_eq!(
        targets(&["Email", "Email Opt-in", "Reminder Email Opt-in"]),
        [Target::Email, Target::Consent, Target::Ignore]
    );
    for header in [
        "Appointment Reminders Opt-in",
        "Transactional Email Consent",
        "Service Notifications Opt-in",
        "Accepte les rappels de rendez-vous",
        "Acepta recordatorios de citas",
        "Termin-Erinnerung Einwilligung",
    ] {
        assert_eq!(target_of(header), Target::Ignore, "{header}");
    }
}

#[test]
fn numbered_street_lines_after_group_number() {
    for separator in [": ", " - ", "_"] {
        let headers: Vec<String> = ["Street 1", "Street 2", "Street 3", "City"]
            .iter()
            .map(|part| format!("Address 1{separator}{part}"))
            .collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        assert_eq!(
            targets(&headers),
            [
                Target::Street1 { group: 1 },
                Target::Street2 { group: 1 },
                Target::Street2 { group: 1 },
                Target::City { group: 1 },
            ],
            "{separator:?}"
        );
    }
    assert_eq!(
        targets(&["Address 2: Line 1", "Address 2: Line 2", "Address 2: City"]),
        [
            Target::Street1 { group: 1 },
            Target::Street2 { group: 1 },
            Target::City { group: 1 },
        ]
    );
    assert_eq!(
        targets(&["Address line 1", "Address line 3", "City"]),
        [
            Target::Street1 { group: 1 },
            Target::Street2 { group: 1 },
            Target::City { group: 1 },
        ]
    );
}

#[test]
fn snake_case_group_prefixes() {
    assert_eq!(
        targets(&[
            "billing_first_name",
            "billing_last_name",
            "billing_company",
            "billing_email",
            "billing_phone",
            "billing_address_1",
            "billing_address_2",
            "billing_city",
            "billing_state",
            "billing_postcode",
            "billing_country",
            "shipping_first_name",
            "shipping_address_1",
            "shipping_city",
        ]),
        [
            Target::GivenName,
            Target::FamilyName,
            Target::Ignore,
            Target::Email,
            Target::Phone,
            Target::Street1 { group: 1 },
            Target::Street2 { group: 1 },
            Target::City { group: 1 },
            Target::Region { group: 1 },
            Target::Ignore,
            Target::Country { group: 1 },
            Target::GivenName,
            Target::Street1 { group: 2 },
            Target::City { group: 2 },
        ]
    );
    assert_eq!(
        targets(&[
            "contact_first_name",
            "Customer Last Name",
            "mailing_surname"
        ]),
        [Target::GivenName, Target::FamilyName, Target::FamilyName]
    );
    assert_eq!(
        targets(&["shipping_city", "billing_city"]),
        [Target::City { group: 1 }, Target::City { group: 2 }]
    );
}

#[test]
fn record_words_with_qualifiers_are_not_names() {
    for header in [
        "(Do Not Modify) Contact",
        "Preferred Method of Contact",
        "Contact Since",
        "Customer Note",
    ] {
        assert_eq!(target_of(header), Target::Ignore, "{header}");
    }
    for header in ["Contact", "Customer", "Contact Name", "Client Full Name"] {
        assert_eq!(target_of(header), Target::FullName, "{header}");
    }
}

#[test]
fn identifier_or_method_values_are_not_names() {
    let not_names: [&[&str]; 4] = [
        &[
            "6f1d2c3a-90b1-ef11-8a6a-002248080000",
            "{7a2e4b1c-91b1-ef11-8a6a-002248080001}",
        ],
        &["4711000123", "4711000124"],
        &["00ab12cd34ef", "00ab12cd34f0"],
        &["Email", "Phone", "Any", "E-mail"],
    ];
    for values in not_names {
        for header in ["Name", "First Name", "Contact"] {
            let guess = single_column(header, values);
            assert_eq!(guess.target, Target::Ignore, "{header}: {values:?}");
        }
    }
    let names = single_column("Name", &["Dee Abbe", "Ada", "Bea"]);
    assert_eq!(names.target, Target::FullName);
}

#[test]
fn italian_dutch_portuguese_headers() {
    let italian = targets(&[
        "Nome",
        "Cognome",
        "Indirizzo",
        "Città",
        "CAP",
        "Provincia",
        "Nazione",
        "Cellulare",
        "Consenso marketing",
    ]);
    let dutch = targets(&[
        "Voornaam",
        "Achternaam",
        "Adres",
        "Woonplaats",
        "Postcode",
        "Provincie",
        "Land",
        "Mobiel nummer",
        "Nieuwsbrief",
    ]);
    let portuguese = targets(&[
        "Nome",
        "Apelido",
        "Morada",
        "Localidade",
        "Código postal",
        "Distrito",
        "País",
        "Telemóvel",
        "Aceita marketing",
    ]);
    for (language, found) in [("it", italian), ("nl", dutch), ("pt", portuguese)] {
        assert_eq!(
            found,
            [
                Target::GivenName,
                Target::FamilyName,
                Target::Street1 { group: 1 },
                Target::City { group: 1 },
                Target::Ignore,
                Target::Region { group: 1 },
                Target::Country { group: 1 },
                Target::Phone,
                Target::Consent,
            ],
            "{language}"
        );
    }
    assert_eq!(target_of("Grupos"), Target::Tags);
    assert_eq!(target_of("Nome completo"), Target::FullName);
}

#[test]
fn new_language_words_keep_old_meanings() {
    assert_eq!(targets(&["Nom", "Email"])[0], Target::FullName);
    assert_eq!(targets(&["Prénom", "Nom"])[1], Target::FamilyName);
    assert_eq!(target_of("Adresse"), Target::Address { group: 1 });
    assert_eq!(target_of("Land"), Target::Country { group: 1 });
    assert_eq!(target_of("Nombre"), Target::GivenName);
}
