//! Signing in to the Business API: a pasted API token, or a service-account
//! key file exchanged for short-lived access tokens.
//!
//! - `key_file.rs`: reading and validating the key file
//!   ([`ServiceAccountKey`], [`KeyFileError`]).
//! - `exchange.rs`: signing the RS256 assertion and exchanging it at the
//!   key's `token_uri` ([`exchange()`], [`TokenError`]).
//! - `token_source.rs`: [`TokenSource`], which the API client and the
//!   upload runner ask for a token before each request and after a 401.
//!
//! Keys and tokens are held as [`Secret`](crate::secret::Secret) or behind
//! redacting `Debug` impls, and no error message quotes them.

mod exchange;
mod key_file;
mod token_source;

pub use exchange::{
    ASSERTION_LIFETIME, AccessToken, CUSTOMERS_SCOPE, JWT_BEARER_GRANT, TokenError, exchange,
    sign_assertion, token_client,
};
pub use key_file::{
    KeyFileError, KeyOrigin, MAX_KEY_FILE_BYTES, ServiceAccountKey, parse_token_uri,
};
pub use token_source::{Clock, SystemClock, TokenOptions, TokenSource};
