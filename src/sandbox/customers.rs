//! Handlers of the sandbox's customers API: create, list, get, update and
//! delete, with the request checks and responses the API documents describe.

use compact_str::CompactString;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value, json};

use super::documents;
use super::faults::Operation;
use super::routes::{AppState, admit, finish};
use super::server::ConnectionControl;
use super::store::{ChangeError, Order, Taken};
use crate::api::{CustomerPatch, parse_attributes};
use crate::customer::Customer;

/// Page size of a list request that names none.
const DEFAULT_PAGE_LIMIT: usize = 25;
/// Largest page served; a larger `page[limit]` is lowered to it.
const MAX_PAGE_LIMIT: usize = 100;
/// Most digits an E.164 number has (ITU-T E.164, section 6.1).
const MAX_E164_DIGITS: usize = 15;

type Shared = State<Arc<AppState>>;
type Connection = Extension<ConnectionControl>;

/// `POST /business/customers`.
pub(super) async fn create(
    State(state): Shared,
    Extension(connection): Connection,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&state, &connection, &headers, Operation::Create).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let response = create_customer(&state, &body);
    finish(&state, &connection, admitted, &Method::POST, response).await
}

/// `GET /business/customers?filter[businessLocation.id]=...`.
pub(super) async fn list(
    State(state): Shared,
    Extension(connection): Connection,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let admitted = match admit(&state, &connection, &headers, Operation::Other).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let response = list_customers(&state, query.as_deref().unwrap_or_default());
    finish(&state, &connection, admitted, &Method::GET, response).await
}

/// `GET /business/customers/{id}`.
pub(super) async fn get_one(
    State(state): Shared,
    Extension(connection): Connection,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admitted = match admit(&state, &connection, &headers, Operation::Other).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let response = match state.store.get(&id) {
        Some(stored) => documents::single(StatusCode::OK, &stored, &state.base_url),
        None => documents::unknown_customer(&id),
    };
    finish(&state, &connection, admitted, &Method::GET, response).await
}

/// `PATCH /business/customers/{id}`.
pub(super) async fn update(
    State(state): Shared,
    Extension(connection): Connection,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let admitted = match admit(&state, &connection, &headers, Operation::Update).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let response = update_customer(&state, &id, &body);
    finish(&state, &connection, admitted, &Method::PATCH, response).await
}

/// `DELETE /business/customers/{id}`.
pub(super) async fn delete(
    State(state): Shared,
    Extension(connection): Connection,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let admitted = match admit(&state, &connection, &headers, Operation::Other).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let response = if state.store.delete(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        documents::unknown_customer(&id)
    };
    finish(&state, &connection, admitted, &Method::DELETE, response).await
}

fn create_customer(state: &AppState, body: &[u8]) -> Response {
    let (location, customer) = match parse_create(body) {
        Ok(parsed) => parsed,
        Err(detail) => return documents::malformed(&detail),
    };
    if !state.store.has_location(&location) {
        return documents::unknown_location(&location);
    }
    if let Err(detail) = check_contacts(&customer) {
        return documents::malformed(&detail);
    }
    match state.store.create(&location, customer) {
        None => documents::unknown_location(&location),
        Some(Ok(stored)) => documents::single(StatusCode::CREATED, &stored, &state.base_url),
        Some(Err(taken)) => conflict(state, &taken, "/business/customers"),
    }
}

/// Reads the location and the customer of a create body. The error is the
/// detail of a `422`.
fn parse_create(body: &[u8]) -> Result<(String, Customer), String> {
    let data = parse_data(body)?;
    let location = data
        .get("relationships")
        .and_then(|relationships| relationships.pointer("/businessLocation/data/id"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or("relationships.businessLocation.data.id is required")?
        .to_owned();
    let customer = match data.get("attributes") {
        None | Some(Value::Null) => Customer::default(),
        Some(attributes @ Value::Object(_)) => {
            parse_attributes(attributes).map_err(|err| format!("invalid attributes: {err}"))?
        }
        Some(_) => return Err("data.attributes must be an object".to_owned()),
    };
    Ok((location, customer))
}

/// Reads the `data` member of a request body and checks its `type`.
fn parse_data(body: &[u8]) -> Result<Map<String, Value>, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|err| format!("the body is not valid JSON: {err}"))?;
    let Some(Value::Object(data)) = document.get("data") else {
        return Err("the body has no data object".to_owned());
    };
    match data.get("type") {
        None => {}
        Some(Value::String(kind)) if kind == "customers" => {}
        Some(other) => return Err(format!("data.type must be \"customers\", not {other}")),
    }
    Ok(data.clone())
}

/// Checks the rules of the API for a customer to store: at least one email
/// or phone, emails of the form `local@domain`, phones in E.164 form.
fn check_contacts(customer: &Customer) -> Result<(), String> {
    if !customer.has_contact() {
        return Err("at least one email address or phone number is required".to_owned());
    }
    check_lists(&customer.email_addresses, &customer.phone_numbers)
}

fn check_lists(emails: &[CompactString], phones: &[CompactString]) -> Result<(), String> {
    if let Some(email) = emails.iter().find(|email| !is_email(email)) {
        return Err(format!("'{email}' is not an email address"));
    }
    if let Some(phone) = phones.iter().find(|phone| !is_e164(phone)) {
        return Err(format!(
            "'{phone}' is not a phone number in E.164 form such as +13065551234"
        ));
    }
    Ok(())
}

fn is_email(email: &str) -> bool {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (1..=MAX_E164_DIGITS).contains(&digits.len())
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && !digits.starts_with('0')
}

fn conflict(state: &AppState, taken: &Taken, self_path: &str) -> Response {
    let style = state.faults().conflict_style(state.conflict_style);
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    documents::conflict(taken, style, &request_id, self_path)
}

fn update_customer(state: &AppState, id: &str, body: &[u8]) -> Response {
    let patch = match parse_update(id, body) {
        Ok(patch) => patch,
        Err(bad) => return bad.into_response(),
    };
    let new_emails = patch.email_addresses.as_deref().unwrap_or_default();
    let new_phones = patch.phone_numbers.as_deref().unwrap_or_default();
    if let Err(detail) = check_lists(new_emails, new_phones) {
        return documents::malformed(&detail);
    }
    match state.store.update(id, |customer| patch.apply_to(customer)) {
        Ok(stored) => documents::single(StatusCode::OK, &stored, &state.base_url),
        Err(ChangeError::NotFound) => documents::unknown_customer(id),
        Err(ChangeError::NoContact) => documents::malformed(
            "the update would leave the customer without an email address or phone number",
        ),
        Err(ChangeError::Conflict(taken)) => {
            conflict(state, &taken, &format!("/business/customers/{id}"))
        }
    }
}

/// The reason an update body was rejected.
enum BadUpdate {
    /// `422` with this detail.
    Malformed(String),
    /// `409`: `data.id` names another customer than the URL.
    IdMismatch(String),
}

impl BadUpdate {
    fn into_response(self) -> Response {
        match self {
            Self::Malformed(detail) => documents::malformed(&detail),
            Self::IdMismatch(detail) => {
                documents::error(StatusCode::CONFLICT, "IdMismatch", "Id mismatch", &detail)
            }
        }
    }
}

/// Reads the patch of an update body. A `data.id` other than the one in
/// the path gets `409`, as JSON:API requires.
fn parse_update(id: &str, body: &[u8]) -> Result<CustomerPatch, BadUpdate> {
    let data = parse_data(body).map_err(BadUpdate::Malformed)?;
    if let Some(body_id) = data.get("id").and_then(Value::as_str)
        && body_id != id
    {
        return Err(BadUpdate::IdMismatch(format!(
            "data.id {body_id} does not match the customer {id} of the URL"
        )));
    }
    match data.get("attributes") {
        Some(Value::Object(attributes)) => {
            CustomerPatch::from_attributes(attributes).map_err(BadUpdate::Malformed)
        }
        None => Ok(CustomerPatch::default()),
        Some(_) => Err(BadUpdate::Malformed(
            "data.attributes must be an object".to_owned(),
        )),
    }
}

/// The query of a list request.
struct ListQuery {
    location: String,
    limit: usize,
    after: Option<u64>,
    order: Order,
}

impl ListQuery {
    /// Parses the query string. The error is the detail of a `400`.
    fn parse(query: &str) -> Result<Self, String> {
        let mut location = None;
        let mut list = Self {
            location: String::new(),
            limit: DEFAULT_PAGE_LIMIT,
            after: None,
            order: Order::NewestFirst,
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "filter[businessLocation.id]" => location = Some(value.trim().to_owned()),
                "page[limit]" => list.limit = parse_limit(&value)?,
                "page[cursor]" => list.after = Some(parse_cursor(&value)?),
                "sort" => list.order = parse_sort(&value)?,
                _ => {}
            }
        }
        list.location = location
            .filter(|id| !id.is_empty())
            .ok_or("filter[businessLocation.id] is required")?;
        Ok(list)
    }
}

fn parse_limit(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("page[limit] '{value}' is not a positive number")),
        Ok(limit) => Ok(limit.min(MAX_PAGE_LIMIT)),
    }
}

/// Cursors are `c` and the creation sequence of the last customer of the
/// previous page.
fn parse_cursor(value: &str) -> Result<u64, String> {
    value
        .strip_prefix('c')
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| format!("page[cursor] '{value}' is not a cursor this server issued"))
}

fn parse_sort(value: &str) -> Result<Order, String> {
    match value {
        "-createdAt" => Ok(Order::NewestFirst),
        "createdAt" => Ok(Order::OldestFirst),
        other => Err(format!(
            "sort '{other}' is not supported: use createdAt or -createdAt"
        )),
    }
}

fn list_customers(state: &AppState, query: &str) -> Response {
    let list = match ListQuery::parse(query) {
        Ok(list) => list,
        Err(detail) => return documents::bad_query(&detail),
    };
    if !state.store.has_location(&list.location) {
        return documents::unknown_location(&list.location);
    }
    let (items, more) = state
        .store
        .page(&list.location, list.order, list.limit, list.after);
    let mut links = Map::new();
    links.insert(
        "self".to_owned(),
        Value::from(list_url(state, &list, list.after)),
    );
    if let Some(last) = items.last().filter(|_| more) {
        links.insert(
            "next".to_owned(),
            Value::from(list_url(state, &list, Some(last.sequence))),
        );
    }
    let data: Vec<Value> = items.iter().map(documents::resource).collect();
    documents::document(StatusCode::OK, &json!({ "data": data, "links": links }))
}

fn list_url(state: &AppState, list: &ListQuery, after: Option<u64>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("filter[businessLocation.id]", &list.location);
    query.append_pair("page[limit]", &list.limit.to_string());
    if let Some(after) = after {
        query.append_pair("page[cursor]", &format!("c{after}"));
    }
    let sort = match list.order {
        Order::NewestFirst => "-createdAt",
        Order::OldestFirst => "createdAt",
    };
    query.append_pair("sort", sort);
    format!("{}/customers?{}", state.base_url, query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_needs_location() {
        let body = br#"{"data":{"type":"customers","attributes":{"emailAddresses":["a@b.co"]}}}"#;
        let error = parse_create(body).expect_err("no location");
        assert!(error.contains("businessLocation"), "{error}");
        assert!(parse_create(b"{not json").is_err());
    }

    #[test]
    fn contact_rules() {
        let mut customer = Customer::default();
        assert!(check_contacts(&customer).is_err());
        customer.phone_numbers = vec!["+13065551234".into()];
        assert!(check_contacts(&customer).is_ok());
        customer.phone_numbers = vec!["306-555-1234".into()];
        assert!(check_contacts(&customer).is_err());
        customer.phone_numbers.clear();
        customer.email_addresses = vec!["ann at example.com".into()];
        assert!(check_contacts(&customer).is_err());
    }

    #[test]
    fn list_query_parses_and_clamps() {
        let list = ListQuery::parse(
            "filter%5BbusinessLocation.id%5D=AG-1&page%5Blimit%5D=250&page%5Bcursor%5D=c7&sort=createdAt",
        )
        .expect("a query");
        assert_eq!(list.location, "AG-1");
        assert_eq!(list.limit, MAX_PAGE_LIMIT);
        assert_eq!(list.after, Some(7));
        assert_eq!(list.order, Order::OldestFirst);
        assert!(ListQuery::parse("page[limit]=5").is_err());
        assert!(ListQuery::parse("filter[businessLocation.id]=AG-1&page[cursor]=zz").is_err());
        assert!(ListQuery::parse("filter[businessLocation.id]=AG-1&sort=givenName").is_err());
    }
}
