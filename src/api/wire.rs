//! The JSON:API documents of the customers API: request bodies for create
//! and update, and the parsing of customer records and list pages.

use serde_json::{Map, Value, json};

use super::CustomerRecord;
use super::error::qualify_customer_id;
use crate::customer::Customer;

/// Media type of every request and response body.
pub const JSON_API: &str = "application/vnd.api+json";

/// Builds the body of `POST /customers`.
pub(crate) fn create_body(location: &str, customer: &Customer) -> Value {
    json!({
        "data": {
            "type": "customers",
            "attributes": customer_attributes(customer),
            "relationships": {
                "businessLocation": { "data": { "type": "businessLocation", "id": location } }
            }
        }
    })
}

/// Builds the body of `PATCH /customers/{id}`.
pub(crate) fn update_body(id: &str, attributes: Map<String, Value>) -> Value {
    json!({ "data": { "type": "customers", "id": id, "attributes": attributes } })
}

/// Returns the attributes of a customer without members that have no value,
/// because the API expects missing attributes to be left out, not `null`.
pub fn customer_attributes(customer: &Customer) -> Value {
    let mut value = serde_json::to_value(customer).unwrap_or(Value::Null);
    strip_nulls(&mut value);
    value
}

/// Removes object members whose value is `null`, recursively.
pub(crate) fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, member| !member.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Reads customer attributes, treating `null` members as missing so that a
/// server writing `"tags": null` does not make the record unreadable.
pub fn parse_attributes(attributes: &Value) -> Result<Customer, serde_json::Error> {
    let mut attributes = attributes.clone();
    strip_nulls(&mut attributes);
    serde_json::from_value(attributes)
}

/// Reads one resource object (`{"type", "id", "attributes", "relationships"}`).
/// The location comes from the `businessLocation` relationship, else from
/// the id, else from `request_location`; a bare `CUSTOMER-...` id is
/// qualified with it.
pub(crate) fn parse_record(
    resource: &Value,
    request_location: Option<&str>,
) -> Result<CustomerRecord, String> {
    let raw_id = resource
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or("the customer has no id")?;
    let attributes = resource.get("attributes").unwrap_or(&Value::Null);
    let customer = if attributes.is_null() {
        Customer::default()
    } else {
        parse_attributes(attributes).map_err(|err| format!("invalid attributes: {err}"))?
    };
    let location = resource
        .pointer("/relationships/businessLocation/data/id")
        .and_then(Value::as_str)
        .or_else(|| raw_id.split_once(':').map(|(location, _)| location))
        .or(request_location)
        .map(str::to_owned);
    let id = qualify_customer_id(raw_id, location.as_deref());
    let created_at = attributes
        .get("createdAt")
        .and_then(Value::as_str)
        .and_then(|text| text.trim().parse().ok());
    Ok(CustomerRecord {
        id,
        location,
        customer,
        created_at,
    })
}

/// Reads a document whose `data` is one customer of `request_location`.
pub(crate) fn parse_single(
    body: &[u8],
    request_location: Option<&str>,
) -> Result<CustomerRecord, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|err| format!("the body is not JSON: {err}"))?;
    let data = document.get("data").ok_or("the body has no data member")?;
    parse_record(data, request_location)
}

/// A list document: its customers and its `links.next`, if any.
pub(crate) struct ListDocument {
    pub customers: Vec<CustomerRecord>,
    pub next: Option<String>,
}

/// Reads a document whose `data` is an array of customers. `links.next`
/// may be a string or a link object with `href`, as JSON:API allows both.
pub(crate) fn parse_list(
    body: &[u8],
    request_location: Option<&str>,
) -> Result<ListDocument, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|err| format!("the body is not JSON: {err}"))?;
    let items = match document.get("data") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(Value::Null) | None => &[],
        Some(_) => return Err("data is not an array".to_owned()),
    };
    let customers = items
        .iter()
        .map(|item| parse_record(item, request_location))
        .collect::<Result<_, _>>()?;
    let next = match document.pointer("/links/next") {
        Some(Value::String(href)) => Some(href.clone()),
        Some(Value::Object(link)) => link.get("href").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
    .filter(|href| !href.trim().is_empty());
    Ok(ListDocument { customers, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_in_guide_form() {
        let body = br#"{"data":{"type":"customers","id":"AG-123:CUSTOMER-123",
            "attributes":{"givenName":"William","phoneNumbers":["+13065551234"],
            "emailAddresses":["example@email.com"],"tags":null,"permissionToContact":true,
            "createdAt":"2019-08-24T14:15:22Z"},
            "relationships":{"businessLocation":{"data":{"type":"businessLocation","id":"AG-123"}}}}}"#;
        let record = parse_single(body, None).expect("a record");
        assert_eq!(record.id, "AG-123:CUSTOMER-123");
        assert_eq!(record.location.as_deref(), Some("AG-123"));
        assert_eq!(record.customer.given_name.as_deref(), Some("William"));
        assert!(record.customer.tags.is_empty());
        assert_eq!(record.customer.permission_to_contact, Some(true));
        let created: jiff::Timestamp = "2019-08-24T14:15:22Z".parse().expect("a time");
        assert_eq!(record.created_at, Some(created));
    }

    #[test]
    fn created_at_missing_or_invalid_is_none() {
        let missing = br#"{"data":{"type":"customers","id":"AG-1:CUSTOMER-1","attributes":{}}}"#;
        assert_eq!(
            parse_single(missing, None).expect("a record").created_at,
            None
        );
        let invalid = br#"{"data":{"type":"customers","id":"AG-1:CUSTOMER-1",
            "attributes":{"createdAt":"yesterday"}}}"#;
        assert_eq!(
            parse_single(invalid, None).expect("a record").created_at,
            None
        );
        let offset = br#"{"data":{"type":"customers","id":"AG-1:CUSTOMER-1",
            "attributes":{"createdAt":"2019-08-24T16:15:22+02:00"}}}"#;
        let expected: jiff::Timestamp = "2019-08-24T14:15:22Z".parse().expect("a time");
        assert_eq!(
            parse_single(offset, None).expect("a record").created_at,
            Some(expected)
        );
    }

    #[test]
    fn location_from_id_when_relationship_missing() {
        let body = br#"{"data":{"type":"customers","id":"AG-9:CUSTOMER-1","attributes":{}}}"#;
        let record = parse_single(body, Some("AG-1")).expect("a record");
        assert_eq!(record.location.as_deref(), Some("AG-9"));
    }

    #[test]
    fn bare_id_qualified_with_request_location() {
        let body = br#"{"data":{"type":"customers","id":"CUSTOMER-1","attributes":{}}}"#;
        let record = parse_single(body, Some("AG-1")).expect("a record");
        assert_eq!(record.id, "AG-1:CUSTOMER-1");
        assert_eq!(record.location.as_deref(), Some("AG-1"));
    }

    #[test]
    fn next_link_as_string_or_object() {
        let as_string =
            br#"{"data":[],"links":{"next":"https://h/business/customers?page%5Bcursor%5D=abc"}}"#;
        let as_object = br#"{"data":[],"links":{"next":{"href":"/customers?x=1"}}}"#;
        let last = br#"{"data":[],"links":{"next":""}}"#;
        assert!(parse_list(as_string, None).expect("list").next.is_some());
        assert_eq!(
            parse_list(as_object, None).expect("list").next.as_deref(),
            Some("/customers?x=1")
        );
        assert!(parse_list(last, None).expect("list").next.is_none());
    }

    #[test]
    fn create_body_leaves_out_missing_values() {
        let customer = Customer {
            email_addresses: vec!["a@example.com".into()],
            ..Customer::default()
        };
        let body = create_body("AG-1", &customer);
        assert_eq!(
            body.pointer("/data/attributes"),
            Some(&json!({"emailAddresses": ["a@example.com"]}))
        );
        assert_eq!(
            body.pointer("/data/relationships/businessLocation/data/id"),
            Some(&json!("AG-1"))
        );
    }
}
