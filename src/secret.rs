//! Secrets held in memory: access tokens and service-account keys.

use std::fmt;

/// A secret string whose `Debug` and `Display` never show the value, so it
/// cannot reach a log, a panic message or a report by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret itself. Call it only where the value is sent or
    /// stored in the keychain.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Returns a hint that is safe to show, such as `…3f9a` (the last four
    /// characters), or `…` for a short secret.
    pub fn hint(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return "…".to_owned();
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("…{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_value() {
        let secret = Secret::new("abcdefghijklmnop-token");
        assert!(!format!("{secret:?}").contains("token"));
        assert!(!format!("{secret}").contains("token"));
        assert_eq!(secret.hint(), "…oken");
    }
}
