//! Bearer tokens the sandbox accepts: configured ones, tokens it issued at
//! `POST /oauth2/token`, or any non-empty token when none is configured.
//! Each token can expire a fixed time after its first use.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use rand::Rng as _;
use rand::distr::Alphanumeric;

use crate::secret::Secret;

/// Length of the tokens the sandbox issues.
const ISSUED_TOKEN_CHARS: usize = 40;

/// The verdict on a request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenCheck {
    Accepted,
    /// `401`: no token, an unknown one, or an expired one.
    Unauthorized,
    /// `403`: a known token without the `customers` scope.
    Forbidden,
}

struct Inner {
    /// Whether any non-empty token is accepted (no token configured).
    open: bool,
    with_scope: HashSet<String>,
    without_scope: HashSet<String>,
    first_use: HashMap<String, Instant>,
}

/// The token book of one sandbox.
pub(super) struct Tokens {
    inner: Mutex<Inner>,
    ttl: Option<Duration>,
}

impl Tokens {
    pub fn new(with_scope: &[Secret], without_scope: &[Secret], ttl: Option<Duration>) -> Self {
        let set = |tokens: &[Secret]| {
            tokens
                .iter()
                .map(|token| token.expose().to_owned())
                .collect()
        };
        Self {
            inner: Mutex::new(Inner {
                open: with_scope.is_empty(),
                with_scope: set(with_scope),
                without_scope: set(without_scope),
                first_use: HashMap::new(),
            }),
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each change is a single insert, so a poisoned lock holds
        // consistent data.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the lifetime of a token from its first use, if tokens expire.
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// Accepts `token` from now on, with or without the `customers` scope.
    pub fn add(&self, token: Secret, has_scope: bool) {
        let mut inner = self.lock();
        let value = token.expose().to_owned();
        if has_scope {
            inner.with_scope.insert(value);
        } else {
            inner.without_scope.insert(value);
        }
    }

    /// Makes a new random token, accepted like a configured one.
    pub fn issue(&self, has_scope: bool) -> Secret {
        let value: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(ISSUED_TOKEN_CHARS)
            .map(char::from)
            .collect();
        let token = Secret::new(format!("sbx-{value}"));
        self.add(token.clone(), has_scope);
        token
    }

    /// Checks the `Authorization: Bearer <token>` header of a request.
    pub fn check(&self, headers: &HeaderMap) -> TokenCheck {
        let Some(token) = bearer_token(headers) else {
            return TokenCheck::Unauthorized;
        };
        let mut inner = self.lock();
        let scoped = inner.with_scope.contains(token);
        let unscoped = inner.without_scope.contains(token);
        if !(scoped || unscoped || inner.open) {
            return TokenCheck::Unauthorized;
        }
        let first_use = *inner
            .first_use
            .entry(token.to_owned())
            .or_insert_with(Instant::now);
        if self.ttl.is_some_and(|ttl| first_use.elapsed() >= ttl) {
            return TokenCheck::Unauthorized;
        }
        if unscoped {
            TokenCheck::Forbidden
        } else {
            TokenCheck::Accepted
        }
    }
}

/// Returns the token of a `Bearer` authorization header; the scheme name
/// is case-insensitive (RFC 9110, section 11.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("header value"));
        headers
    }

    #[test]
    fn open_book_accepts_any_token() {
        let tokens = Tokens::new(&[], &[], None);
        assert_eq!(
            tokens.check(&headers("Bearer anything")),
            TokenCheck::Accepted
        );
        assert_eq!(tokens.check(&headers("bearer x")), TokenCheck::Accepted);
        assert_eq!(tokens.check(&headers("Bearer ")), TokenCheck::Unauthorized);
        assert_eq!(
            tokens.check(&headers("Basic abc")),
            TokenCheck::Unauthorized
        );
        assert_eq!(tokens.check(&HeaderMap::new()), TokenCheck::Unauthorized);
    }

    #[test]
    fn configured_book_accepts_only_its_tokens() {
        let tokens = Tokens::new(&[Secret::new("good")], &[Secret::new("narrow")], None);
        assert_eq!(tokens.check(&headers("Bearer good")), TokenCheck::Accepted);
        assert_eq!(
            tokens.check(&headers("Bearer other")),
            TokenCheck::Unauthorized
        );
        assert_eq!(
            tokens.check(&headers("Bearer narrow")),
            TokenCheck::Forbidden
        );
        let issued = tokens.issue(true);
        let header = format!("Bearer {}", issued.expose());
        assert_eq!(tokens.check(&headers(&header)), TokenCheck::Accepted);
    }

    #[test]
    fn token_expires_after_ttl_from_first_use() {
        let tokens = Tokens::new(&[Secret::new("a")], &[], Some(Duration::ZERO));
        assert_eq!(tokens.check(&headers("Bearer a")), TokenCheck::Unauthorized);
        let lasting = Tokens::new(&[Secret::new("a")], &[], Some(Duration::from_secs(3600)));
        assert_eq!(lasting.check(&headers("Bearer a")), TokenCheck::Accepted);
    }
}
