//! Normalisers that turn the text of one cell into the value the API
//! expects, one submodule per kind of value. Each returns the clean value
//! or an error whose `Display` is a sentence for the user that names the
//! value and explains how to fix it.
//!
//! The helpers here clean any cell before a normaliser reads it: they undo
//! what spreadsheets and exports add around a value.

pub mod address;
pub mod consent;
pub mod email;
pub mod name;
pub mod phone;
pub mod place;
pub mod record;
pub mod tags;

/// Characters that take no space on screen but break matching when left in
/// a value: zero-width space, non-joiner, joiner, word joiner and the byte
/// order mark.
const INVISIBLE: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Cleans a cell before it is read: drops invisible characters, turns
/// non-breaking spaces into spaces, removes Excel's "keep as text" marks
/// (one leading apostrophe, or an `="..."` wrapper) and trims. A cell of
/// only quote characters becomes empty.
pub fn clean_cell(raw: &str) -> String {
    let mut text: String = raw
        .chars()
        .filter(|c| !INVISIBLE.contains(c))
        .map(|c| {
            if c == '\u{00A0}' || c == '\u{202F}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    text = text.trim().to_string();

    if let Some(inner) = text
        .strip_prefix("=\"")
        .and_then(|rest| rest.strip_suffix('"'))
    {
        text = inner.trim().to_string();
    } else if let Some(rest) = text.strip_prefix('\'') {
        text = rest.trim().to_string();
    }

    if text.chars().all(|c| matches!(c, '"' | '\'' | '“' | '”')) {
        text.clear();
    }
    text
}

/// Collapses every run of white space (line breaks included) into one
/// space, for names, streets and cities.
pub fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes repeats from a list, keeping the first of each and the order.
pub fn dedup_keep_order(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|value| seen.insert(value.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_cell_trims_nbsp_and_zero_width() {
        assert_eq!(
            clean_cell("\u{00A0}luca@example.com\u{00A0}"),
            "luca@example.com"
        );
        assert_eq!(clean_cell("313-555-0144\u{200B}"), "313-555-0144");
    }

    #[test]
    fn clean_cell_removes_excel_text_marks() {
        assert_eq!(clean_cell("'+13135550142"), "+13135550142");
        assert_eq!(clean_cell("=\"02135\""), "02135");
        assert_eq!(clean_cell("O'Brien"), "O'Brien");
        assert_eq!(clean_cell("''"), "");
    }

    #[test]
    fn clean_cell_empties_quote_only_cells() {
        assert_eq!(clean_cell("\"\""), "");
        assert_eq!(clean_cell(" \" "), "");
    }

    #[test]
    fn collapse_spaces_joins_runs() {
        assert_eq!(collapse_spaces("  Grand   Rapids \n"), "Grand Rapids");
    }

    #[test]
    fn dedup_keeps_first() {
        let mut values = vec!["a".to_string(), "b".to_string(), "a".to_string()];
        dedup_keep_order(&mut values);
        assert_eq!(values, ["a", "b"]);
    }
}
