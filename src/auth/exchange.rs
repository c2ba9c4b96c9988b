//! The service-account sign-in: an RS256 assertion signed with the key,
//! exchanged at the key's `token_uri` for an access token (the OAuth 2.0
//! JWT bearer grant of RFC 7523).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use serde_json::Value;

use super::key_file::ServiceAccountKey;
use crate::secret::Secret;

/// Grant type of the token request (RFC 7523, section 2.1).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Scope the customers API requires.
pub const CUSTOMERS_SCOPE: &str = "customers";

/// Lifetime written into each assertion (`exp - iat`). The assertion is
/// used once, within seconds of signing.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Largest token response read; real ones are well under 4 KB.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Maximum length, in characters, of a server error description kept in
/// a message.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// An access token and the lifetime the server gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: Secret,
    /// `expires_in` of the response; `None` when the server sent none, in
    /// which case the token is used until a request is rejected with 401.
    pub expires_in: Option<Duration>,
}

/// Error of a token request. No variant contains the private key, the
/// assertion or a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    #[error("could not sign the assertion for {issuer}: {reason}")]
    Signing { issuer: String, reason: String },
    #[error("POST {url}: could not reach the sign-in server: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: Arc<reqwest::Error>,
    },
    #[error("POST {url}: no answer within {timeout_secs} s")]
    TimedOut { url: String, timeout_secs: u64 },
    /// The server rejected the assertion (HTTP 400, 401 or 403).
    #[error("POST {url}: sign-in rejected with HTTP {status}{}", describe_oauth_error(.error_code, .description))]
    Rejected {
        url: String,
        status: u16,
        /// The OAuth `error` code, such as `invalid_grant`.
        error_code: Option<String>,
        /// The OAuth `error_description`, shortened, with the assertion
        /// removed if the server echoed it.
        description: Option<String>,
    },
    /// Any other unsuccessful status, such as 429 or 5xx.
    #[error("POST {url}: sign-in server failed with HTTP {status}")]
    ServerError { url: String, status: u16 },
    #[error("POST {url}: invalid token response: {reason}")]
    InvalidResponse { url: String, reason: String },
    /// The HTTP client could not be built (no TLS backend, for example).
    #[error("could not set up the HTTP client for sign-in: {reason}")]
    HttpClient { reason: String },
    /// A pasted API token was rejected and there is no key to get another.
    #[error("the pasted API token was rejected and cannot be refreshed")]
    NotRefreshable,
}

fn describe_oauth_error(code: &Option<String>, description: &Option<String>) -> String {
    match (code, description) {
        (Some(code), Some(description)) => format!(" ({code}: {description})"),
        (Some(code), None) => format!(" ({code})"),
        (None, Some(description)) => format!(" ({description})"),
        (None, None) => String::new(),
    }
}

impl TokenError {
    /// Returns the text to show the user: what went wrong and what to do.
    pub fn user_message(&self) -> String {
        const NEW_KEY: &str = "download a new key file for the service account and choose it";
        match self {
            Self::Signing { reason, .. } => {
                format!("Could not sign in with the service-account key ({reason}): {NEW_KEY}.")
            }
            Self::Unreachable { url, .. } => format!(
                "Could not reach the sign-in server {}. Check the internet connection and try \
                 again.",
                host_of(url)
            ),
            Self::TimedOut { url, timeout_secs } => format!(
                "The sign-in server {} did not answer within {timeout_secs} seconds. Try again \
                 in a few minutes.",
                host_of(url)
            ),
            Self::Rejected {
                status,
                error_code,
                description,
                ..
            } => format!(
                "The sign-in server rejected the service-account key (HTTP {status}{}). The key \
                 may have been deleted or the service account disabled: {NEW_KEY}.",
                describe_oauth_error(error_code, description)
            ),
            Self::ServerError { url, status } => format!(
                "The sign-in server {} had a problem (HTTP {status}). Try again in a few minutes.",
                host_of(url)
            ),
            Self::InvalidResponse { url, reason } => format!(
                "The sign-in server {} sent an answer the importer cannot use ({reason}). Check \
                 that the key file belongs to the environment you chose, then try again.",
                host_of(url)
            ),
            Self::HttpClient { reason } => format!(
                "The importer could not set up secure connections ({reason}). Restart it, and \
                 if the problem stays, reinstall it."
            ),
            Self::NotRefreshable => "The API token was rejected. It may have expired or lack the \
                                     customers scope: create a new token, paste it, and try again."
                .to_owned(),
        }
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    /// Also sent as a form field. The platform's published examples put
    /// the scope in the assertion; sending both suits either reading.
    scope: &'a str,
}

/// Builds the HTTP client for token requests. It follows no redirects,
/// because reqwest resends the form body on a 307 or 308, which would send
/// the assertion to another address, possibly over plain http.
pub fn token_client() -> Result<reqwest::Client, TokenError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| TokenError::HttpClient {
            reason: error.to_string(),
        })
}

/// Signs an RS256 assertion for `key`, issued at `now`, with `kid` set to
/// the key's `private_key_id`.
pub fn sign_assertion(key: &ServiceAccountKey, now: SystemTime) -> Result<Secret, TokenError> {
    let issued_at = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| TokenError::Signing {
            issuer: key.issuer().to_owned(),
            reason: "the computer's clock is set before 1970".to_owned(),
        })?
        .as_secs();
    let claims = Claims {
        aud: key.audience(),
        iss: key.issuer(),
        sub: key.subject(),
        iat: issued_at,
        exp: issued_at + ASSERTION_LIFETIME.as_secs(),
        scope: CUSTOMERS_SCOPE,
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.private_key_id().to_owned());
    jsonwebtoken::encode(&header, &claims, key.encoding_key())
        .map(Secret::new)
        .map_err(|error| TokenError::Signing {
            issuer: key.issuer().to_owned(),
            reason: error.to_string(),
        })
}

/// Signs an assertion and exchanges it at the key's `token_uri` for an
/// access token with the `customers` scope. Pass a client from
/// [`token_client`], because one that follows redirects could leak the
/// assertion.
///
/// `timeout` bounds the whole request. A rejection (400, 401, 403) fails
/// with [`TokenError::Rejected`], which retrying will not fix. The other
/// [`TokenError`] variants may pass on a later attempt.
pub async fn exchange(
    client: &reqwest::Client,
    key: &ServiceAccountKey,
    timeout: Duration,
) -> Result<AccessToken, TokenError> {
    let assertion = sign_assertion(key, SystemTime::now())?;
    let url = key.token_uri().to_string();
    tracing::debug!(issuer = key.issuer(), %url, "requesting an access token");
    let form = [
        ("grant_type", JWT_BEARER_GRANT),
        ("assertion", assertion.expose()),
        ("scope", CUSTOMERS_SCOPE),
    ];
    let sent = client
        .post(key.token_uri().clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .timeout(timeout)
        .send()
        .await;
    let response = sent.map_err(|error| send_error(&url, error, timeout))?;
    let status = response.status();
    let body = read_limited(response)
        .await
        .map_err(|error| send_error(&url, error, timeout))?;

    if status.is_success() {
        return parse_token_response(&url, &body);
    }
    Err(status_error(&url, status.as_u16(), &body, &assertion))
}

fn send_error(url: &str, error: reqwest::Error, timeout: Duration) -> TokenError {
    if error.is_timeout() {
        return TokenError::TimedOut {
            url: url.to_owned(),
            timeout_secs: timeout.as_secs(),
        };
    }
    TokenError::Unreachable {
        url: url.to_owned(),
        source: Arc::new(error),
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`] of the body; the rest is dropped.
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_RESPONSE_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(body)
}

/// Reads `access_token` and `expires_in` (a number, or a number in a
/// string, as some servers send) from a successful response.
fn parse_token_response(url: &str, body: &[u8]) -> Result<AccessToken, TokenError> {
    let invalid = |reason: &str| TokenError::InvalidResponse {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("it is not a JSON object"));
    };
    let token = match fields.get("access_token") {
        Some(Value::String(token)) if !token.trim().is_empty() => Secret::new(token.trim()),
        Some(_) => return Err(invalid("`access_token` is empty or not text")),
        None => return Err(invalid("`access_token` is missing")),
    };
    let expires_in = match fields.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            parse_seconds(value)
                .ok_or_else(|| invalid("`expires_in` is not a number of seconds"))?,
        ),
    };
    Ok(AccessToken { token, expires_in })
}

/// Reads a non-negative number of seconds from a JSON number or text.
fn parse_seconds(value: &Value) -> Option<Duration> {
    let seconds = match value {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // `try_from_secs_f64` rejects negative, infinite and NaN values.
    Duration::try_from_secs_f64(seconds).ok()
}

/// Builds the error for an unsuccessful status. The OAuth error body of
/// RFC 6749 section 5.2 is read when present; HTML or empty bodies from a
/// proxy leave only the status.
fn status_error(url: &str, status: u16, body: &[u8], assertion: &Secret) -> TokenError {
    if (300..400).contains(&status) {
        return TokenError::InvalidResponse {
            url: url.to_owned(),
            reason: format!("it redirects (HTTP {status}), and token requests are not redirected"),
        };
    }
    if !matches!(status, 400 | 401 | 403) {
        return TokenError::ServerError {
            url: url.to_owned(),
            status,
        };
    }
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => fields,
        _ => Default::default(),
    };
    let text_field = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .map(|text| clean_server_text(text, assertion))
            .filter(|text| !text.is_empty())
    };
    TokenError::Rejected {
        url: url.to_owned(),
        status,
        error_code: text_field("error"),
        description: text_field("error_description"),
    }
}

/// Removes an echoed assertion and control characters from server text,
/// and shortens it to [`MAX_DESCRIPTION_CHARS`].
fn clean_server_text(text: &str, assertion: &Secret) -> String {
    let text = text.replace(assertion.expose(), "<assertion>");
    let mut cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        cleaned.push('…');
    }
    cleaned.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://sso.example.test/oauth2/token";

    #[test]
    fn token_response_with_number_expiry() {
        let body = br#"{"access_token": "abc", "expires_in": 3600, "token_type": "Bearer"}"#;
        let token = parse_token_response(URL, body).expect("token");
        assert_eq!(token.token.expose(), "abc");
        assert_eq!(token.expires_in, Some(Duration::from_secs(3600)));
    }

    #[test]
    fn token_response_with_text_or_no_expiry() {
        let text = parse_token_response(URL, br#"{"access_token": "abc", "expires_in": "120"}"#);
        assert_eq!(
            text.expect("token").expires_in,
            Some(Duration::from_secs(120))
        );
        let none = parse_token_response(URL, br#"{"access_token": "abc"}"#);
        assert_eq!(none.expect("token").expires_in, None);
    }

    #[test]
    fn token_response_errors() {
        let cases: [(&[u8], &str); 5] = [
            (b"<html>502</html>", "it is not a JSON object"),
            (br#"{"token": "abc"}"#, "`access_token` is missing"),
            (
                br#"{"access_token": 5}"#,
                "`access_token` is empty or not text",
            ),
            (
                br#"{"access_token": "a", "expires_in": "soon"}"#,
                "`expires_in` is not a number of seconds",
            ),
            (
                br#"{"access_token": "a", "expires_in": -5}"#,
                "`expires_in` is not a number of seconds",
            ),
        ];
        for (body, reason) in cases {
            let error = parse_token_response(URL, body).expect_err(reason);
            assert_eq!(
                error.to_string(),
                format!("POST {URL}: invalid token response: {reason}")
            );
        }
    }

    #[test]
    fn rejection_reads_oauth_error_and_hides_assertion() {
        let assertion = Secret::new("eyJhbGciOiJSUzI1NiJ9.payload.signature");
        let body = br#"{"error": "invalid_grant", "error_description": "bad assertion eyJhbGciOiJSUzI1NiJ9.payload.signature"}"#;
        let error = status_error(URL, 400, body, &assertion);
        assert_eq!(
            error.to_string(),
            format!(
                "POST {URL}: sign-in rejected with HTTP 400 (invalid_grant: bad assertion <assertion>)"
            )
        );
        assert!(!format!("{error:?}").contains("payload.signature"));
    }

    #[test]
    fn rejection_without_json_body() {
        let error = status_error(URL, 401, b"<html>no</html>", &Secret::new("x.y.z"));
        assert_eq!(
            error.to_string(),
            format!("POST {URL}: sign-in rejected with HTTP 401")
        );
        assert!(
            error
                .user_message()
                .starts_with("The sign-in server rejected")
        );
    }

    #[test]
    fn other_statuses_are_server_errors() {
        for status in [429, 500, 502, 503] {
            let error = status_error(URL, status, b"", &Secret::new("x.y.z"));
            assert!(matches!(error, TokenError::ServerError { .. }));
            assert!(error.user_message().contains("sso.example.test"));
        }
    }

    #[test]
    fn server_text_is_shortened_and_cleaned() {
        let long = format!("line\nbreak {}", "x".repeat(500));
        let cleaned = clean_server_text(&long, &Secret::new("unrelated"));
        assert!(cleaned.starts_with("line break "));
        assert_eq!(cleaned.chars().count(), MAX_DESCRIPTION_CHARS + 1);
        assert!(cleaned.ends_with('…'));
    }
}
