//! Partial updates of a customer (`PATCH /customers/{id}`) and the merge of
//! an incoming row into an existing customer.
//!
//! A [`CustomerPatch`] names only the attributes to change. Each can be set
//! or cleared, so the patch that undoes a merge can restore a field that was
//! empty before. Lists (emails, phones, tags) are replaced whole, as JSON:API
//! replaces an attribute whose value is an array.
//!
//! Every change in a patch is absolute: a value to set, a value to clear,
//! or the whole new list, never "add this item". Sending a patch twice
//! therefore leaves the customer as sending it once does. That is what
//! makes resending safe when a merge's response was lost: the upload sends
//! the recorded patch again without first learning whether the server
//! applied it.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::customer::{Address, Customer};

/// The change a patch makes to one attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldChange<T> {
    /// Leave the attribute as it is (it is not sent).
    #[default]
    Keep,
    /// Give the attribute this value.
    Set(T),
    /// Remove the value (sent as JSON `null`).
    Clear,
}

impl<T> FieldChange<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }

    /// Returns the change that sets an attribute back to `previous`:
    /// `Set` when it had a value, `Clear` when it had none.
    pub fn restore(previous: Option<T>) -> Self {
        match previous {
            Some(value) => Self::Set(value),
            None => Self::Clear,
        }
    }
}

/// A change to some attributes of a customer. Attributes left at their
/// default (`Keep` or `None`) are not sent, so the API keeps their values.
///
/// Serializes with serde (for the run journal) in its own form; the JSON
/// sent to the API comes from [`CustomerPatch::to_attributes`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerPatch {
    pub given_name: FieldChange<CompactString>,
    pub family_name: FieldChange<CompactString>,
    /// The address is set or cleared as a whole.
    pub address: FieldChange<Address>,
    /// The new full list of phone numbers, when it changes.
    pub phone_numbers: Option<Vec<CompactString>>,
    /// The new full list of email addresses, when it changes.
    pub email_addresses: Option<Vec<CompactString>>,
    /// The new full list of tags, when it changes.
    pub tags: Option<Vec<CompactString>>,
    pub permission_to_contact: FieldChange<bool>,
}

impl CustomerPatch {
    /// Returns whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Returns the JSON:API `attributes` object of the request: changed
    /// attributes only, cleared ones as `null`, lists as arrays (an empty
    /// array clears a list).
    pub fn to_attributes(&self) -> Map<String, Value> {
        let mut attributes = Map::new();
        put_change(&mut attributes, "givenName", &self.given_name);
        put_change(&mut attributes, "familyName", &self.family_name);
        put_change(&mut attributes, "address", &self.address);
        put_list(&mut attributes, "phoneNumbers", &self.phone_numbers);
        put_list(&mut attributes, "emailAddresses", &self.email_addresses);
        put_list(&mut attributes, "tags", &self.tags);
        put_change(
            &mut attributes,
            "permissionToContact",
            &self.permission_to_contact,
        );
        attributes
    }

    /// Reads a patch from the `attributes` of a `PATCH` request: the inverse
    /// of [`CustomerPatch::to_attributes`]. `null` clears an attribute (an
    /// empty list for emails, phones and tags), read-only `createdAt` and
    /// `updatedAt` and unknown members are ignored. The error names the
    /// attribute whose value has the wrong type.
    pub fn from_attributes(attributes: &Map<String, Value>) -> Result<Self, String> {
        let mut patch = Self::default();
        for (name, value) in attributes {
            match name.as_str() {
                "givenName" => patch.given_name = read_change(name, value)?,
                "familyName" => patch.family_name = read_change(name, value)?,
                "address" => patch.address = read_address(value)?,
                "permissionToContact" => patch.permission_to_contact = read_change(name, value)?,
                "phoneNumbers" => patch.phone_numbers = Some(read_list(name, value)?),
                "emailAddresses" => patch.email_addresses = Some(read_list(name, value)?),
                "tags" => patch.tags = Some(read_list(name, value)?),
                _ => {}
            }
        }
        Ok(patch)
    }

    /// Returns whether `customer` already has every value the patch sets,
    /// so that applying it would change nothing. Values are compared
    /// exactly, so a server that rewrites a value (trims it, say) makes
    /// this false.
    pub fn is_applied_to(&self, customer: &Customer) -> bool {
        let mut patched = customer.clone();
        self.apply_to(&mut patched);
        patched == *customer
    }

    /// Applies the patch to `customer` as the API would.
    pub fn apply_to(&self, customer: &mut Customer) {
        apply_change(&mut customer.given_name, &self.given_name);
        apply_change(&mut customer.family_name, &self.family_name);
        apply_change(&mut customer.address, &self.address);
        apply_change(
            &mut customer.permission_to_contact,
            &self.permission_to_contact,
        );
        if let Some(list) = &self.phone_numbers {
            customer.phone_numbers = list.clone();
        }
        if let Some(list) = &self.email_addresses {
            customer.email_addresses = list.clone();
        }
        if let Some(list) = &self.tags {
            customer.tags = list.clone();
        }
    }
}

fn put_change<T: Serialize>(
    attributes: &mut Map<String, Value>,
    name: &str,
    change: &FieldChange<T>,
) {
    let value = match change {
        FieldChange::Keep => return,
        // Strings, booleans and `Address` always serialize, so the `Null`
        // fallback is never used.
        FieldChange::Set(value) => serde_json::to_value(value).unwrap_or(Value::Null),
        FieldChange::Clear => Value::Null,
    };
    attributes.insert(name.to_owned(), value);
}

fn put_list(attributes: &mut Map<String, Value>, name: &str, list: &Option<Vec<CompactString>>) {
    if let Some(list) = list {
        let items = list
            .iter()
            .map(|item| Value::String(item.to_string()))
            .collect();
        attributes.insert(name.to_owned(), Value::Array(items));
    }
}

fn read_change<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &Value,
) -> Result<FieldChange<T>, String> {
    if value.is_null() {
        return Ok(FieldChange::Clear);
    }
    serde_json::from_value(value.clone())
        .map(FieldChange::Set)
        .map_err(|err| format!("{name} has the wrong type: {err}"))
}

fn read_address(value: &Value) -> Result<FieldChange<Address>, String> {
    if value.is_null() {
        return Ok(FieldChange::Clear);
    }
    let mut value = value.clone();
    super::wire::strip_nulls(&mut value);
    serde_json::from_value(value)
        .map(FieldChange::Set)
        .map_err(|err| format!("address has the wrong type: {err}"))
}

fn read_list(name: &str, value: &Value) -> Result<Vec<CompactString>, String> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    serde_json::from_value(value.clone())
        .map_err(|err| format!("{name} must be a list of strings: {err}"))
}

fn apply_change<T: Clone>(field: &mut Option<T>, change: &FieldChange<T>) {
    match change {
        FieldChange::Keep => {}
        FieldChange::Set(value) => *field = Some(value.clone()),
        FieldChange::Clear => *field = None,
    }
}

/// A merge of an incoming row into an existing customer, with the patch
/// that undoes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merge {
    /// Adds the row's new emails, phones and tags and fills empty fields.
    pub patch: CustomerPatch,
    /// Restores every attribute `patch` changes to its value in the
    /// existing customer, clearing those that were empty.
    pub inverse: CustomerPatch,
}

/// Computes the patch that merges `incoming` into `existing`, or `None`
/// when the merge would change nothing.
///
/// The patch adds the emails, phones and tags of `incoming` that `existing`
/// lacks (emails compared by [`email_key`], tags ignoring case), and fills
/// the names, the address and the contact permission where `existing` has
/// none. It never overwrites a value: the address is filled only when the
/// existing one is entirely empty, because mixing parts of two addresses
/// would give a wrong one.
pub fn merge_patch(existing: &Customer, incoming: &Customer) -> Option<Merge> {
    let mut merge = Merge {
        patch: CustomerPatch::default(),
        inverse: CustomerPatch::default(),
    };
    fill_empty_fields(existing, incoming, &mut merge);
    add_list_items(existing, incoming, &mut merge);
    (!merge.patch.is_empty()).then_some(merge)
}

fn fill_empty_fields(existing: &Customer, incoming: &Customer, merge: &mut Merge) {
    let (patch, inverse) = (&mut merge.patch, &mut merge.inverse);
    if let Some(value) = fill(&existing.given_name, &incoming.given_name) {
        patch.given_name = FieldChange::Set(value);
        inverse.given_name = FieldChange::restore(existing.given_name.clone());
    }
    if let Some(value) = fill(&existing.family_name, &incoming.family_name) {
        patch.family_name = FieldChange::Set(value);
        inverse.family_name = FieldChange::restore(existing.family_name.clone());
    }
    if let Some(address) = fill_address(&existing.address, &incoming.address) {
        patch.address = FieldChange::Set(address);
        inverse.address = FieldChange::restore(existing.address.clone());
    }
    if let (None, Some(value)) = (
        existing.permission_to_contact,
        incoming.permission_to_contact,
    ) {
        patch.permission_to_contact = FieldChange::Set(value);
        inverse.permission_to_contact = FieldChange::Clear;
    }
}

fn add_list_items(existing: &Customer, incoming: &Customer, merge: &mut Merge) {
    let (patch, inverse) = (&mut merge.patch, &mut merge.inverse);
    if let Some(list) = union(
        &existing.email_addresses,
        &incoming.email_addresses,
        email_key,
    ) {
        patch.email_addresses = Some(list);
        inverse.email_addresses = Some(existing.email_addresses.clone());
    }
    if let Some(list) = union(&existing.phone_numbers, &incoming.phone_numbers, phone_key) {
        patch.phone_numbers = Some(list);
        inverse.phone_numbers = Some(existing.phone_numbers.clone());
    }
    if let Some(list) = union(&existing.tags, &incoming.tags, tag_key) {
        patch.tags = Some(list);
        inverse.tags = Some(existing.tags.clone());
    }
}

/// Returns the key under which two email addresses count as the same: the
/// local part as written and the domain in lower case, both trimmed.
pub fn email_key(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_owned(),
    }
}

/// Returns the key under which two phone numbers count as the same. Numbers
/// arrive in E.164 form, so only surrounding spaces are ignored.
pub fn phone_key(phone: &str) -> String {
    phone.trim().to_owned()
}

/// Returns the key under which two tags count as the same: tags differing
/// only in case would show as duplicates in Business App.
fn tag_key(tag: &str) -> String {
    tag.trim().to_lowercase()
}

fn is_blank(value: &Option<CompactString>) -> bool {
    value.as_deref().is_none_or(|text| text.trim().is_empty())
}

fn fill(
    existing: &Option<CompactString>,
    incoming: &Option<CompactString>,
) -> Option<CompactString> {
    if !is_blank(existing) || is_blank(incoming) {
        return None;
    }
    incoming.clone()
}

fn fill_address(existing: &Option<Address>, incoming: &Option<Address>) -> Option<Address> {
    let existing_empty = existing.as_ref().is_none_or(Address::is_empty);
    let incoming = incoming.as_ref().filter(|address| !address.is_empty())?;
    existing_empty.then(|| incoming.clone())
}

/// Returns `existing` followed by the items of `incoming` whose key it does
/// not contain yet, or `None` when there are none.
fn union(
    existing: &[CompactString],
    incoming: &[CompactString],
    key: fn(&str) -> String,
) -> Option<Vec<CompactString>> {
    let mut keys: Vec<String> = existing.iter().map(|item| key(item)).collect();
    let mut merged = existing.to_vec();
    for item in incoming {
        let item_key = key(item);
        if item.trim().is_empty() || keys.contains(&item_key) {
            continue;
        }
        keys.push(item_key);
        merged.push(item.trim().into());
    }
    (merged.len() > existing.len()).then_some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(email: &str, phone: &str) -> Customer {
        Customer {
            email_addresses: vec![email.into()],
            phone_numbers: vec![phone.into()],
            ..Customer::default()
        }
    }

    #[test]
    fn merge_adds_new_contacts_and_tags() {
        let mut existing = customer("ann@example.com", "+13065551234");
        existing.tags = vec!["VIP".into()];
        let mut incoming = customer("ann@EXAMPLE.com", "+13065550000");
        incoming.email_addresses.push("ann.work@example.com".into());
        incoming.tags = vec!["vip".into(), "Imported".into()];

        let merge = merge_patch(&existing, &incoming).expect("a change");
        assert_eq!(
            merge.patch.email_addresses,
            Some(vec![
                "ann@example.com".into(),
                "ann.work@example.com".into()
            ])
        );
        assert_eq!(
            merge.patch.phone_numbers,
            Some(vec!["+13065551234".into(), "+13065550000".into()])
        );
        assert_eq!(
            merge.patch.tags,
            Some(vec!["VIP".into(), "Imported".into()])
        );
        assert_eq!(
            merge.inverse.email_addresses,
            Some(existing.email_addresses.clone())
        );
        assert_eq!(merge.inverse.tags, Some(existing.tags.clone()));
    }

    #[test]
    fn merge_fills_only_empty_fields() {
        let mut existing = customer("ann@example.com", "+13065551234");
        existing.given_name = Some("Ann".into());
        existing.family_name = Some("  ".into());
        let mut incoming = existing.clone();
        incoming.given_name = Some("Anne".into());
        incoming.family_name = Some("Smith".into());

        let merge = merge_patch(&existing, &incoming).expect("a change");
        assert!(merge.patch.given_name.is_keep());
        assert_eq!(merge.patch.family_name, FieldChange::Set("Smith".into()));
        assert_eq!(merge.inverse.family_name, FieldChange::Set("  ".into()));
    }

    #[test]
    fn merge_fills_address_only_when_empty() {
        let partial = Address {
            city: Some("Kalamazoo".into()),
            ..Address::default()
        };
        let full = Address {
            street_address: Some("123 Fake St.".into()),
            city: Some("Saskatoon".into()),
            region_code: Some("CA-SK".into()),
            country_code: Some("CA".into()),
        };
        let mut existing = customer("ann@example.com", "+13065551234");
        let mut incoming = existing.clone();
        incoming.address = Some(full.clone());

        existing.address = Some(partial);
        assert_eq!(merge_patch(&existing, &incoming), None);

        existing.address = None;
        let merge = merge_patch(&existing, &incoming).expect("a change");
        assert_eq!(merge.patch.address, FieldChange::Set(full));
        assert_eq!(merge.inverse.address, FieldChange::Clear);
    }

    #[test]
    fn merge_of_same_customer_is_none() {
        let existing = customer("ann@example.com", "+13065551234");
        let incoming = customer(" ann@Example.COM ", "+13065551234");
        assert_eq!(merge_patch(&existing, &incoming), None);
    }

    #[test]
    fn inverse_restores_the_existing_customer() {
        let mut existing = customer("ann@example.com", "+13065551234");
        existing.permission_to_contact = None;
        let mut incoming = customer("bob@example.com", "+13065550000");
        incoming.given_name = Some("Bob".into());
        incoming.permission_to_contact = Some(true);
        incoming.tags = vec!["Imported".into()];

        let merge = merge_patch(&existing, &incoming).expect("a change");
        let mut record = existing.clone();
        merge.patch.apply_to(&mut record);
        assert_eq!(record.given_name.as_deref(), Some("Bob"));
        assert_eq!(record.permission_to_contact, Some(true));
        merge.inverse.apply_to(&mut record);
        assert_eq!(record, existing);
    }

    #[test]
    fn patch_is_idempotent() {
        let existing = customer("ann@example.com", "+13065551234");
        let mut incoming = customer("ann.work@example.com", "+13065550000");
        incoming.given_name = Some("Ann".into());
        incoming.tags = vec!["Imported".into()];
        let merge = merge_patch(&existing, &incoming).expect("a change");

        let mut once = existing.clone();
        merge.patch.apply_to(&mut once);
        let mut twice = once.clone();
        merge.patch.apply_to(&mut twice);
        assert_eq!(twice, once);
        assert!(merge.patch.is_applied_to(&once));
        assert!(!merge.patch.is_applied_to(&existing));

        // The request carries whole lists and set values only.
        let attributes = Value::Object(merge.patch.to_attributes());
        assert_eq!(
            attributes["emailAddresses"],
            serde_json::json!(["ann@example.com", "ann.work@example.com"])
        );
        assert_eq!(
            attributes["phoneNumbers"],
            serde_json::json!(["+13065551234", "+13065550000"])
        );
        assert_eq!(attributes["givenName"], serde_json::json!("Ann"));
    }

    #[test]
    fn attributes_send_clears_as_null() {
        let patch = CustomerPatch {
            given_name: FieldChange::Clear,
            family_name: FieldChange::Set("Smith".into()),
            tags: Some(Vec::new()),
            ..CustomerPatch::default()
        };
        let json = Value::Object(patch.to_attributes());
        assert_eq!(
            json,
            serde_json::json!({"givenName": null, "familyName": "Smith", "tags": []})
        );
    }

    #[test]
    fn attributes_read_back_into_the_same_patch() {
        let patch = CustomerPatch {
            given_name: FieldChange::Clear,
            address: FieldChange::Set(Address {
                city: Some("Saskatoon".into()),
                ..Address::default()
            }),
            phone_numbers: Some(vec!["+13065551234".into()]),
            tags: Some(Vec::new()),
            permission_to_contact: FieldChange::Set(true),
            ..CustomerPatch::default()
        };
        let read = CustomerPatch::from_attributes(&patch.to_attributes()).expect("a patch");
        assert_eq!(read, patch);
        let mut wrong = Map::new();
        wrong.insert("tags".into(), Value::from("VIP"));
        let error = CustomerPatch::from_attributes(&wrong).expect_err("tags must be a list");
        assert!(error.starts_with("tags must be a list"), "{error}");
    }

    #[test]
    fn patch_round_trips_through_serde() {
        let patch = CustomerPatch {
            address: FieldChange::Clear,
            email_addresses: Some(vec!["a@example.com".into()]),
            ..CustomerPatch::default()
        };
        let text = serde_json::to_string(&patch).expect("serialize");
        let back: CustomerPatch = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, patch);
    }
}
