//! Reading a header: normalised into words, then matched against the
//! words English, French, Spanish, German, Italian, Dutch and Portuguese
//! exports use for each field.

use crate::normalize::clean_cell;

/// A header cut into lower-case ASCII words, with letters and digits split
/// apart (`Address1` gives `address 1`) and `e mail` joined into `email`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderWords {
    pub words: Vec<String>,
}

impl HeaderWords {
    pub fn new(header: &str) -> Self {
        let ascii = deunicode::deunicode(&clean_cell(header));
        let mut spaced = String::with_capacity(ascii.len() + 8);
        let mut previous: Option<char> = None;
        for c in ascii.chars() {
            if let Some(before) = previous {
                let case_change = before.is_ascii_lowercase() && c.is_ascii_uppercase();
                let digit_change = before.is_ascii_alphabetic() && c.is_ascii_digit()
                    || before.is_ascii_digit() && c.is_ascii_alphabetic();
                if case_change || digit_change {
                    spaced.push(' ');
                }
            }
            spaced.push(if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            });
            previous = Some(c);
        }
        let mut words: Vec<String> = Vec::new();
        for word in spaced.split_whitespace() {
            let joins_email =
                matches!(word, "mail" | "mails") && words.last().is_some_and(|last| last == "e");
            if joins_email {
                words.pop();
                words.push(format!("e{word}"));
            } else {
                words.push(word.to_string());
            }
        }
        Self { words }
    }

    pub fn has(&self, word: &str) -> bool {
        self.words.iter().any(|candidate| candidate == word)
    }

    pub fn has_any(&self, words: &[&str]) -> bool {
        self.words
            .iter()
            .any(|candidate| words.contains(&candidate.as_str()))
    }

    /// Returns whether every word is one of `words` (numbers aside).
    pub fn only(&self, words: &[&str]) -> bool {
        self.text_words().all(|word| words.contains(&word))
    }

    /// Words that are not numbers.
    pub fn text_words(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .map(String::as_str)
            .filter(|word| !word.chars().all(|c| c.is_ascii_digit()))
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Returns the number that ends the header when the word before it is
    /// one of `after`: the line of `Address 1: Street 2` is 2, not the 1
    /// of its group.
    pub fn trailing_number_after(&self, after: &[&str]) -> Option<u32> {
        let [.., word, number] = self.words.as_slice() else {
            return None;
        };
        if !after.contains(&word.as_str()) {
            return None;
        }
        number.parse().ok()
    }

    /// Returns the words after a leading group word (`billing_first_name`
    /// gives `first name`), or `None` when the header has no such group.
    pub fn after_group(&self) -> Option<HeaderWords> {
        let (first, rest) = self.words.split_first()?;
        if !RECORD_GROUPS.contains(&first.as_str()) || rest.is_empty() {
            return None;
        }
        Some(HeaderWords {
            words: rest.to_vec(),
        })
    }

    /// Returns whether an email or phone header names only the field, with
    /// no word that could make it about something else (`Email Campaign`).
    pub fn names_only_contact(&self) -> bool {
        self.text_words().all(|word| {
            [EMAIL, PHONE, PLAIN_CONTACT_WORDS, RECORD_GROUPS]
                .iter()
                .any(|list| list.contains(&word))
        })
    }

    /// Returns the number written right after the first word of `after`,
    /// with the position of the word that follows the number.
    pub fn number_after(&self, after: &[&str]) -> Option<(u32, usize)> {
        self.words.windows(2).enumerate().find_map(|(index, pair)| {
            let follows = after.contains(&pair[0].as_str());
            let number = pair[1].parse::<u32>().ok()?;
            follows.then_some((number, index + 2))
        })
    }
}

/// Words that name a given name.
pub const GIVEN: &[&str] = &[
    "given",
    "firstname",
    "givenname",
    "forename",
    "forenames",
    "fname",
    "prenom",
    "vorname",
    "nombre",
    "nome",
    "primer",
    "voornaam",
];
/// Words that name a family name.
pub const FAMILY: &[&str] = &[
    "family",
    "lastname",
    "familyname",
    "surname",
    "surnames",
    "lname",
    "nachname",
    "familienname",
    "apellido",
    "apellidos",
    "sobrenome",
    "cognome",
    "achternaam",
    "apelido",
    "apelidos",
];
/// Words that name a whole name, or the customer as a whole.
pub const WHOLE_NAME: &[&str] = &[
    "name", "fullname", "customer", "client", "contact", "nom", "kunde",
];
/// Words of [`WHOLE_NAME`] that name the customer record rather than the
/// name. Alone they head a name column, but with other words they head a
/// column about the record (`Preferred Method of Contact`).
pub const RECORD_NAMES: &[&str] = &["customer", "client", "contact", "kunde"];
/// Words that mark a name column whatever other words the header contains.
pub const NAME_WORDS: &[&str] = &[
    "name", "names", "fullname", "nom", "completo", "complet", "full",
];
/// Leading words that name whose or which detail a header is
/// (`billing_first_name`, `Contact Email`) and no field of their own.
pub const RECORD_GROUPS: &[&str] = &[
    "billing", "shipping", "mailing", "delivery", "invoice", "home", "work", "business", "office",
    "personal", "private", "person", "contact", "customer", "client", "primary", "main",
];
/// Words besides the field's own that a plain email or phone header may
/// have (`Email Address`, `Phone Number`, `Other Phone`).
pub const PLAIN_CONTACT_WORDS: &[&str] = &[
    "address",
    "addresses",
    "adresse",
    "direccion",
    "number",
    "numbers",
    "no",
    "nr",
    "num",
    "nummer",
    "numero",
    "default",
    "preferred",
    "other",
    "secondary",
    "de",
    "of",
];
/// Values of a column that records how a customer wants to be contacted
/// (`Preferred Method of Contact`), never a name.
pub const CONTACT_METHODS: &[&str] = &[
    "email",
    "e-mail",
    "mail",
    "phone",
    "telephone",
    "call",
    "sms",
    "text",
    "fax",
    "post",
    "letter",
    "whatsapp",
    "any",
];
/// Name parts the API has no field for.
pub const OTHER_NAME_PARTS: &[&str] = &[
    "middle",
    "additional",
    "phonetic",
    "yomi",
    "nickname",
    "nick",
    "maiden",
    "prefix",
    "suffix",
    "title",
    "initials",
    "short",
    "salutation",
    "anrede",
    "file",
    "civilite",
    "tratamiento",
    "screen",
    "username",
    "user",
    "login",
    "handle",
    "alias",
    "pseudo",
    "surnom",
    "apodo",
    "usuario",
    "spitzname",
    "benutzername",
];
/// Words that make a column about someone other than the customer.
pub const OTHER_PERSON: &[&str] = &[
    "assistant",
    "asst",
    "manager",
    "spouse",
    "children",
    "child",
    "partner",
    "referred",
    "reporting",
    "owner",
    "emergency",
];
/// Words that name the customer's employer.
pub const COMPANY: &[&str] = &[
    "company",
    "organization",
    "organisation",
    "org",
    "employer",
    "firm",
    "firma",
    "entreprise",
    "empresa",
    "societe",
    "unternehmen",
    "vendor",
    "account",
    "department",
    "abteilung",
];
pub const EMAIL: &[&str] = &[
    "email",
    "emails",
    "emailaddress",
    "courriel",
    "correo",
    "mail",
];
pub const PHONE: &[&str] = &[
    "phone",
    "phones",
    "telephone",
    "tel",
    "telefon",
    "telefono",
    "telefone",
    "mobile",
    "mobil",
    "cell",
    "cellular",
    "cellphone",
    "cellulaire",
    "portable",
    "handy",
    "movil",
    "celular",
    "gsm",
    "cellulare",
    "telemovel",
    "telefoon",
    "telefoonnummer",
    "mobiel",
];
pub const FAX: &[&str] = &["fax", "telefax", "telecopieur"];
/// Words that name a street line, or a whole address when nothing more
/// specific is named.
pub const STREET: &[&str] = &[
    "street",
    "streets",
    "address",
    "addr",
    "adresse",
    "direccion",
    "strasse",
    "str",
    "calle",
    "rue",
    "line",
    "domicilio",
    "anschrift",
    "extended",
    "indirizzo",
    "adres",
    "morada",
];
pub const CITY: &[&str] = &[
    "city",
    "town",
    "ville",
    "ciudad",
    "stadt",
    "ort",
    "locality",
    "municipality",
    "suburb",
    "localite",
    "poblacion",
    "gemeinde",
    "commune",
    "municipio",
    "wohnort",
    "localidad",
    "ortschaft",
    "citta",
    "comune",
    "woonplaats",
    "plaats",
    "localidade",
    "cidade",
];
/// Words that name the second street line (`Complément d'adresse`,
/// `Adresszusatz`, `Apt/Suite`), whatever street word comes with them.
pub const STREET2: &[&str] = &[
    "extended",
    "complement",
    "complemento",
    "adresszusatz",
    "zusatz",
    "apartment",
    "apt",
    "suite",
];
pub const REGION: &[&str] = &[
    "state",
    "province",
    "region",
    "provincia",
    "estado",
    "bundesland",
    "territory",
    "prov",
    "departamento",
    "kanton",
    "provincie",
    "distrito",
    "regione",
];
pub const COUNTRY: &[&str] = &[
    "country",
    "countries",
    "pays",
    "pais",
    "land",
    "nation",
    "staat",
    "nazione",
];
/// Words that make a column a postal code or post-office box, which the
/// API has no field for.
pub const POSTAL: &[&str] = &[
    "zip",
    "zipcode",
    "postcode",
    "plz",
    "postleitzahl",
    "cp",
    "box",
    "po",
    "cap",
];
pub const TAGS: &[&str] = &[
    "tags",
    "tag",
    "labels",
    "categories",
    "category",
    "groups",
    "group",
    "membership",
    "etiquettes",
    "etiquetas",
    "etiquette",
    "kategorie",
    "kategorien",
    "schlagworte",
    "segments",
    "grupos",
    "gruppi",
    "groepen",
];
/// Words that make a column about consent to marketing.
pub const CONSENT: &[&str] = &[
    "accepts",
    "accept",
    "consent",
    "consents",
    "permission",
    "optin",
    "opted",
    "subscribed",
    "subscriber",
    "subscription",
    "gdpr",
    "einwilligung",
    "consentement",
    "abonne",
    "suscrito",
    "suscrita",
    "suscripcion",
    "consentimiento",
    "consiente",
    "autorizacion",
    "permiso",
    "abonnement",
    "abonniert",
    "inscrit",
    "zustimmung",
    "einverstandnis",
    "erlaubnis",
    "newsletter",
    "newsletters",
    "consenso",
    "nieuwsbrief",
    "toestemming",
];
/// Verbs of acceptance. With a word of
/// [`MARKETING`] beside them they make a consent column (`Acepta
/// comunicaciones comerciales`, `Accepte les e-mails`).
pub const ACCEPT: &[&str] = &[
    "accepts",
    "accept",
    "accepted",
    "agrees",
    "agreed",
    "acepta",
    "acepto",
    "aceptado",
    "accepte",
    "accepter",
    "akzeptiert",
    "aceita",
    "accetta",
];
/// Words for marketing messages and the channels they come by.
pub const MARKETING: &[&str] = &[
    "marketing",
    "emails",
    "email",
    "mail",
    "mailing",
    "mailings",
    "courriels",
    "correos",
    "communications",
    "comunicaciones",
    "commerciales",
    "comerciales",
    "offers",
    "offres",
    "ofertas",
    "promotions",
    "promociones",
    "publicidad",
    "publicite",
    "werbung",
    "angebote",
];
/// Words of messages that are not marketing: reminders, appointment
/// confirmations, service and transactional notices. An opt-in to them is
/// not permission to contact.
pub const NOT_MARKETING: &[&str] = &[
    "reminder",
    "reminders",
    "appointment",
    "appointments",
    "booking",
    "transactional",
    "service",
    "notification",
    "notifications",
    "rappel",
    "rappels",
    "rendez",
    "transactionnel",
    "transactionnels",
    "recordatorio",
    "recordatorios",
    "cita",
    "citas",
    "transaccional",
    "transaccionales",
    "notificacion",
    "notificaciones",
    "erinnerung",
    "erinnerungen",
    "termin",
    "termine",
    "benachrichtigung",
    "benachrichtigungen",
    "transaktional",
];
/// Words of a consent column that reads the other way round (yes means
/// no consent).
pub const OPT_OUT: &[&str] = &["out", "optout", "unsubscribed", "unsubscribe", "blocked"];
pub const SMS: &[&str] = &["sms", "text", "texto", "whatsapp", "mms"];
/// Words that make an email-named column about the address rather than
/// the address itself (`Email Format`, `Email Bounced`, `Email Domain`).
pub const EMAIL_ATTRIBUTES: &[&str] = &[
    "format",
    "formato",
    "html",
    "bounce",
    "bounced",
    "bounces",
    "rebote",
    "rebotado",
    "domain",
    "domaine",
    "dominio",
    "marketing",
    "frequency",
    "preference",
    "preferences",
    "reminder",
    "reminders",
];
/// Words that make a phone-named column a part of the number or a fact
/// about it rather than the number (`Phone Ext`, `Phone Country Code`).
pub const PHONE_ATTRIBUTES: &[&str] = &[
    "ext",
    "extn",
    "extension",
    "extensions",
    "code",
    "codigo",
    "country",
    "prefix",
    "prefijo",
    "indicatif",
    "poste",
    "vorwahl",
    "durchwahl",
    "carrier",
];
/// Words that turn a column into "do not contact" (`Do Not Email`,
/// `Ne pas envoyer d'e-mails`, `Keine E-Mails`). Spanish `no` is left out
/// because `Nº Teléfono` reads as `No Telefono`.
pub const NEGATION: &[&str] = &[
    "not", "dont", "never", "pas", "nunca", "nicht", "keine", "kein",
];
/// Words of identifiers, which the API assigns itself.
pub const IDENTIFIER: &[&str] = &["id", "identifier", "uuid", "guid", "ref", "reference"];
/// Words of columns that describe another column or the record rather than
/// holding a customer value.
pub const META: &[&str] = &[
    "type",
    "status",
    "source",
    "verified",
    "timezone",
    "gmtoff",
    "dstoff",
    "latitude",
    "longitude",
    "kind",
    "visit",
    "visits",
    "spent",
    "spend",
    "orders",
    "total",
    "birthday",
    "birthdate",
    "anniversary",
];
/// Words of columns about when, where from or how often something
/// happened. They win even over consent words (`OPTIN_TIME`, `OPTIN_IP`).
pub const RECORD_META: &[&str] = &[
    "date",
    "time",
    "created",
    "modified",
    "updated",
    "changed",
    "ip",
    "rating",
    "count",
    "timestamp",
];
/// Words of the IP geolocation columns that mailing-list exports add.
pub const GEOLOCATION: &[&str] = &["latitude", "longitude", "gmtoff", "dstoff", "timezone"];

/// Qualifiers that tell address groups apart, each with the group key it
/// stands for.
pub const ADDRESS_QUALIFIERS: &[(&str, &str)] = &[
    ("business", "work"),
    ("work", "work"),
    ("office", "work"),
    ("home", "home"),
    ("personal", "home"),
    ("private", "home"),
    ("other", "other"),
    ("billing", "billing"),
    ("invoice", "billing"),
    ("shipping", "shipping"),
    ("delivery", "shipping"),
    ("mailing", "mailing"),
    ("secondary", "secondary"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(header: &str) -> Vec<String> {
        HeaderWords::new(header).words
    }

    #[test]
    fn splits_case_digits_and_punctuation() {
        assert_eq!(words("E-mail 2 Address"), ["email", "2", "address"]);
        assert_eq!(words("Address1"), ["address", "1"]);
        assert_eq!(words("Phone_1"), ["phone", "1"]);
        assert_eq!(words("firstName"), ["first", "name"]);
        assert_eq!(words("Address 2 - City"), ["address", "2", "city"]);
    }

    #[test]
    fn folds_accents_and_invisible_characters() {
        assert_eq!(words("Prénom"), ["prenom"]);
        assert_eq!(words("\u{200B}Phone"), ["phone"]);
        assert_eq!(words("First\u{00A0}Name "), ["first", "name"]);
        assert_eq!(words("Straße"), ["strasse"]);
        assert_eq!(words("E-Mail"), ["email"]);
    }

    #[test]
    fn finds_number_after_word() {
        let header = HeaderWords::new("Address 1 - Street");
        assert_eq!(header.number_after(&["address"]), Some((1, 2)));
        assert_eq!(HeaderWords::new("Street").number_after(&["street"]), None);
    }
}
