//! Email addresses: unwrapped, split when one cell contains several, checked
//! and given a lower-case domain.

use email_address::{EmailAddress, Options};

/// Reason an email value cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error(
        "{} is not a valid email address (expected name@domain.com); correct it or clear the cell",
        super::quote(.value)
    )]
    Invalid { value: String },
}

/// Reads every email address in a cell. Addresses may be separated by
/// `,`, `;`, white space or ` ::: `, and may carry `mailto:` or angle
/// brackets. Returns the valid addresses (domain lower-cased, local part
/// as typed, repeats dropped) and an error for each invalid one.
pub fn parse_emails(cell: &str) -> (Vec<String>, Vec<EmailError>) {
    let mut addresses = Vec::new();
    let mut errors = Vec::new();
    for token in split_candidates(cell) {
        match normalize_email(token) {
            Some(address) => {
                if !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
            None => errors.push(EmailError::Invalid {
                value: token.to_string(),
            }),
        }
    }
    (addresses, errors)
}

/// Splits a cell into the pieces that should each be one address. In a
/// cell that uses the `Name <address>` form, words outside the angle
/// brackets count only when they hold an `@`, so a display name is never
/// read as an address. A cell with no `@` at all is one candidate, so a
/// placeholder such as `Info Requested` gives one error, not one per word.
fn split_candidates(cell: &str) -> Vec<&str> {
    let trimmed = cell.trim();
    if !trimmed.contains('@') {
        return if trimmed.is_empty() {
            Vec::new()
        } else {
            vec![trimmed]
        };
    }
    let mut candidates = Vec::new();
    let has_brackets = cell.contains('<') && cell.contains('>');
    let mut rest = cell;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        candidates.extend(plain_tokens(&rest[..open], has_brackets));
        let inside = rest[open + 1..open + close].trim();
        if !inside.is_empty() {
            candidates.push(inside);
        }
        rest = &rest[open + close + 1..];
    }
    candidates.extend(plain_tokens(rest, has_brackets));
    candidates
}

fn plain_tokens(text: &str, only_with_at: bool) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(|token| token.trim_matches(|c: char| c == '<' || c == '>' || c == '"'))
        // The ` ::: ` joiner leaves bare `:::` tokens behind.
        .filter(|token| !token.is_empty() && !token.chars().all(|c| c == ':'))
        .filter(move |token| !only_with_at || token.contains('@'))
}

/// Returns the normalised form of one address, or `None` when it is not of
/// the form local@domain.tld.
pub fn normalize_email(token: &str) -> Option<String> {
    let token = token.trim();
    let token = match token.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => &token[7..],
        _ => token,
    };
    let options = Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    let parsed = EmailAddress::parse_with_options(token, options).ok()?;
    let domain = parsed.domain().to_lowercase();
    let tld = domain.rsplit('.').next().unwrap_or("");
    if tld.chars().count() < 2 || !tld.chars().all(char::is_alphabetic) {
        return None;
    }
    Some(format!("{}@{}", parsed.local_part(), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cases_domain_only() {
        assert_eq!(
            normalize_email("Frost.amber@EXAMPLE.ORG"),
            Some("Frost.amber@example.org".to_string())
        );
    }

    #[test]
    fn strips_mailto_and_brackets() {
        let (addresses, errors) = parse_emails("mailto:dwoods@example.com");
        assert_eq!(addresses, ["dwoods@example.com"]);
        assert!(errors.is_empty());
        let (addresses, _) = parse_emails("<a@example.com> ::: <b@example.com>");
        assert_eq!(addresses, ["a@example.com", "b@example.com"]);
        let (addresses, errors) = parse_emails("Ana Smith <ana@example.com>");
        assert_eq!(addresses, ["ana@example.com"]);
        assert!(errors.is_empty());
        let (addresses, _) = parse_emails("<a@example.com>, b@example.org");
        assert_eq!(addresses, ["a@example.com", "b@example.org"]);
    }

    #[test]
    fn splits_on_every_separator() {
        let (addresses, errors) = parse_emails(
            "a@example.com ::: b@example.org; c@example.net, d@example.com\ne@example.com",
        );
        assert_eq!(addresses.len(), 5);
        assert!(errors.is_empty());
    }

    #[test]
    fn drops_repeats_after_normalising() {
        let (addresses, _) = parse_emails("mary@example.net ::: mary@EXAMPLE.NET");
        assert_eq!(addresses, ["mary@example.net"]);
    }

    #[test]
    fn rejects_missing_at_and_tld() {
        let (addresses, errors) = parse_emails("jefferys.example.net");
        assert!(addresses.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(normalize_email("someone@localhost"), None);
        assert_eq!(normalize_email("someone@example.c0m"), None);
    }

    #[test]
    fn words_without_at_are_one_value() {
        for cell in [
            "Info Requested",
            "n/a - see notes",
            "Total de clientes: 10",
            " none ",
        ] {
            let (addresses, errors) = parse_emails(cell);
            assert!(addresses.is_empty(), "{cell}");
            assert_eq!(errors.len(), 1, "{cell}");
            let expected = EmailError::Invalid {
                value: cell.trim().to_string(),
            };
            assert_eq!(errors[0], expected, "{cell}");
        }
        let (addresses, errors) = parse_emails("a@example.com nope");
        assert_eq!(addresses, ["a@example.com"]);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn error_names_the_value() {
        let (_, errors) = parse_emails("nope");
        let message = errors[0].to_string();
        assert!(message.contains("\"nope\""), "{message}");
    }
}
