//! The customer attributes the API accepts, as the importer sends them.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// Attributes of one customer in the API's JSON:API `attributes` form.
///
/// An attribute with no value is left out of the JSON, as the API expects.
///
/// Texts are `CompactString`s, which keep up to 24 bytes without a heap
/// allocation. Most names, codes and phone numbers fit, and a big file's
/// checked customers all stay in memory for the preview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// E.164 numbers such as `+13135550142`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<CompactString>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<CompactString>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<CompactString>,
    /// Consent to be contacted; `None` only when it could not be read.
    #[serde(default)]
    pub permission_to_contact: Option<bool>,
}

/// A postal address without a postal code, which the API has no field for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street line 1, then `, ` and street line 2 when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<CompactString>,
    /// ISO 3166-2 code such as `US-MI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<CompactString>,
    /// ISO 3166-1 alpha-2 code such as `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<CompactString>,
}

impl Address {
    pub fn is_empty(&self) -> bool {
        self.street_address.is_none()
            && self.city.is_none()
            && self.region_code.is_none()
            && self.country_code.is_none()
    }
}

impl Customer {
    /// Returns whether the API would accept the customer's contact details:
    /// it needs at least one email address or phone number.
    pub fn has_contact(&self) -> bool {
        !self.email_addresses.is_empty() || !self.phone_numbers.is_empty()
    }

    /// Returns "Given Family" for lists and messages, or an empty string.
    pub fn display_name(&self) -> String {
        [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
