//! Client for the customers operations of the Business API (JSON:API over
//! HTTPS): create, list, get, update and delete.
//!
//! The two source documents of the API disagree on a few names; the client
//! accepts both spellings (see `error.rs`).

use std::time::Duration;

use crate::customer::Customer;
use crate::secret::Secret;

/// A customer as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    /// Full id such as `AG-123:CUSTOMER-456`.
    pub id: String,
    /// Business location id the customer belongs to, when the answer names it.
    pub location: Option<String>,
    pub customer: Customer,
}

/// One page of a customer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub customers: Vec<CustomerRecord>,
    /// Cursor for the next page, from `links.next`; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What a `409` names: the existing customer that already has an email or
/// phone of the one being created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// `emailAddresses` or `phoneNumbers`.
    pub field: String,
    pub value: String,
    /// Full id of the existing customer (a bare `CUSTOMER-...` id from the
    /// server is qualified with the location).
    pub existing_id: String,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("customer already exists: {} {} belongs to {}", .0.field, .0.value, .0.existing_id)]
    Conflict(Conflict),
    #[error("not yet implemented")]
    Unimplemented,
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed for one request, from sending to the end of the answer.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
        }
    }
}

/// A connection to one environment's customers API with one token.
#[derive(Debug, Clone)]
pub struct Client {}

impl Client {
    /// Makes a client for `base_url` such as `https://prod.apigateway.co/business`.
    /// Rejects plain `http://` unless the host is loopback.
    pub fn new(base_url: &str, token: Secret, options: ClientOptions) -> Result<Self, ApiError> {
        let _ = (base_url, token, options);
        Err(ApiError::Unimplemented)
    }

    /// Replaces the token for the requests that follow.
    pub fn set_token(&self, token: Secret) {
        let _ = token;
    }

    /// Creates a customer in a business location (`POST /customers`).
    pub async fn create_customer(
        &self,
        location: &str,
        customer: &Customer,
    ) -> Result<CustomerRecord, ApiError> {
        let _ = (location, customer);
        Err(ApiError::Unimplemented)
    }

    /// Lists one page of a location's customers (`GET /customers`).
    pub async fn list_customers(
        &self,
        location: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, ApiError> {
        let _ = (location, limit, cursor);
        Err(ApiError::Unimplemented)
    }

    /// Fetches one customer (`GET /customers/{id}`).
    pub async fn get_customer(&self, id: &str) -> Result<CustomerRecord, ApiError> {
        let _ = id;
        Err(ApiError::Unimplemented)
    }

    /// Deletes one customer (`DELETE /customers/{id}`).
    pub async fn delete_customer(&self, id: &str) -> Result<(), ApiError> {
        let _ = id;
        Err(ApiError::Unimplemented)
    }
}
