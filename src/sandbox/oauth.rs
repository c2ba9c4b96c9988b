//! `POST /oauth2/token`: issues sandbox tokens for service-account
//! assertions, using the JWT bearer grant of RFC 7523 with the request and
//! error forms of RFC 6749 (section 4.1.3 and 5.2).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse as _, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};

use super::routes::{AppState, Counters};

/// The `grant_type` of a JWT bearer assertion (RFC 7523, section 2.1).
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// `expires_in` of an issued token when tokens do not expire.
const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(3600);

/// Claims an assertion must carry.
const REQUIRED_CLAIMS: [&str; 4] = ["iss", "sub", "aud", "exp"];

/// Handles a token request: checks the grant, the assertion and the scope,
/// and returns `{"access_token", "token_type": "Bearer", "expires_in"}`.
/// A request for a scope other than `customers` gets a token that receives
/// `403` on customers requests, so a test can exercise a missing scope.
pub(super) async fn issue_token(
    State(state): State<Arc<AppState>>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(
            "invalid_request",
            "the body must be an application/x-www-form-urlencoded form",
        );
    };
    let assertion = match read_grant(&form) {
        Ok(assertion) => assertion,
        Err((code, detail)) => return oauth_error(code, &detail),
    };
    if let Err(detail) = check_assertion(&state, assertion) {
        tracing::debug!(
            reason = detail,
            "sandbox rejected a service-account assertion"
        );
        return oauth_error("invalid_grant", &detail);
    }

    // A request without a scope gets the customers scope, the only one the
    // sandbox serves.
    let scope = form.get("scope").map_or("customers", String::as_str);
    let has_scope = scope.split_whitespace().any(|item| item == "customers");
    let token = state.tokens.issue(has_scope);
    Counters::add(&state.stats.tokens_issued);
    let expires_in = state.tokens.ttl().unwrap_or(DEFAULT_EXPIRES_IN).as_secs();
    let body = json!({
        "access_token": token.expose(),
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
    });
    oauth_response(StatusCode::OK, &body)
}

/// Returns the assertion of a JWT bearer grant request, or the OAuth error
/// code and description for a request that is not one.
fn read_grant(form: &HashMap<String, String>) -> Result<&str, (&'static str, String)> {
    match form.get("grant_type").map(String::as_str) {
        Some(JWT_BEARER_GRANT) => {}
        Some(other) => {
            let detail = format!("grant_type {other} is not supported");
            return Err(("unsupported_grant_type", detail));
        }
        None => return Err(("invalid_request", "grant_type is missing".to_owned())),
    }
    form.get("assertion")
        .map(|text| text.trim())
        .filter(|text| !text.is_empty())
        .ok_or(("invalid_request", "assertion is missing".to_owned()))
}

/// Checks that the assertion is an RS256 JWT with the required claims and,
/// when the sandbox has a public key, its signature, `aud` and `exp`.
/// The error states what is wrong with it.
fn check_assertion(state: &AppState, assertion: &str) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|err| format!("the assertion is not a JWT: {err}"))?;
    if header.alg != Algorithm::RS256 {
        return Err(format!(
            "the assertion is signed with {:?}, not RS256",
            header.alg
        ));
    }
    let Some(key) = &state.assertion_key else {
        let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
            .map_err(|err| format!("the assertion claims cannot be read: {err}"))?;
        return match REQUIRED_CLAIMS
            .iter()
            .find(|claim| claims.get(**claim).is_none())
        {
            Some(missing) => Err(format!("the assertion has no {missing} claim")),
            None => Ok(()),
        };
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&state.assertion_audience]);
    validation.set_required_spec_claims(&REQUIRED_CLAIMS);
    jsonwebtoken::decode::<Value>(assertion, key, &validation)
        .map(|_| ())
        .map_err(|err| match err.kind() {
            ErrorKind::InvalidSignature => {
                "the assertion signature does not match the public key".to_owned()
            }
            ErrorKind::ExpiredSignature => "the assertion has expired".to_owned(),
            ErrorKind::InvalidAudience => {
                format!("the assertion aud must be {}", state.assertion_audience)
            }
            ErrorKind::MissingRequiredClaim(claim) => format!("the assertion has no {claim} claim"),
            _ => format!("the assertion is invalid: {err}"),
        })
}

fn oauth_error(code: &str, description: &str) -> Response {
    let body = json!({ "error": code, "error_description": description });
    oauth_response(StatusCode::BAD_REQUEST, &body)
}

/// Returns a token endpoint response, which must not be cached (RFC 6749,
/// section 5.1).
fn oauth_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}
