//! What each source column feeds: the mapping targets and the mapping of a
//! whole sheet.

use serde::{Deserialize, Serialize};

/// The customer field a source column is read into.
///
/// Address parts carry a group number: Outlook, Google and others export
/// several addresses (business, home, other), and a row uses the first
/// group, in column order, that has any value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Target {
    Ignore,
    GivenName,
    FamilyName,
    /// A whole name, split into given and family name.
    FullName,
    Street1 {
        group: u8,
    },
    Street2 {
        group: u8,
    },
    City {
        group: u8,
    },
    Region {
        group: u8,
    },
    Country {
        group: u8,
    },
    /// A whole address in one cell, split into its parts.
    Address {
        group: u8,
    },
    /// Any number of columns may be phones; every one contributes.
    Phone,
    /// Any number of columns may be emails; every one contributes.
    Email,
    /// Any number of columns may be tags; every one contributes.
    Tags,
    /// Permission to contact.
    Consent,
    /// The business location id (`AG-...`) the row belongs to, for files
    /// that hold several locations.
    Location,
}

/// The target of every column of a sheet, by column position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub targets: Vec<Target>,
}

impl Mapping {
    /// Returns the target of a column; columns past the end are ignored.
    pub fn target(&self, column: usize) -> Target {
        self.targets.get(column).copied().unwrap_or(Target::Ignore)
    }
}
