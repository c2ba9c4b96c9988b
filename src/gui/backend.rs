//! Small adapters between the screens and the core modules: they turn core
//! errors into sentences for the user and hide the parts of the core that
//! are still being written behind one call each.
//!
//! Everything here may block or wait: call it only from a background task.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::{Client, ClientOptions};
use crate::auth::{ServiceAccountKey, TokenSource};
use crate::fields::Mapping;
use crate::keychain::{Keychain, KeychainError, MemoryStore, SecretStore, SessionFallback, Stored};
use crate::progress::Progress;
use crate::sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::source::{self, ReadOptions};
use crate::table::Table;

use super::connect::ServiceAccount;

/// Location id the built-in sandbox accepts, filled in for the user.
pub const SANDBOX_LOCATION_ID: &str = crate::sandbox::DEFAULT_LOCATION;

/// Store of the tokens the user asked the app to remember: the OS
/// keychain, falling back to memory for this session when the keychain is
/// missing or locked.
#[derive(Debug, Clone)]
pub struct TokenStore {
    store: SessionFallback,
}

/// Reason the keychain could not be used, as a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainProblem {
    pub message: String,
}

/// A token loaded from the store, with a note when the keychain could not
/// be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedToken {
    pub token: Option<Secret>,
    pub note: Option<String>,
}

/// Outcome of saving a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedToken {
    /// Whether the token is in the OS keychain and so there at next start.
    pub in_keychain: bool,
    /// Sentence for the user.
    pub message: String,
}

impl TokenStore {
    /// Returns the OS keychain under the app's service name.
    pub fn system() -> Self {
        Self::with_store(Arc::new(Keychain::system()))
    }

    /// Returns a store kept in memory for the life of the app; tests use
    /// it so they never touch the user's keychain.
    pub fn memory() -> Self {
        Self::with_store(Arc::new(MemoryStore::new()))
    }

    fn with_store(store: Arc<dyn SecretStore>) -> Self {
        Self {
            store: SessionFallback::new(store),
        }
    }

    /// Loads the token saved for a keychain account. Blocks on the
    /// keychain.
    pub fn load(&self, account: &str) -> Result<LoadedToken, KeychainProblem> {
        let token = self.store.get(account).map_err(problem)?;
        let note = self
            .store
            .fallback_reason()
            .map(|reason| reason.user_message());
        Ok(LoadedToken { token, note })
    }

    /// Saves a token under a keychain account, replacing any older one.
    /// Blocks on the keychain.
    pub fn save(&self, account: &str, token: &Secret) -> Result<SavedToken, KeychainProblem> {
        let stored = self.store.set(account, token).map_err(problem)?;
        Ok(match stored {
            Stored::InKeychain => SavedToken {
                in_keychain: true,
                message: "The token is saved in this computer's keychain.".to_owned(),
            },
            Stored::ForSessionOnly { reason } => SavedToken {
                in_keychain: false,
                message: reason.map_or_else(
                    || "The token is kept for this session only.".to_owned(),
                    |reason| reason.user_message(),
                ),
            },
        })
    }

    /// Deletes the token of a keychain account; deleting a missing one
    /// succeeds. Blocks on the keychain.
    pub fn delete(&self, account: &str) -> Result<(), KeychainProblem> {
        self.store.delete(account).map_err(problem)
    }
}

fn problem(err: KeychainError) -> KeychainProblem {
    KeychainProblem {
        message: err.user_message(),
    }
}

/// A running sandbox server and what it takes to use it. The server stops
/// when the last clone of this is dropped.
#[derive(Debug, Clone)]
pub struct SandboxConnection {
    pub base_url: String,
    pub token: Secret,
    pub location_id: String,
    /// Kept so the server lives as long as the app uses it.
    pub _server: Arc<RunningSandbox>,
}

/// Token the app uses with its own sandbox, which accepts any token.
const SANDBOX_TOKEN: &str = "sandbox-token-practice-only";

/// Starts the built-in sandbox server on a free loopback port. Binding
/// the port takes no noticeable time, but it still runs off the UI thread.
pub async fn start_sandbox(runtime: tokio::runtime::Handle) -> Result<SandboxConnection, String> {
    let server =
        Sandbox::start_on(&runtime, SandboxConfig::default()).map_err(|err| err.user_message())?;
    Ok(SandboxConnection {
        base_url: server.base_url(),
        token: Secret::new(SANDBOX_TOKEN),
        location_id: server.location().to_owned(),
        _server: Arc::new(server),
    })
}

/// Signs in with a service-account key file: reads and validates the key
/// (blocking, so on the blocking pool), then fetches a token.
pub async fn sign_in(key_file: PathBuf) -> Result<ServiceAccount, String> {
    let path = key_file.clone();
    let key = tokio::task::spawn_blocking(move || ServiceAccountKey::load(&path))
        .await
        .map_err(|_| "The key file could not be read because the app is closing".to_owned())?
        .map_err(|err| err.user_message())?;
    let source = TokenSource::from_service_account(key).map_err(|err| err.user_message())?;
    let token = source
        .current_token()
        .await
        .map_err(|err| err.user_message())?;
    Ok(ServiceAccount {
        key_file,
        token,
        source,
    })
}

/// Checks that a token and location id work. Returns a sentence for the
/// user when they do not (expired token, missing scope, unknown location,
/// no network).
pub async fn check_access(base_url: &str, token: Secret, location_id: &str) -> Result<(), String> {
    let client =
        Client::new(base_url, token, ClientOptions::default()).map_err(|err| err.user_message())?;
    client
        .check_access(location_id)
        .await
        .map_err(|err| err.user_message())
}

/// Reads a spreadsheet. Returns a sentence naming the file when it cannot
/// be read, and when it has no data rows.
pub fn read_table(
    path: &Path,
    sheet: Option<String>,
    progress: &Progress,
) -> Result<Table, String> {
    let options = ReadOptions { sheet };
    let table = source::read(path, &options, progress).map_err(|err| {
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        format!("{file} could not be read: {err}")
    })?;
    Ok(table)
}

/// Guesses the target of each column from its header and values.
pub fn guess_mapping(table: &Table) -> Mapping {
    crate::guess::guess_mapping(table)
}
