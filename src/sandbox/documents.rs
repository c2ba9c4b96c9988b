//! The response bodies of the sandbox: customer records and lists as
//! JSON:API documents, and errors in the `errors` envelope, including the
//! two documented forms of a conflict.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use super::ConflictStyle;
use super::store::{Stored, Taken};
use crate::api::{JSON_API, customer_attributes};

/// Marks a response as an injected fault, so it is counted as one rather
/// than as a real outcome.
#[derive(Debug, Clone, Copy)]
pub(super) struct Injected;

/// Returns a JSON:API document response.
pub(super) fn document(status: StatusCode, body: &Value) -> Response {
    (status, [(CONTENT_TYPE, JSON_API)], body.to_string()).into_response()
}

/// Returns the resource object of a stored customer.
pub(super) fn resource(stored: &Stored) -> Value {
    let mut attributes = customer_attributes(&stored.customer);
    if let Value::Object(map) = &mut attributes {
        // The API defaults the consent to false and always returns it.
        map.entry("permissionToContact")
            .or_insert(Value::Bool(false));
        // RFC 3339 in UTC, as the API documents show.
        map.insert(
            "createdAt".to_owned(),
            Value::from(stored.created_at.to_string()),
        );
        map.insert(
            "updatedAt".to_owned(),
            Value::from(stored.updated_at.to_string()),
        );
    }
    json!({
        "type": "customers",
        "id": stored.id,
        "attributes": attributes,
        "relationships": {
            "businessLocation": { "data": { "type": "businessLocation", "id": stored.location } }
        }
    })
}

/// Returns a document with one customer and its `links.self`.
pub(super) fn single(status: StatusCode, stored: &Stored, base_url: &str) -> Response {
    let self_link = format!("{base_url}/customers/{}", stored.id);
    document(
        status,
        &json!({ "data": resource(stored), "links": { "self": self_link } }),
    )
}

/// Returns an `errors` envelope with one error.
pub(super) fn error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = json!({
        "errors": [{
            "status": status.as_str(),
            "code": code,
            "title": title,
            "detail": detail,
        }]
    });
    document(status, &body)
}

pub(super) fn unauthorized() -> Response {
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "Unauthenticated",
        "Unauthorized",
        "The access token is missing, invalid or expired",
    );
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

pub(super) fn forbidden() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "PermissionDenied",
        "Forbidden",
        "The access token does not have the customers scope",
    )
}

pub(super) fn unknown_location(location: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "Not found",
        &format!("Business location {location} was not found"),
    )
}

pub(super) fn unknown_customer(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "Not found",
        &format!("Customer {id} was not found"),
    )
}

pub(super) fn malformed(detail: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "MalformedRequestBody",
        "Malformed request body",
        detail,
    )
}

pub(super) fn bad_query(detail: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidQuery",
        "Invalid query parameter",
        detail,
    )
}

pub(super) fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "ResourceExhausted",
        "Too many requests",
        "Slow down and retry after the time in Retry-After",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// Returns an injected error response in the form a server or a gateway in
/// front of it would send: HTML for `502` and `504`, an empty body for
/// `503`, `Retry-After` with a `429`, the `errors` envelope otherwise.
pub(super) fn injected_failure(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut response = match status.as_u16() {
        502 | 504 => {
            let html = format!(
                "<html><body><h1>{} {reason}</h1></body></html>",
                status.as_u16()
            );
            (status, [(CONTENT_TYPE, "text/html")], html).into_response()
        }
        503 => status.into_response(),
        429 => too_many_requests(1),
        _ => error(
            status,
            "Injected",
            reason,
            "A fault injected by the sandbox",
        ),
    };
    response.extensions_mut().insert(Injected);
    response
}

/// Returns the `409` response for an email or phone that is taken, in the
/// given form. `Mixed` must be resolved to one of the two forms first and
/// gives the OpenAPI form.
pub(super) fn conflict(
    taken: &Taken,
    style: ConflictStyle,
    request_id: &str,
    self_path: &str,
) -> Response {
    let entry = match style {
        ConflictStyle::Guide => guide_conflict(taken),
        ConflictStyle::OpenApi | ConflictStyle::Mixed => openapi_conflict(taken),
    };
    let body = json!({
        "errors": [entry],
        "meta": { "requestId": request_id },
        "links": { "self": { "href": self_path } }
    });
    document(StatusCode::CONFLICT, &body)
}

/// Builds a conflict entry in the guide's form: `details`, no `code`, and
/// the full id under `conflictingCustomerId`.
fn guide_conflict(taken: &Taken) -> Value {
    json!({
        "status": "409",
        "title": "Already exists",
        "details": "A customers already exists with matching values",
        "meta": {
            "conflictingCustomerId": taken.existing_id,
            "field": taken.field,
            "fieldValue": taken.value,
            "resourceType": "customers",
        }
    })
}

/// Builds a conflict entry in the OpenAPI form: `detail`,
/// `code: ResourceAlreadyExists`, and the bare `CUSTOMER-...` id under
/// `conflictingCustomerID`.
fn openapi_conflict(taken: &Taken) -> Value {
    let bare_id = taken
        .existing_id
        .split_once(':')
        .map_or(taken.existing_id.as_str(), |(_, bare)| bare);
    json!({
        "code": "ResourceAlreadyExists",
        "title": "Already exists",
        "detail": "A customers already exists with matching values",
        "status": "409",
        "meta": {
            "conflictingCustomerID": bare_id,
            "field": taken.field,
            "fieldValue": taken.value,
            "resourceType": "customers",
        }
    })
}
