//! Where customers are sent: the built-in sandbox, Vendasta's demo or
//! production gateway, or a base URL the user enters.

use serde::{Deserialize, Serialize};

/// Base URL of the production Business API.
pub const PRODUCTION_BASE_URL: &str = "https://prod.apigateway.co/business";
/// Base URL of the demo Business API.
pub const DEMO_BASE_URL: &str = "https://demo.apigateway.co/business";

/// A place customers can be sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "base_url", rename_all = "snake_case")]
pub enum Environment {
    /// The sandbox server built into the app, on loopback. Safe to practise
    /// on: nothing leaves the computer.
    #[default]
    Sandbox,
    Demo,
    Production,
    /// Any base URL, such as `http://127.0.0.1:8080/business`.
    Custom(String),
}

impl Environment {
    /// Returns the base URL, or `None` for the sandbox, whose address is only
    /// known once it runs.
    pub fn base_url(&self) -> Option<&str> {
        match self {
            Self::Sandbox => None,
            Self::Demo => Some(DEMO_BASE_URL),
            Self::Production => Some(PRODUCTION_BASE_URL),
            Self::Custom(url) => Some(url),
        }
    }

    /// Returns a short name for menus and messages.
    pub fn label(&self) -> &str {
        match self {
            Self::Sandbox => "Sandbox",
            Self::Demo => "Demo",
            Self::Production => "Production",
            Self::Custom(_) => "Custom",
        }
    }

    /// Returns the key under which this environment's token is stored in the
    /// keychain: one entry per environment, and per base URL for custom ones.
    pub fn keychain_account(&self) -> String {
        match self {
            Self::Sandbox => "sandbox".to_owned(),
            Self::Demo => "demo".to_owned(),
            Self::Production => "production".to_owned(),
            Self::Custom(url) => format!("custom:{url}"),
        }
    }

    /// Parses the `--env` option of the command line: `sandbox`, `demo`,
    /// `prod` (or `production`), or a base URL.
    pub fn from_arg(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Ok(Self::Sandbox),
            "demo" => Ok(Self::Demo),
            "prod" | "production" => Ok(Self::Production),
            _ if value.starts_with("http://") || value.starts_with("https://") => {
                Ok(Self::Custom(value.trim().trim_end_matches('/').to_owned()))
            }
            _ => Err(format!(
                "unknown environment '{value}': use sandbox, demo, prod or a base URL such as \
                 http://127.0.0.1:8080/business"
            )),
        }
    }
}
