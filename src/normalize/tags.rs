//! Tags from tags, labels, categories or groups columns.

/// Splits a tags cell on `,`, `;` and ` ::: `. Quotes around a tag are
/// removed (Mailchimp writes `"VIP","Events"`), Google's system labels
/// (those starting with `* `, such as `* myContacts`) are dropped, and so
/// are repeats.
pub fn parse_tags(cell: &str) -> Vec<String> {
    let mut tags = Vec::new();
    for piece in cell.split(":::").flat_map(|part| part.split([',', ';'])) {
        let tag = super::collapse_spaces(piece.trim().trim_matches('"'));
        if tag.is_empty() || tag.starts_with("* ") || tag == "*" {
            continue;
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_drops_system_labels() {
        assert_eq!(
            parse_tags("* myContacts ::: * starred ::: Corporate ::: Farmers Market"),
            ["Corporate", "Farmers Market"]
        );
    }

    #[test]
    fn splits_on_semicolon_and_comma() {
        assert_eq!(parse_tags("VIP; Wholesale"), ["VIP", "Wholesale"]);
        assert_eq!(parse_tags("VIP, VIP, Events"), ["VIP", "Events"]);
    }

    #[test]
    fn removes_quotes() {
        assert_eq!(
            parse_tags("\"Referral\",\"Events\",\"Gift Cards\""),
            ["Referral", "Events", "Gift Cards"]
        );
    }
}
