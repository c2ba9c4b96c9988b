//! Conflicts foreseen before sending: the emails and phones of each
//! location's existing customers, listed page by page, to mark the rows
//! the server would reject with `409`.

use std::collections::HashMap;

use crate::api::{ApiError, Client, Conflict, email_key, phone_key};
use crate::customer::Customer;

/// Page size for listing existing customers.
const PAGE_SIZE: u32 = 100;

/// The emails and phones already on file, per business location.
#[derive(Debug, Clone, Default)]
pub struct ExistingCustomers {
    /// `(location, key)` to the conflict a row with that email or phone
    /// would meet; keys are `email:` or `phone:` and the API's matching key.
    contacts: HashMap<(String, String), Conflict>,
    customers: usize,
}

impl ExistingCustomers {
    /// Lists every customer of each location. Fails on the first request
    /// that fails; the caller decides whether to retry.
    pub async fn load(client: &Client, locations: &[String]) -> Result<Self, ApiError> {
        let mut existing = Self::default();
        for location in locations {
            let records = client.list_all_customers(location, PAGE_SIZE).await?;
            for record in records {
                existing.add(location, &record.id, &record.customer);
            }
        }
        Ok(existing)
    }

    /// Adds one existing customer of `location`.
    pub fn add(&mut self, location: &str, id: &str, customer: &Customer) {
        self.customers += 1;
        let emails = customer.email_addresses.iter().map(|email| {
            (
                "emailAddresses",
                email,
                format!("email:{}", email_key(email)),
            )
        });
        let phones = customer
            .phone_numbers
            .iter()
            .map(|phone| ("phoneNumbers", phone, format!("phone:{}", phone_key(phone))));
        for (field, value, key) in emails.chain(phones) {
            self.contacts
                .entry((location.to_owned(), key))
                .or_insert_with(|| Conflict {
                    field: field.to_owned(),
                    value: value.to_string(),
                    existing_id: id.to_owned(),
                });
        }
    }

    /// Returns the number of existing customers listed.
    pub fn len(&self) -> usize {
        self.customers
    }

    pub fn is_empty(&self) -> bool {
        self.customers == 0
    }

    /// Returns the conflict that sending `customer` to `location` would
    /// meet: its first email, then its first phone, already on file.
    pub fn conflict_for(&self, location: &str, customer: &Customer) -> Option<Conflict> {
        let emails = customer
            .email_addresses
            .iter()
            .map(|email| format!("email:{}", email_key(email)));
        let phones = customer
            .phone_numbers
            .iter()
            .map(|phone| format!("phone:{}", phone_key(phone)));
        emails
            .chain(phones)
            .find_map(|key| self.contacts.get(&(location.to_owned(), key)).cloned())
    }
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
    fn conflicts_found_per_location() {
        let mut existing = ExistingCustomers::default();
        existing.add(
            "AG-1",
            "AG-1:CUSTOMER-1",
            &customer("ann@example.com", "+13135550100"),
        );
        assert_eq!(existing.len(), 1);

        let by_email = existing
            .conflict_for("AG-1", &customer("ann@EXAMPLE.com", "+13135550199"))
            .expect("email on file");
        assert_eq!(by_email.field, "emailAddresses");
        assert_eq!(by_email.existing_id, "AG-1:CUSTOMER-1");

        let by_phone = existing
            .conflict_for("AG-1", &customer("bob@example.com", "+13135550100"))
            .expect("phone on file");
        assert_eq!(by_phone.field, "phoneNumbers");
        assert_eq!(by_phone.value, "+13135550100");

        assert!(
            existing
                .conflict_for("AG-2", &customer("ann@example.com", "+1"))
                .is_none()
        );
        assert!(
            existing
                .conflict_for("AG-1", &customer("cy@example.com", "+1"))
                .is_none()
        );
    }
}
