//! Why a request to the customers API failed: one [`ApiError`] variant per
//! kind of failure, with a lowercase `Display` that names the method, host
//! and status (a conflict names only its status), and a sentence-case
//! [`ApiError::user_message`] that tells the user what to do next.
//!
//! This module also turns reqwest errors and non-success responses into
//! `ApiError`s. It accepts both spellings the two API documents use for an
//! error's text (`detail` and `details`) and for the conflicting customer id
//! (`conflictingCustomerId` and `conflictingCustomerID`), and bodies that are
//! HTML or empty, as a gateway in front of the API may send.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Conflict;

/// Maximum number of characters of a server's error text kept in an error.
const MAX_DETAIL_CHARS: usize = 300;

/// The method and host of a failed request, shown as `POST prod.apigateway.co`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    pub method: Method,
    /// Host name, with `:port` when the URL names a port.
    pub host: String,
}

impl fmt::Display for RequestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.host)
    }
}

/// The resource a `404 Not Found` refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A business location id such as `AG-123` (create and list).
    Location(String),
    /// A full customer id such as `AG-123:CUSTOMER-456` (get, update, delete).
    Customer(String),
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Location(id) => write!(f, "business location {id}"),
            Self::Customer(id) => write!(f, "customer {id}"),
        }
    }
}

/// A failed request to the customers API.
///
/// No variant contains the token. Errors are built from the status, the
/// response body and the cause of a transport failure. The client first
/// replaces any copy of the token in a response body, because a careless
/// server may echo request headers into its error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The base URL given to [`super::Client::new`] cannot be used.
    #[error("invalid base url '{url}': {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    /// The base URL is plain `http://` to a host other than loopback, which
    /// would send the token unencrypted.
    #[error("plain http is allowed only to loopback, not to {host}: use https")]
    InsecureBaseUrl { url: String, host: String },
    /// The token contains characters an HTTP header cannot carry.
    #[error("{request}: the token contains characters that cannot be sent in a header")]
    InvalidToken { request: RequestSummary },
    /// `409`: an email or phone of the customer already belongs to another
    /// customer of the location. Unlike the other variants it does not name
    /// the request: a conflict is an outcome for one row, not a failure of
    /// the connection.
    #[error(
        "409 conflict: {} {} already belongs to {}",
        .0.field, .0.value, .0.existing_id
    )]
    Conflict(Conflict),
    /// `401`: the token expired or is invalid.
    #[error("{request}: 401 unauthorized")]
    Unauthorized { request: RequestSummary },
    /// `403`: the token lacks the `customers` scope or has no access to the
    /// business location.
    #[error("{request}: 403 forbidden{}", suffix(.detail))]
    Forbidden {
        request: RequestSummary,
        detail: Option<String>,
    },
    /// `404`: the business location or the customer does not exist.
    #[error("{request}: 404 not found: {resource}")]
    NotFound {
        request: RequestSummary,
        resource: Resource,
    },
    /// Another `4xx`, such as `422` for a body the API does not accept.
    #[error("{request}: {status} rejected{}", suffix(.detail))]
    Rejected {
        request: RequestSummary,
        status: u16,
        detail: Option<String>,
    },
    /// `429`: too many requests. `retry_after` comes from the `Retry-After`
    /// header (seconds or an HTTP date), when the server sent one.
    #[error("{request}: 429 too many requests{}", retry_suffix(.retry_after))]
    RateLimited {
        request: RequestSummary,
        retry_after: Option<Duration>,
    },
    /// `5xx`: the server or a gateway in front of it failed.
    #[error("{request}: {status} server error{}", suffix(.detail))]
    ServerError {
        request: RequestSummary,
        status: u16,
        detail: Option<String>,
    },
    /// `3xx` to another host, or to the same host with a method-changing
    /// status: the client does not follow it, so the token never leaves the
    /// host of the base URL.
    #[error("{request}: {status} redirect not followed{}", location_suffix(.location))]
    Redirected {
        request: RequestSummary,
        status: u16,
        location: Option<String>,
    },
    /// No complete response within the timeout. `request_sent` is false only
    /// when the connection itself could not be made in time.
    #[error("{request}: timed out after {} s", .timeout.as_secs_f32())]
    TimedOut {
        request: RequestSummary,
        timeout: Duration,
        request_sent: bool,
    },
    /// The connection could not be made (refused, DNS, TLS), so the request
    /// never reached the server.
    #[error("{request}: connection failed: {reason}")]
    ConnectionFailed {
        request: RequestSummary,
        reason: String,
    },
    /// The connection was made and the request sent, then the connection
    /// closed or reset before a response arrived, so the server may have
    /// carried the request out.
    #[error(
        "{request}: connection closed before a response, the request may have reached the server: {reason}"
    )]
    ResponseLost {
        request: RequestSummary,
        reason: String,
    },
    /// A success status with a body that is not the expected JSON:API
    /// document. The server did carry the request out.
    #[error("{request}: {status} response could not be read: {reason}")]
    InvalidResponse {
        request: RequestSummary,
        status: u16,
        reason: String,
    },
}

fn suffix(detail: &Option<String>) -> String {
    detail
        .as_ref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

fn retry_suffix(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|delay| format!(", retry after {} s", delay.as_secs()))
        .unwrap_or_default()
}

fn location_suffix(location: &Option<String>) -> String {
    location
        .as_ref()
        .map(|l| format!(" (to {l})"))
        .unwrap_or_default()
}

impl ApiError {
    /// Returns the HTTP status of the response, or `None` when no response
    /// arrived or the request was never sent.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Conflict(_) => Some(409),
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::RateLimited { .. } => Some(429),
            Self::Rejected { status, .. }
            | Self::ServerError { status, .. }
            | Self::Redirected { status, .. }
            | Self::InvalidResponse { status, .. } => Some(*status),
            Self::InvalidBaseUrl { .. }
            | Self::InsecureBaseUrl { .. }
            | Self::InvalidToken { .. }
            | Self::TimedOut { .. }
            | Self::ConnectionFailed { .. }
            | Self::ResponseLost { .. } => None,
        }
    }

    /// Returns whether sending the same request again may succeed: timeouts,
    /// connection failures, lost responses, `5xx`, `429` and `408`.
    ///
    /// A `401` is not retryable as is: the caller needs a new token first
    /// (see [`ApiError::needs_new_token`]). Other `4xx` are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::TimedOut { .. }
            | Self::ConnectionFailed { .. }
            | Self::ResponseLost { .. }
            | Self::ServerError { .. }
            | Self::RateLimited { .. } => true,
            Self::Rejected { status, .. } => *status == 408,
            _ => false,
        }
    }

    /// Returns whether the request can only succeed with another token: `401`,
    /// or a token that cannot be sent at all.
    pub fn needs_new_token(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::InvalidToken { .. })
    }

    /// Returns whether the server may have carried the request out even
    /// though no success response arrived.
    ///
    /// True for a response lost after sending (reset, closed connection,
    /// timeout after connecting), for every `5xx` (a gateway may time out
    /// while the service behind it completes the request) and for a success
    /// status whose body could not be read. A create that fails this way is
    /// ambiguous: retrying it may meet a `409` naming the customer it made.
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Self::TimedOut { request_sent, .. } => *request_sent,
            Self::ResponseLost { .. } | Self::ServerError { .. } | Self::InvalidResponse { .. } => {
                true
            }
            _ => false,
        }
    }

    /// Returns the delay the server asked for in `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Returns the conflict of a `409`.
    pub fn conflict(&self) -> Option<&Conflict> {
        match self {
            Self::Conflict(conflict) => Some(conflict),
            _ => None,
        }
    }

    /// Returns the error for a log line: like `Display`, but without the
    /// parts that can contain a customer's details. These are a conflict's
    /// value, the server's error text (a `422` may quote the email it
    /// rejects), a redirect's target and the reason a body was unreadable.
    /// Logs keep row numbers and ids only.
    pub fn log_summary(&self) -> String {
        match self {
            Self::Conflict(conflict) => format!(
                "409 conflict: {} already belongs to {}",
                conflict.field, conflict.existing_id
            ),
            Self::Forbidden { request, .. } => format!("{request}: 403 forbidden"),
            Self::Rejected {
                request, status, ..
            } => format!("{request}: {status} rejected"),
            Self::ServerError {
                request, status, ..
            } => format!("{request}: {status} server error"),
            Self::Redirected {
                request, status, ..
            } => format!("{request}: {status} redirect not followed"),
            Self::InvalidResponse {
                request, status, ..
            } => format!("{request}: {status} response could not be read"),
            Self::InvalidBaseUrl { .. }
            | Self::InsecureBaseUrl { .. }
            | Self::InvalidToken { .. }
            | Self::Unauthorized { .. }
            | Self::NotFound { .. }
            | Self::RateLimited { .. }
            | Self::TimedOut { .. }
            | Self::ConnectionFailed { .. }
            | Self::ResponseLost { .. } => self.to_string(),
        }
    }

    /// Returns a sentence for the user that says what went wrong and what
    /// to do next.
    pub fn user_message(&self) -> String {
        match self {
            Self::InvalidBaseUrl { url, reason } => format!(
                "The address \"{url}\" is not a valid API address ({reason}). Enter a base URL \
                 such as https://prod.apigateway.co/business."
            ),
            Self::InsecureBaseUrl { url, .. } => format!(
                "The address {url} uses plain http://, which would send the token unencrypted. \
                 Use an https:// address; plain http:// is allowed only to this computer."
            ),
            Self::InvalidToken { .. } => "The token contains spaces or characters a token cannot \
                 have. Paste the token again, exactly as it was issued."
                .to_owned(),
            Self::Conflict(conflict) => format!(
                "A customer with the {} {} already exists ({}). Skip this row or merge it into \
                 the existing customer.",
                field_label(&conflict.field),
                conflict.value,
                conflict.existing_id
            ),
            Self::Unauthorized { .. } => "The API token was not accepted: it has expired or is \
                 invalid. Paste a new token, or sign in again with the service account, and \
                 continue."
                .to_owned(),
            Self::Forbidden { .. } => "The token may not manage customers here: it lacks the \
                 \"customers\" scope or has no access to this business location. Create a token \
                 with the customers scope for an account that can open this location."
                .to_owned(),
            Self::NotFound { resource, .. } => not_found_message(resource),
            Self::Rejected { status, detail, .. } => rejected_message(*status, detail.as_deref()),
            Self::RateLimited { retry_after, .. } => rate_limited_message(*retry_after),
            Self::ServerError { .. }
            | Self::Redirected { .. }
            | Self::TimedOut { .. }
            | Self::ConnectionFailed { .. }
            | Self::ResponseLost { .. }
            | Self::InvalidResponse { .. } => self.transport_message(),
        }
    }

    /// Returns the user message of a server failure, a redirect or a
    /// transport failure.
    fn transport_message(&self) -> String {
        match self {
            Self::ServerError {
                request, status, ..
            } => format!(
                "The server at {} had a problem (status {status}). Try again in a few minutes.",
                request.host
            ),
            Self::Redirected {
                request, location, ..
            } => format!(
                "The server at {} sent the request on to {}, which the importer does not follow \
                 so that the token stays with {}. Check the base URL.",
                request.host,
                location.as_deref().unwrap_or("another address"),
                request.host
            ),
            Self::TimedOut {
                request, timeout, ..
            } => format!(
                "The server at {} did not respond within {} seconds. Check the network connection \
                 and try again.",
                request.host,
                timeout.as_secs().max(1)
            ),
            Self::ConnectionFailed { request, reason } => format!(
                "Could not reach {}: there is no network connection or the address is wrong \
                 ({reason}). Check the internet connection and the base URL, then try again.",
                request.host
            ),
            Self::ResponseLost { request, .. } => format!(
                "The connection to {} closed before the server responded, so the change may or may \
                 not have been made. Check the customer in Business App, or try again.",
                request.host
            ),
            Self::InvalidResponse { request, .. } => format!(
                "The server at {} sent a response the importer cannot read. Check that the base \
                 URL points at the Business API.",
                request.host
            ),
            // `user_message` handles every other variant itself.
            other => format!("The request failed: {other}."),
        }
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "emailAddresses" => "email address",
        "phoneNumbers" => "phone number",
        other => other,
    }
}

fn not_found_message(resource: &Resource) -> String {
    match resource {
        Resource::Location(id) => format!(
            "Business location {id} was not found. Check the location id (it starts with AG-) \
             in Business App."
        ),
        Resource::Customer(id) => {
            format!("Customer {id} was not found. It may have been deleted in Business App.")
        }
    }
}

fn rejected_message(status: u16, detail: Option<&str>) -> String {
    match detail {
        Some(detail) => format!(
            "The server rejected the request (status {status}): {detail}. Correct the row and \
             try again."
        ),
        None => format!(
            "The server rejected the request with status {status}. Correct the row and try again."
        ),
    }
}

fn rate_limited_message(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!(
            "The server is receiving too many requests and asked to wait {} seconds. Wait, then \
             try again.",
            delay.as_secs().max(1)
        ),
        None => {
            "The server is receiving too many requests. Wait a minute, then try again.".to_owned()
        }
    }
}

/// Details of the failed operation that the response alone lacks: the
/// location that qualifies a bare conflicting id, and the resource a `404`
/// refers to.
#[derive(Debug, Clone)]
pub(crate) struct ErrorContext {
    pub request: RequestSummary,
    /// Business location of the request, used to qualify a bare
    /// `CUSTOMER-...` id in a conflict.
    pub location: Option<String>,
    pub resource: Resource,
}

/// Turns a transport failure (no status received) into an [`ApiError`].
pub(crate) fn from_transport(
    request: RequestSummary,
    error: &reqwest::Error,
    timeout: Duration,
) -> ApiError {
    // reqwest marks a connect timeout as both a connect and a timeout error;
    // only then is it certain that nothing was sent.
    if error.is_timeout() {
        return ApiError::TimedOut {
            request,
            timeout,
            request_sent: !error.is_connect(),
        };
    }
    if error.is_connect() || error.is_builder() {
        return ApiError::ConnectionFailed {
            request,
            reason: connection_reason(error),
        };
    }
    ApiError::ResponseLost {
        request,
        reason: error_chain(error),
    }
}

/// Describes a connection failure in plain words where the cause is known.
fn connection_reason(error: &reqwest::Error) -> String {
    if error.is_dns() {
        return "the host name could not be resolved".to_owned();
    }
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".to_owned(),
                std::io::ErrorKind::NetworkUnreachable => {
                    return "network unreachable".to_owned();
                }
                _ => {}
            }
        }
        source = current.source();
    }
    error_chain(error)
}

/// Joins the messages of an error and its sources with `: `, leaving out
/// the URL that reqwest adds.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(current) = source {
        let text = current.to_string();
        if !text.is_empty() && !parts.iter().any(|part: &String| part.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    if parts.is_empty() {
        return "no further detail".to_owned();
    }
    parts.join(": ")
}

/// Turns a response with a status other than `2xx` into an [`ApiError`].
/// Any body gives an error: a body that is HTML, empty or not the `errors` envelope
/// only loses the detail.
pub(crate) fn from_response(
    context: &ErrorContext,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiError {
    let request = context.request.clone();
    let errors = parse_error_objects(body);
    let detail = errors.iter().find_map(ErrorObject::text);
    match status.as_u16() {
        401 => ApiError::Unauthorized { request },
        403 => ApiError::Forbidden { request, detail },
        404 => ApiError::NotFound {
            request,
            resource: context.resource.clone(),
        },
        409 => conflict_or_rejection(context, &errors, detail),
        429 => ApiError::RateLimited {
            request,
            retry_after: parse_retry_after(headers, SystemTime::now()),
        },
        code @ 300..=399 => ApiError::Redirected {
            request,
            status: code,
            location: header_text(headers, LOCATION),
        },
        code @ 500..=599 => ApiError::ServerError {
            request,
            status: code,
            detail,
        },
        code => ApiError::Rejected {
            request,
            status: code,
            detail,
        },
    }
}

/// Returns the conflict a `409` names. A `409` that names no existing
/// customer cannot be merged, so it becomes a plain rejection with
/// whatever text came.
fn conflict_or_rejection(
    context: &ErrorContext,
    errors: &[ErrorObject],
    detail: Option<String>,
) -> ApiError {
    let location = context.location.as_deref();
    match errors.iter().find_map(|error| error.conflict(location)) {
        Some(conflict) => ApiError::Conflict(conflict),
        None => ApiError::Rejected {
            request: context.request.clone(),
            status: 409,
            detail,
        },
    }
}

fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Reads `Retry-After` as delay seconds or as an HTTP date (RFC 9110,
/// section 10.2.3). A date in the past gives a zero delay.
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// One entry of the JSON:API `errors` array. Every member is optional
/// because the two API documents and gateways disagree on them.
#[derive(Debug, Default, Deserialize)]
struct ErrorObject {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    /// The guide's spelling of `detail`.
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    meta: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    errors: Vec<ErrorObject>,
}

fn parse_error_objects(body: &[u8]) -> Vec<ErrorObject> {
    serde_json::from_slice::<ErrorEnvelope>(body)
        .map(|envelope| envelope.errors)
        .unwrap_or_default()
}

impl ErrorObject {
    /// Returns the human text of the error, shortened to
    /// [`MAX_DETAIL_CHARS`].
    fn text(&self) -> Option<String> {
        let text = [&self.detail, &self.details, &self.title]
            .into_iter()
            .flatten()
            .map(|text| text.trim())
            .find(|text| !text.is_empty())?;
        Some(truncate(text, MAX_DETAIL_CHARS))
    }

    /// Reads the conflict from `meta`, accepting `conflictingCustomerId`
    /// and `conflictingCustomerID`, and qualifying a bare id with
    /// `location`.
    fn conflict(&self, location: Option<&str>) -> Option<Conflict> {
        let meta = self.meta.as_ref()?;
        let member = |name: &str| {
            meta.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, value)| value.as_str())
                .map(|text| text.trim().to_owned())
        };
        let id = member("conflictingCustomerId").filter(|id| !id.is_empty())?;
        Some(Conflict {
            field: member("field").unwrap_or_default(),
            value: member("fieldValue").unwrap_or_default(),
            existing_id: qualify_customer_id(&id, location),
        })
    }
}

/// Turns a bare `CUSTOMER-...` id into `AG-...:CUSTOMER-...` with the
/// location. A full id, or a bare one without a known location, is
/// returned as given.
pub fn qualify_customer_id(id: &str, location: Option<&str>) -> String {
    match location {
        Some(location) if !id.contains(':') && !location.is_empty() => format!("{location}:{id}"),
        _ => id.to_owned(),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(location: Option<&str>) -> ErrorContext {
        ErrorContext {
            request: RequestSummary {
                method: Method::POST,
                host: "api.example.com".to_owned(),
            },
            location: location.map(str::to_owned),
            resource: Resource::Location("AG-123".to_owned()),
        }
    }

    fn error_for(status: u16, body: &str) -> ApiError {
        let status = StatusCode::from_u16(status).expect("valid status");
        from_response(
            &context(Some("AG-123")),
            status,
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn conflict_in_guide_form() {
        let body = r#"{"errors":[{"status":"409","title":"Already exists",
            "details":"A customers already exists with matching values",
            "meta":{"conflictingCustomerId":"AG-123:CUSTOMER-456","field":"emailAddresses",
            "fieldValue":"example@email.com","resourceType":"customers"}}]}"#;
        let error = error_for(409, body);
        let conflict = error.conflict().expect("a conflict");
        assert_eq!(conflict.existing_id, "AG-123:CUSTOMER-456");
        assert_eq!(conflict.field, "emailAddresses");
        assert_eq!(conflict.value, "example@email.com");
    }

    #[test]
    fn conflict_in_openapi_form_is_qualified() {
        let body = r#"{"errors":[{"code":"ResourceAlreadyExists","status":"409",
            "detail":"A customers already exists with matching values",
            "meta":{"conflictingCustomerID":"CUSTOMER-7e5c","field":"phoneNumbers",
            "fieldValue":"+13065551234"}}]}"#;
        let error = error_for(409, body);
        let conflict = error.conflict().expect("a conflict");
        assert_eq!(conflict.existing_id, "AG-123:CUSTOMER-7e5c");
        assert_eq!(conflict.field, "phoneNumbers");
    }

    #[test]
    fn conflict_without_meta_is_rejected() {
        let error = error_for(409, "<html><body>Conflict</body></html>");
        assert!(matches!(error, ApiError::Rejected { status: 409, .. }));
    }

    #[test]
    fn detail_read_from_either_spelling() {
        let guide = error_for(422, r#"{"errors":[{"details":"missing location"}]}"#);
        let openapi = error_for(422, r#"{"errors":[{"detail":"missing location"}]}"#);
        for error in [guide, openapi] {
            let ApiError::Rejected { detail, .. } = error else {
                panic!("expected Rejected, got {error:?}");
            };
            assert_eq!(detail.as_deref(), Some("missing location"));
        }
    }

    #[test]
    fn html_and_empty_bodies_still_give_errors() {
        let html = error_for(502, "<html><h1>502 Bad Gateway</h1></html>");
        assert!(matches!(
            html,
            ApiError::ServerError {
                status: 502,
                detail: None,
                ..
            }
        ));
        let empty = error_for(500, "");
        assert_eq!(empty.status(), Some(500));
        assert_eq!(empty.to_string(), "POST api.example.com: 500 server error");
    }

    #[test]
    fn retry_after_as_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().expect("header value"));
        assert_eq!(
            parse_retry_after(&headers, now),
            Some(Duration::from_secs(7))
        );

        // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT.
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:30 GMT"
                .parse()
                .expect("header value"),
        );
        assert_eq!(
            parse_retry_after(&headers, now),
            Some(Duration::from_secs(30))
        );

        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:27:00 GMT"
                .parse()
                .expect("header value"),
        );
        assert_eq!(parse_retry_after(&headers, now), Some(Duration::ZERO));

        headers.insert(RETRY_AFTER, "soon".parse().expect("header value"));
        assert_eq!(parse_retry_after(&headers, now), None);
    }

    #[test]
    fn retryable_statuses() {
        assert!(error_for(500, "").is_retryable());
        assert!(error_for(429, "").is_retryable());
        assert!(error_for(408, "").is_retryable());
        assert!(!error_for(422, "").is_retryable());
        assert!(!error_for(403, "").is_retryable());
        let unauthorized = error_for(401, "");
        assert!(!unauthorized.is_retryable());
        assert!(unauthorized.needs_new_token());
    }

    #[test]
    fn display_names_method_host_and_status() {
        assert_eq!(
            error_for(401, "").to_string(),
            "POST api.example.com: 401 unauthorized"
        );
        assert_eq!(
            error_for(404, "").to_string(),
            "POST api.example.com: 404 not found: business location AG-123"
        );
    }

    #[test]
    fn long_detail_is_truncated() {
        let long = "x".repeat(1000);
        let error = error_for(422, &format!(r#"{{"errors":[{{"detail":"{long}"}}]}}"#));
        let ApiError::Rejected {
            detail: Some(detail),
            ..
        } = error
        else {
            panic!("expected a detail");
        };
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS + 1);
    }

    #[test]
    fn qualify_keeps_full_ids() {
        assert_eq!(
            qualify_customer_id("AG-1:CUSTOMER-2", Some("AG-9")),
            "AG-1:CUSTOMER-2"
        );
        assert_eq!(
            qualify_customer_id("CUSTOMER-2", Some("AG-9")),
            "AG-9:CUSTOMER-2"
        );
        assert_eq!(qualify_customer_id("CUSTOMER-2", None), "CUSTOMER-2");
    }
}
