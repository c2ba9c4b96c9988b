//! Core of the customer importer: reading spreadsheets, mapping and
//! checking their rows, and sending customers to the Business API, plus the
//! GUI and command line that sit on top.
//!
//! The core modules never import `egui`; only [`gui`] does.

pub mod api;
pub mod auth;
pub mod check;
pub mod cli;
pub mod customer;
pub mod environment;
pub mod fields;
pub mod guess;
pub mod gui;
pub mod keychain;
pub mod logging;
pub mod normalize;
pub mod paths;
pub mod preset;
pub mod progress;
pub mod report;
pub mod sandbox;
pub mod secret;
pub mod settings;
pub mod source;
pub mod table;
pub mod upload;

/// Version and commit, as `--version` prints them.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CUSTOMER_IMPORTER_COMMIT"),
    ")"
);
