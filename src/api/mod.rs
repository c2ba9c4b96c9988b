//! Client for the customers operations of the Business API (JSON:API over
//! HTTPS): create, list, get, update and delete, plus the merge of a row
//! into an existing customer.
//!
//! The two source documents of the API disagree on a few names; the client
//! accepts both spellings (see `error.rs`). The token is a [`Secret`] and
//! never appears in a log line or an error text.
//!
//! [`Secret`]: crate::secret::Secret

mod client;
mod error;
mod patch;
mod wire;

use std::time::Duration;

use crate::customer::Customer;

pub use client::{Client, is_loopback};
pub use error::{ApiError, RequestSummary, Resource, qualify_customer_id};
pub use patch::{CustomerPatch, FieldChange, Merge, email_key, merge_patch, phone_key};
pub use wire::{JSON_API, customer_attributes, parse_attributes};

/// A customer as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    /// Full id such as `AG-123:CUSTOMER-456`.
    pub id: String,
    /// Business location id the customer belongs to, from the record's
    /// `businessLocation` relationship or else from the id.
    pub location: Option<String>,
    pub customer: Customer,
    /// Read-only `createdAt` attribute (RFC 3339, by the server's clock).
    /// `None` when the server left it out or sent a value that is not
    /// RFC 3339.
    pub created_at: Option<jiff::Timestamp>,
}

/// One page of a customer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub customers: Vec<CustomerRecord>,
    /// Position of the next page, from `links.next`; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// The position of the next page of a list, as `links.next` gives it.
///
/// Pass it back to [`Client::list_customers`] unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cursor {
    /// The `page[cursor]` value of the link; the client rebuilds the URL.
    Token(String),
    /// A link without a `page[cursor]` value, followed as given. It is on
    /// the same scheme, host and port as the base URL.
    Url(url::Url),
}

/// The existing customer named by a `409`, which already has an email or
/// phone of the customer being created or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// `emailAddresses` or `phoneNumbers`; empty when the server left it out.
    pub field: String,
    /// The email or phone both customers have; empty when the server left
    /// it out.
    pub value: String,
    /// Full id of the existing customer (a bare `CUSTOMER-...` id from the
    /// server is qualified with the location).
    pub existing_id: String,
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed for one request, from sending to the end of the response.
    pub timeout: Duration,
    /// Time allowed to open the connection (TCP and TLS), capped at
    /// `timeout`. A request that fails within it certainly never reached
    /// the server.
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}
