//! [`TokenSource`]: the access token for API requests, from a pasted token
//! or from a service account that refreshes it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::exchange::{self, AccessToken, TokenError};
use super::key_file::ServiceAccountKey;
use crate::secret::Secret;

/// Time source of a [`TokenSource`], replaceable so tests can move time
/// forward without waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Settings of a service-account [`TokenSource`].
#[derive(Clone)]
pub struct TokenOptions {
    /// A token is refreshed once less than this remains of its lifetime,
    /// or less than half of it for tokens that last under twice this.
    pub refresh_margin: Duration,
    /// Time allowed for one token request.
    pub request_timeout: Duration,
    pub clock: Arc<dyn Clock>,
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for TokenOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenOptions")
            .field("refresh_margin", &self.refresh_margin)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// The access token for API requests. Cheap to clone; clones share the
/// cached token.
///
/// - [`TokenSource::current_token`] before each request returns a token
///   that is not about to expire, fetching one first when needed.
/// - After a request is rejected with 401, call
///   [`TokenSource::refresh_rejected`] with the token that was rejected,
///   then retry once with the token it returns.
/// - [`TokenSource::refresh`] fetches a new token even when the cached one
///   is fresh, or joins a request already running.
///
/// For a service account, callers that arrive while a token request is
/// running wait for it and share its outcome, success or error, so any
/// number of concurrent uploads cause one request. A pasted token is
/// returned as is and cannot be refreshed.
#[derive(Clone)]
pub struct TokenSource {
    kind: Arc<Kind>,
}

enum Kind {
    Static(Secret),
    ServiceAccount(Box<ServiceAccountSource>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.as_ref() {
            Kind::Static(_) => f.write_str("TokenSource::Static(<redacted>)"),
            Kind::ServiceAccount(source) => f
                .debug_struct("TokenSource::ServiceAccount")
                .field("issuer", &source.key.issuer())
                .field("token_uri", &source.key.token_uri().as_str())
                .finish_non_exhaustive(),
        }
    }
}

impl TokenSource {
    /// Wraps a token the user pasted.
    pub fn from_token(token: Secret) -> Self {
        Self {
            kind: Arc::new(Kind::Static(token)),
        }
    }

    /// Returns a source that signs in with `key` on first use, with the
    /// default [`TokenOptions`]. Nothing is sent yet.
    ///
    /// Fails only with [`TokenError::HttpClient`] when no HTTP client can
    /// be built.
    pub fn from_service_account(key: ServiceAccountKey) -> Result<Self, TokenError> {
        Self::from_service_account_with(key, TokenOptions::default())
    }

    /// Like [`TokenSource::from_service_account`], with chosen options.
    pub fn from_service_account_with(
        key: ServiceAccountKey,
        options: TokenOptions,
    ) -> Result<Self, TokenError> {
        let client = exchange::token_client()?;
        let source = ServiceAccountSource {
            key,
            client,
            options,
            attempts: AtomicU64::new(0),
            state: tokio::sync::Mutex::new(State::default()),
        };
        Ok(Self {
            kind: Arc::new(Kind::ServiceAccount(Box::new(source))),
        })
    }

    /// Reports whether [`TokenSource::refresh`] can ever return a new token.
    pub fn is_refreshable(&self) -> bool {
        matches!(self.kind.as_ref(), Kind::ServiceAccount(_))
    }

    /// Returns a token to send now: the cached one while enough of its
    /// lifetime remains, otherwise a new one.
    ///
    /// Fails only for a service account whose token request fails; see
    /// [`exchange::exchange`] for the errors.
    pub async fn current_token(&self) -> Result<Secret, TokenError> {
        match self.kind.as_ref() {
            Kind::Static(token) => Ok(token.clone()),
            Kind::ServiceAccount(source) => source.current_token().await,
        }
    }

    /// Fetches a new token, or joins a request already running.
    ///
    /// Fails with [`TokenError::NotRefreshable`] for a pasted token, and
    /// with the request's error for a service account.
    pub async fn refresh(&self) -> Result<Secret, TokenError> {
        match self.kind.as_ref() {
            Kind::Static(_) => Err(TokenError::NotRefreshable),
            Kind::ServiceAccount(source) => source.refresh(None).await,
        }
    }

    /// Returns a token to retry with after the server rejected `rejected`
    /// with 401.
    /// When another caller already replaced `rejected`, that newer token is
    /// returned without a request; otherwise this is [`TokenSource::refresh`].
    pub async fn refresh_rejected(&self, rejected: &Secret) -> Result<Secret, TokenError> {
        match self.kind.as_ref() {
            Kind::Static(_) => Err(TokenError::NotRefreshable),
            Kind::ServiceAccount(source) => source.refresh(Some(rejected)).await,
        }
    }
}

struct ServiceAccountSource {
    key: ServiceAccountKey,
    client: reqwest::Client,
    options: TokenOptions,
    /// Copy of `State::attempts`, readable without the lock.
    attempts: AtomicU64,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    token: Option<CachedToken>,
    /// Token requests finished so far, successful or not.
    attempts: u64,
    /// Outcome of the last finished request, shared with the callers that
    /// waited for it.
    last_outcome: Option<Result<Secret, TokenError>>,
}

struct CachedToken {
    token: Secret,
    /// When to fetch a new token; `None` when the server gave no lifetime.
    refresh_at: Option<Instant>,
}

impl ServiceAccountSource {
    async fn current_token(&self) -> Result<Secret, TokenError> {
        let seen_attempts = self.attempts.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        let now = self.options.clock.now();
        if let Some(cached) = &state.token
            && cached.refresh_at.is_none_or(|refresh_at| now < refresh_at)
        {
            return Ok(cached.token.clone());
        }
        self.fetch_locked(&mut state, seen_attempts).await
    }

    async fn refresh(&self, rejected: Option<&Secret>) -> Result<Secret, TokenError> {
        let seen_attempts = self.attempts.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let (Some(rejected), Some(cached)) = (rejected, &state.token)
            && cached.token != *rejected
        {
            return Ok(cached.token.clone());
        }
        self.fetch_locked(&mut state, seen_attempts).await
    }

    /// Requests a token, unless one finished while the caller waited for
    /// the lock (`attempts` moved past `seen_attempts`), in which case that
    /// outcome is shared.
    async fn fetch_locked(
        &self,
        state: &mut State,
        seen_attempts: u64,
    ) -> Result<Secret, TokenError> {
        if state.attempts != seen_attempts
            && let Some(outcome) = &state.last_outcome
        {
            return outcome.clone();
        }

        let requested_at = self.options.clock.now();
        let outcome = exchange::exchange(&self.client, &self.key, self.options.request_timeout)
            .await
            .map(|access| {
                let refresh_at = refresh_time(requested_at, &access, self.options.refresh_margin);
                let token = access.token;
                state.token = Some(CachedToken {
                    token: token.clone(),
                    refresh_at,
                });
                token
            });
        if let Err(error) = &outcome {
            tracing::debug!(issuer = self.key.issuer(), %error, "token request failed");
        }
        state.attempts += 1;
        state.last_outcome = Some(outcome.clone());
        self.attempts.store(state.attempts, Ordering::Release);
        outcome
    }
}

/// Returns when a token requested at `requested_at` should be replaced:
/// `margin` before it expires, or halfway through a lifetime shorter than
/// twice `margin`. Counting from the request, not the response, keeps the
/// estimate on the safe side.
fn refresh_time(requested_at: Instant, access: &AccessToken, margin: Duration) -> Option<Instant> {
    let lifetime = access.expires_in?;
    let margin = margin.min(lifetime / 2);
    Some(requested_at + (lifetime - margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(expires_in: Option<u64>) -> AccessToken {
        AccessToken {
            token: Secret::new("t"),
            expires_in: expires_in.map(Duration::from_secs),
        }
    }

    #[test]
    fn refresh_time_uses_margin() {
        let start = Instant::now();
        let margin = Duration::from_secs(60);
        let at = refresh_time(start, &access(Some(3600)), margin);
        assert_eq!(at, Some(start + Duration::from_secs(3540)));
    }

    #[test]
    fn refresh_time_halves_short_lifetimes() {
        let start = Instant::now();
        let margin = Duration::from_secs(60);
        let at = refresh_time(start, &access(Some(90)), margin);
        assert_eq!(at, Some(start + Duration::from_secs(45)));
        let at = refresh_time(start, &access(Some(0)), margin);
        assert_eq!(at, Some(start));
    }

    #[test]
    fn refresh_time_without_lifetime() {
        let at = refresh_time(Instant::now(), &access(None), Duration::from_secs(60));
        assert_eq!(at, None);
    }

    #[tokio::test]
    async fn pasted_token_is_static() {
        let source = TokenSource::from_token(Secret::new("pasted-token-value"));
        assert!(!source.is_refreshable());
        let token = source.current_token().await.expect("token");
        assert_eq!(token.expose(), "pasted-token-value");
        assert!(matches!(
            source.refresh().await,
            Err(TokenError::NotRefreshable)
        ));
        assert!(matches!(
            source.refresh_rejected(&token).await,
            Err(TokenError::NotRefreshable)
        ));
        assert!(!format!("{source:?}").contains("pasted-token-value"));
    }
}
