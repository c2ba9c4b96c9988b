//! Names: white space tidied, and a whole name split into given and family
//! name.

use super::collapse_spaces;

/// A name split into its parts, either of which may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameParts {
    pub given: Option<String>,
    pub family: Option<String>,
}

/// Tidies one name part: runs of white space become one space, and an
/// empty result is `None`. Letter case is kept as typed.
pub fn clean_name(text: &str) -> Option<String> {
    let name = collapse_spaces(text);
    (!name.is_empty()).then_some(name)
}

/// Splits a whole name. `Family, Given` splits on the comma. Otherwise the
/// last word is the family name and the words before it the given name. A
/// single word is a given name.
pub fn split_full_name(text: &str) -> NameParts {
    let text = collapse_spaces(text);
    if let Some((family, given)) = text.split_once(',') {
        return NameParts {
            given: clean_name(given),
            family: clean_name(family),
        };
    }
    match text.rsplit_once(' ') {
        Some((given, family)) => NameParts {
            given: clean_name(given),
            family: clean_name(family),
        },
        None => NameParts {
            given: clean_name(&text),
            family: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(given: Option<&str>, family: Option<&str>) -> NameParts {
        NameParts {
            given: given.map(str::to_string),
            family: family.map(str::to_string),
        }
    }

    #[test]
    fn splits_given_family() {
        assert_eq!(
            split_full_name("Ana Smith"),
            parts(Some("Ana"), Some("Smith"))
        );
        assert_eq!(
            split_full_name("  Mary  Ann   Lee "),
            parts(Some("Mary Ann"), Some("Lee"))
        );
    }

    #[test]
    fn splits_family_comma_given() {
        assert_eq!(
            split_full_name("Reyes, Camila"),
            parts(Some("Camila"), Some("Reyes"))
        );
    }

    #[test]
    fn single_word_is_given_name() {
        assert_eq!(split_full_name("Cher"), parts(Some("Cher"), None));
        assert_eq!(split_full_name(""), parts(None, None));
    }

    #[test]
    fn clean_name_collapses_spaces() {
        assert_eq!(clean_name("  Scott "), Some("Scott".to_string()));
        assert_eq!(clean_name("   "), None);
    }
}
