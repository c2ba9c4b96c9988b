//! The sandbox's customers, in memory, per business location, with the
//! email and phone indexes that find conflicts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use super::state::{ChangeSignal, Snapshot};
use crate::api::{CustomerRecord, email_key, phone_key};
use crate::customer::Customer;

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Stored {
    pub id: String,
    pub location: String,
    /// Creation order within the sandbox; lists are sorted by it.
    pub sequence: u64,
    pub customer: Customer,
    /// Time of creation, sent as the `createdAt` attribute.
    pub created_at: jiff::Timestamp,
    /// Time of the last change, sent as the `updatedAt` attribute.
    pub updated_at: jiff::Timestamp,
}

impl Stored {
    pub fn to_record(&self) -> CustomerRecord {
        CustomerRecord {
            id: self.id.clone(),
            location: Some(self.location.clone()),
            customer: self.customer.clone(),
            created_at: Some(self.created_at),
        }
    }
}

/// An email or phone that already belongs to another customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Taken {
    pub existing_id: String,
    /// `emailAddresses` or `phoneNumbers`.
    pub field: &'static str,
    /// The value as the request wrote it.
    pub value: String,
}

/// A failure to seed a customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("unknown business location {0}")]
    UnknownLocation(String),
    #[error("the customer has no email address and no phone number")]
    NoContact,
    #[error("{field} {value} already belongs to {existing_id}")]
    Conflict {
        field: String,
        value: String,
        existing_id: String,
    },
}

/// A failure to change a stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ChangeError {
    NotFound,
    Conflict(Taken),
    /// The change would leave the customer with no email and no phone.
    NoContact,
}

/// Sort order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    OldestFirst,
    NewestFirst,
}

#[derive(Default)]
struct LocationData {
    customers: BTreeMap<u64, Stored>,
    sequence_by_id: HashMap<String, u64>,
    sequence_by_email: HashMap<String, u64>,
    sequence_by_phone: HashMap<String, u64>,
}

struct Inner {
    locations: HashMap<String, LocationData>,
    next_sequence: u64,
    /// Source of customer ids, seeded so that a seeded run repeats them.
    rng: StdRng,
}

/// All customers of the sandbox, behind one lock held only for the length
/// of a lookup or change.
pub(super) struct Store {
    inner: Mutex<Inner>,
    /// The configured locations, in configuration order.
    location_ids: Vec<String>,
    /// Told of every change, when the customers are kept in a state file.
    changes: Option<Arc<ChangeSignal>>,
}

impl Store {
    pub fn new(location_ids: Vec<String>, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let locations = location_ids
            .iter()
            .map(|id| (id.clone(), LocationData::default()))
            .collect();
        Self {
            inner: Mutex::new(Inner {
                locations,
                next_sequence: 1,
                rng,
            }),
            location_ids,
            changes: None,
        }
    }

    /// Tells `changes` of every change from now on.
    pub fn notify_changes(&mut self, changes: Arc<ChangeSignal>) {
        self.changes = Some(changes);
    }

    fn changed(&self) {
        if let Some(changes) = &self.changes {
            changes.notify();
        }
    }

    /// Replaces every customer with those of `snapshot` that belong to a
    /// configured location, and returns how many were left out because
    /// their location is not configured.
    pub fn restore(&self, snapshot: Snapshot) -> usize {
        let mut guard = self.lock();
        let inner = &mut *guard;
        for data in inner.locations.values_mut() {
            *data = LocationData::default();
        }
        let mut left_out = 0;
        let mut next_sequence = snapshot.next_sequence.max(1);
        for stored in snapshot.customers {
            let Some(data) = inner.locations.get_mut(&stored.location) else {
                left_out += 1;
                continue;
            };
            next_sequence = next_sequence.max(stored.sequence.saturating_add(1));
            index(data, &stored);
            data.customers.insert(stored.sequence, stored);
        }
        inner.next_sequence = next_sequence;
        left_out
    }

    /// Returns every customer, oldest first, and the next sequence number.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        let mut customers: Vec<Stored> = inner
            .locations
            .values()
            .flat_map(|data| data.customers.values().cloned())
            .collect();
        customers.sort_by_key(|stored| stored.sequence);
        Snapshot {
            next_sequence: inner.next_sequence,
            customers,
        }
    }

    /// Removes every customer of every location.
    pub fn clear(&self) {
        {
            let mut inner = self.lock();
            for data in inner.locations.values_mut() {
                *data = LocationData::default();
            }
        }
        self.changed();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change is made in one step under the lock, so a panic in
        // another holder cannot have left the data half changed.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn first_location(&self) -> &str {
        self.location_ids
            .first()
            .map_or(super::DEFAULT_LOCATION, String::as_str)
    }

    pub fn locations(&self) -> &[String] {
        &self.location_ids
    }

    pub fn has_location(&self, location: &str) -> bool {
        self.location_ids.iter().any(|id| id == location)
    }

    /// Stores a new customer created now, or returns the customer that
    /// already has one of its emails or phones. `None` means the location is
    /// unknown.
    pub fn create(&self, location: &str, customer: Customer) -> Option<Result<Stored, Taken>> {
        self.create_at(location, customer, jiff::Timestamp::now())
    }

    /// Stores a new customer as created at `created_at`, like
    /// [`Store::create`].
    fn create_at(
        &self,
        location: &str,
        customer: Customer,
        created_at: jiff::Timestamp,
    ) -> Option<Result<Stored, Taken>> {
        let created = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            let sequence = inner.next_sequence;
            let uuid = uuid::Builder::from_random_bytes(inner.rng.random()).into_uuid();
            let data = inner.locations.get_mut(location)?;
            if let Some(taken) = find_taken(data, &customer, None) {
                return Some(Err(taken));
            }
            let stored = Stored {
                id: format!("{location}:CUSTOMER-{uuid}"),
                location: location.to_owned(),
                sequence,
                customer,
                created_at,
                updated_at: created_at,
            };
            index(data, &stored);
            data.customers.insert(sequence, stored.clone());
            inner.next_sequence += 1;
            stored
        };
        self.changed();
        Some(Ok(created))
    }

    /// Returns up to `limit` customers of a location after the one with
    /// sequence `after` in the given order, and whether more follow.
    pub fn page(
        &self,
        location: &str,
        order: Order,
        limit: usize,
        after: Option<u64>,
    ) -> (Vec<Stored>, bool) {
        let inner = self.lock();
        let Some(data) = inner.locations.get(location) else {
            return (Vec::new(), false);
        };
        let mut items: Vec<Stored> = match (order, after) {
            (Order::OldestFirst, None) => {
                data.customers.values().take(limit + 1).cloned().collect()
            }
            (Order::OldestFirst, Some(after)) => {
                let start = after.saturating_add(1);
                data.customers
                    .range(start..)
                    .map(|(_, c)| c.clone())
                    .take(limit + 1)
                    .collect()
            }
            (Order::NewestFirst, None) => data
                .customers
                .values()
                .rev()
                .take(limit + 1)
                .cloned()
                .collect(),
            (Order::NewestFirst, Some(after)) => data
                .customers
                .range(..after)
                .rev()
                .map(|(_, c)| c.clone())
                .take(limit + 1)
                .collect(),
        };
        let more = items.len() > limit;
        items.truncate(limit);
        (items, more)
    }

    pub fn get(&self, id: &str) -> Option<Stored> {
        let inner = self.lock();
        let data = inner.locations.get(location_of(id)?)?;
        let sequence = data.sequence_by_id.get(id)?;
        data.customers.get(sequence).cloned()
    }

    /// Applies `change` to a stored customer, keeping the indexes right and
    /// the conflict and contact rules of a create.
    pub fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut Customer),
    ) -> Result<Stored, ChangeError> {
        let updated = self.update_locked(id, change)?;
        self.changed();
        Ok(updated)
    }

    fn update_locked(
        &self,
        id: &str,
        change: impl FnOnce(&mut Customer),
    ) -> Result<Stored, ChangeError> {
        let mut guard = self.lock();
        let data = location_of(id)
            .and_then(|location| guard.locations.get_mut(location))
            .ok_or(ChangeError::NotFound)?;
        let sequence = *data.sequence_by_id.get(id).ok_or(ChangeError::NotFound)?;
        let mut updated = data
            .customers
            .get(&sequence)
            .cloned()
            .ok_or(ChangeError::NotFound)?;
        change(&mut updated.customer);
        if !updated.customer.has_contact() {
            return Err(ChangeError::NoContact);
        }
        if let Some(taken) = find_taken(data, &updated.customer, Some(sequence)) {
            return Err(ChangeError::Conflict(taken));
        }
        updated.updated_at = jiff::Timestamp::now();
        if let Some(old) = data.customers.get(&sequence).cloned() {
            unindex(data, &old);
        }
        index(data, &updated);
        data.customers.insert(sequence, updated.clone());
        Ok(updated)
    }

    /// Removes a customer; returns whether it existed.
    pub fn delete(&self, id: &str) -> bool {
        {
            let mut inner = self.lock();
            let Some(data) = location_of(id).and_then(|location| inner.locations.get_mut(location))
            else {
                return false;
            };
            let Some(sequence) = data.sequence_by_id.get(id).copied() else {
                return false;
            };
            if let Some(old) = data.customers.remove(&sequence) {
                unindex(data, &old);
            }
        }
        self.changed();
        true
    }

    pub fn customers(&self, location: &str) -> Vec<CustomerRecord> {
        let inner = self.lock();
        inner
            .locations
            .get(location)
            .map(|data| data.customers.values().map(Stored::to_record).collect())
            .unwrap_or_default()
    }

    pub fn customer(&self, id: &str) -> Option<CustomerRecord> {
        self.get(id).map(|stored| stored.to_record())
    }

    /// Stores a customer as created at `created_at` and returns its id.
    pub fn seed(
        &self,
        location: &str,
        customer: Customer,
        created_at: jiff::Timestamp,
    ) -> Result<String, SeedError> {
        if !customer.has_contact() {
            return Err(SeedError::NoContact);
        }
        match self.create_at(location, customer, created_at) {
            None => Err(SeedError::UnknownLocation(location.to_owned())),
            Some(Ok(stored)) => Ok(stored.id),
            Some(Err(taken)) => Err(SeedError::Conflict {
                field: taken.field.to_owned(),
                value: taken.value,
                existing_id: taken.existing_id,
            }),
        }
    }
}

/// Returns the location part of a full customer id (`AG-1` of
/// `AG-1:CUSTOMER-2`).
fn location_of(id: &str) -> Option<&str> {
    id.split_once(':').map(|(location, _)| location)
}

/// Finds the first email, then phone, of `customer` that belongs to a
/// customer of the location other than `except`.
fn find_taken(data: &LocationData, customer: &Customer, except: Option<u64>) -> Option<Taken> {
    let owner = |sequence: &u64| {
        (Some(*sequence) != except)
            .then(|| data.customers.get(sequence))
            .flatten()
            .map(|stored| stored.id.clone())
    };
    let email = customer.email_addresses.iter().find_map(|email| {
        let existing_id = data
            .sequence_by_email
            .get(&email_key(email))
            .and_then(owner)?;
        Some(Taken {
            existing_id,
            field: "emailAddresses",
            value: email.to_string(),
        })
    });
    email.or_else(|| {
        customer.phone_numbers.iter().find_map(|phone| {
            let existing_id = data
                .sequence_by_phone
                .get(&phone_key(phone))
                .and_then(owner)?;
            Some(Taken {
                existing_id,
                field: "phoneNumbers",
                value: phone.to_string(),
            })
        })
    })
}

fn index(data: &mut LocationData, stored: &Stored) {
    data.sequence_by_id
        .insert(stored.id.clone(), stored.sequence);
    for email in &stored.customer.email_addresses {
        data.sequence_by_email
            .insert(email_key(email), stored.sequence);
    }
    for phone in &stored.customer.phone_numbers {
        data.sequence_by_phone
            .insert(phone_key(phone), stored.sequence);
    }
}

fn unindex(data: &mut LocationData, stored: &Stored) {
    data.sequence_by_id.remove(&stored.id);
    for email in &stored.customer.email_addresses {
        data.sequence_by_email.remove(&email_key(email));
    }
    for phone in &stored.customer.phone_numbers {
        data.sequence_by_phone.remove(&phone_key(phone));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new(vec!["AG-1".to_owned(), "AG-2".to_owned()], Some(7))
    }

    fn customer(email: &str, phone: &str) -> Customer {
        Customer {
            email_addresses: vec![email.into()],
            phone_numbers: vec![phone.into()],
            ..Customer::default()
        }
    }

    #[test]
    fn create_rejects_taken_email_with_other_domain_case() {
        let store = store();
        let first = store
            .create("AG-1", customer("ann@example.com", "+13065551234"))
            .expect("known location")
            .expect("created");
        assert!(first.id.starts_with("AG-1:CUSTOMER-"));
        let taken = store
            .create("AG-1", customer("ann@EXAMPLE.COM", "+13065550000"))
            .expect("known location")
            .expect_err("a conflict");
        assert_eq!(taken.existing_id, first.id);
        assert_eq!(taken.field, "emailAddresses");
        assert_eq!(taken.value, "ann@EXAMPLE.COM");
    }

    #[test]
    fn conflicts_are_per_location() {
        let store = store();
        let same = customer("ann@example.com", "+13065551234");
        assert!(matches!(store.create("AG-1", same.clone()), Some(Ok(_))));
        assert!(matches!(store.create("AG-2", same.clone()), Some(Ok(_))));
        assert!(store.create("AG-404", same).is_none());
    }

    #[test]
    fn update_moves_the_indexes() {
        let store = store();
        let first = store
            .create("AG-1", customer("ann@example.com", "+13065551234"))
            .expect("known location")
            .expect("created");
        store
            .update(&first.id, |c| {
                c.email_addresses = vec!["new@example.com".into()]
            })
            .expect("updated");
        // The old email is free again, the new one is taken.
        assert!(matches!(
            store.create("AG-1", customer("ann@example.com", "+10000000001")),
            Some(Ok(_))
        ));
        assert!(matches!(
            store.create("AG-1", customer("new@example.com", "+10000000002")),
            Some(Err(_))
        ));
    }

    #[test]
    fn update_keeps_contact_rule() {
        let store = store();
        let first = store
            .create("AG-1", customer("ann@example.com", "+13065551234"))
            .expect("known location")
            .expect("created");
        let result = store.update(&first.id, |c| {
            c.email_addresses.clear();
            c.phone_numbers.clear();
        });
        assert_eq!(result.err(), Some(ChangeError::NoContact));
    }

    #[test]
    fn pages_in_both_orders() {
        let store = store();
        for n in 0..5 {
            store
                .create(
                    "AG-1",
                    customer(&format!("c{n}@example.com"), &format!("+1306555000{n}")),
                )
                .expect("known location")
                .expect("created");
        }
        let (first, more) = store.page("AG-1", Order::NewestFirst, 2, None);
        assert!(more);
        assert_eq!(first.iter().map(|s| s.sequence).collect::<Vec<_>>(), [5, 4]);
        let (second, _) = store.page("AG-1", Order::NewestFirst, 2, Some(4));
        assert_eq!(
            second.iter().map(|s| s.sequence).collect::<Vec<_>>(),
            [3, 2]
        );
        let (last, more) = store.page("AG-1", Order::OldestFirst, 10, Some(3));
        assert!(!more);
        assert_eq!(last.iter().map(|s| s.sequence).collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn snapshot_restores_customers_and_indexes() {
        let store = store();
        let first = store
            .create("AG-1", customer("ann@example.com", "+13065551234"))
            .expect("known location")
            .expect("created");
        store
            .create("AG-2", customer("bob@example.com", "+13065550000"))
            .expect("known location")
            .expect("created");
        let snapshot = store.snapshot();
        assert_eq!(snapshot.customers.len(), 2);

        let restored = Store::new(vec!["AG-1".to_owned()], Some(8));
        assert_eq!(restored.restore(snapshot), 1, "AG-2 is not configured");
        assert_eq!(restored.get(&first.id), Some(first.clone()));
        let taken = restored
            .create("AG-1", customer("ann@EXAMPLE.com", "+10000000001"))
            .expect("known location")
            .expect_err("the email index was rebuilt");
        assert_eq!(taken.existing_id, first.id);
        let next = restored
            .create("AG-1", customer("cy@example.com", "+10000000002"))
            .expect("known location")
            .expect("created");
        assert!(
            next.sequence > 2,
            "sequence {} follows the restored ones",
            next.sequence
        );

        restored.clear();
        assert!(restored.get(&first.id).is_none());
        assert!(restored.customers("AG-1").is_empty());
    }

    #[test]
    fn delete_then_get_is_none() {
        let store = store();
        let first = store
            .create("AG-1", customer("ann@example.com", "+13065551234"))
            .expect("known location")
            .expect("created");
        assert!(store.delete(&first.id));
        assert!(store.get(&first.id).is_none());
        assert!(!store.delete(&first.id));
    }
}
