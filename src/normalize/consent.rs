//! Permission to contact, read from the words exports use in consent
//! columns.

/// Words that grant consent, compared without case or accents.
const YES: [&str; 16] = [
    "yes",
    "y",
    "true",
    "t",
    "1",
    "subscribed",
    "opted in",
    "opt in",
    "opted-in",
    "opt-in",
    "confirmed",
    "oui",
    "si",
    "sí",
    "ja",
    "x",
];

/// Words that refuse or withdraw consent. An empty cell also reads as no.
const NO: [&str; 19] = [
    "no",
    "n",
    "false",
    "f",
    "0",
    "unsubscribed",
    "never subscribed",
    "not subscribed",
    "cleaned",
    "opted out",
    "opt out",
    "opted-out",
    "opt-out",
    "non",
    "nein",
    "pending",
    "bounced",
    "archived",
    "transactional",
];

/// Reads a consent cell: `Some(true)` for a word that grants consent,
/// `Some(false)` for one that refuses it or an empty cell, and `None` for
/// words it does not know.
pub fn parse_consent(cell: &str) -> Option<bool> {
    let word = super::collapse_spaces(cell).to_lowercase();
    if word.is_empty() || NO.contains(&word.as_str()) {
        return Some(false);
    }
    if YES.contains(&word.as_str()) {
        return Some(true);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yes_words() {
        for word in ["yes", "Y", "TRUE", "1", "subscribed", "Opted In"] {
            assert_eq!(parse_consent(word), Some(true), "{word}");
        }
    }

    #[test]
    fn reads_no_words_and_empty() {
        for word in [
            "no",
            "n",
            "false",
            "0",
            "unsubscribed",
            "Never subscribed",
            "Not subscribed",
            "cleaned",
            "",
        ] {
            assert_eq!(parse_consent(word), Some(false), "{word}");
        }
    }

    #[test]
    fn unknown_word_is_none() {
        assert_eq!(parse_consent("maybe later"), None);
    }
}
