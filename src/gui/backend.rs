//! Small adapters between the screens and the core modules: they turn core
//! errors into sentences for the user and hide the parts of the core that
//! are still being written behind one call each.
//!
//! Everything here may block or wait: call it only from a background task.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::{Client, ClientOptions};
use crate::auth::{KeyOrigin, ServiceAccountKey, TokenSource};
use crate::fields::Mapping;
use crate::keychain::{Keychain, KeychainError, MemoryStore, SecretStore, SessionFallback, Stored};
use crate::progress::Progress;
use crate::sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::source::{self, ReadOptions, SourceError};
use crate::table::Table;
use crate::upload::ExistingCustomers;

use super::connect::ServiceAccount;

/// Location id the built-in sandbox accepts, filled in for the user.
pub const SANDBOX_LOCATION_ID: &str = crate::sandbox::DEFAULT_LOCATION;

/// Store of the API tokens and service-account keys the user asked the app
/// to remember: the OS keychain, falling back to memory for this session
/// when the keychain is missing or locked.
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

/// Outcome of saving a token or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSecret {
    /// Whether the secret is in the OS keychain and so there at next start.
    pub in_keychain: bool,
    /// Sentence for the user.
    pub message: String,
}

/// A service-account key loaded from the store: `None` when none is saved.
#[derive(Debug, Clone)]
pub struct LoadedKey {
    pub key: Option<ServiceAccountKey>,
    /// Whether it came from the OS keychain rather than this session's
    /// memory.
    pub in_keychain: bool,
}

impl TokenStore {
    /// Returns the OS keychain under the app's service name.
    pub fn system() -> Self {
        Self::with_store(Arc::new(Keychain::system()))
    }

    /// Returns a store kept in memory for the life of the app; tests use
    /// it so they never touch the user's keychain. Saving into it reads as
    /// "kept for this session only", as with a missing keychain.
    pub fn memory() -> Self {
        Self::with_store(Arc::new(MemoryStore::new()))
    }

    /// Returns a store on the given keychain, such as one backed by
    /// `keyring_core::mock::Store` in tests.
    pub fn with_keychain(keychain: Keychain) -> Self {
        Self::with_store(Arc::new(keychain))
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
    pub fn save(&self, account: &str, token: &Secret) -> Result<SavedSecret, KeychainProblem> {
        let stored = self.store.set(account, token).map_err(problem)?;
        Ok(match stored {
            Stored::InKeychain => SavedSecret {
                in_keychain: true,
                message: "The token is saved in this computer's keychain.".to_owned(),
            },
            Stored::ForSessionOnly { reason } => SavedSecret {
                in_keychain: false,
                message: reason.map_or_else(
                    || "The token is kept for this session only.".to_owned(),
                    |reason| reason.user_message(),
                ),
            },
        })
    }

    /// Loads the service-account key saved under a keychain account and
    /// validates it. Fails when the keychain cannot be read or the saved
    /// key is damaged. Blocks on the keychain.
    pub fn load_key(&self, account: &str) -> Result<LoadedKey, KeychainProblem> {
        let Some(text) = self.store.get(account).map_err(problem)? else {
            return Ok(LoadedKey {
                key: None,
                in_keychain: false,
            });
        };
        let key = ServiceAccountKey::from_json(&text, KeyOrigin::Keychain).map_err(|err| {
            KeychainProblem {
                message: err.user_message(),
            }
        })?;
        Ok(LoadedKey {
            key: Some(key),
            in_keychain: self.store.fallback_reason().is_none(),
        })
    }

    /// Saves a service-account key's file text under a keychain account,
    /// replacing any older one. Blocks on the keychain.
    pub fn save_key(
        &self,
        account: &str,
        key: &ServiceAccountKey,
    ) -> Result<SavedSecret, KeychainProblem> {
        let stored = self.store.set(account, &key.to_secret()).map_err(problem)?;
        Ok(match stored {
            Stored::InKeychain => SavedSecret {
                in_keychain: true,
                message: "The key is saved in this computer's keychain, so you need not choose \
                          the file again."
                    .to_owned(),
            },
            Stored::ForSessionOnly { .. } => SavedSecret {
                in_keychain: false,
                message: "No system keychain can be used, so the key is kept for this session \
                          only. Choose the key file again after restarting the app."
                    .to_owned(),
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

/// Starts the built-in sandbox server on a free loopback port, keeping its
/// customers in `state_file` (when given) so that they, and an unfinished
/// practice import, outlive the app. Reading the state file touches the
/// disk, so this runs off the UI thread.
pub async fn start_sandbox(
    runtime: tokio::runtime::Handle,
    state_file: Option<PathBuf>,
) -> Result<SandboxConnection, String> {
    let config = SandboxConfig {
        state_file,
        ..SandboxConfig::default()
    };
    let server = Sandbox::start_on(&runtime, config).map_err(|err| err.user_message())?;
    Ok(SandboxConnection {
        base_url: server.base_url(),
        token: Secret::new(SANDBOX_TOKEN),
        location_id: server.location().to_owned(),
        _server: Arc::new(server),
    })
}

/// Reads and validates a service-account key file. Blocks on the disk.
pub fn read_key_file(path: &Path) -> Result<ServiceAccountKey, String> {
    ServiceAccountKey::load(path).map_err(|err| err.user_message())
}

/// Signs in with a validated service-account key: fetches a token.
pub async fn sign_in(key: ServiceAccountKey) -> Result<ServiceAccount, String> {
    let source = TokenSource::from_service_account(key).map_err(|err| err.user_message())?;
    let token = source
        .current_token()
        .await
        .map_err(|err| err.user_message())?;
    Ok(ServiceAccount { token, source })
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

/// Lists the customers of each location, for finding the rows already on
/// file. Returns a sentence for the user when the listing fails.
pub async fn list_existing(
    base_url: &str,
    token: Secret,
    locations: &[String],
) -> Result<ExistingCustomers, String> {
    let client =
        Client::new(base_url, token, ClientOptions::default()).map_err(|err| err.user_message())?;
    ExistingCustomers::load(&client, locations)
        .await
        .map_err(|err| {
            format!(
                "The existing customers could not be listed, so the rows already on file are \
                 not known. {}",
                err.user_message()
            )
        })
}

/// Reads a spreadsheet. When it cannot be read, returns the file name
/// followed by the reader's sentence for the user, which ends with what
/// to do next, as the command line prints it.
pub fn read_table(
    path: &Path,
    sheet: Option<String>,
    progress: &Progress,
) -> Result<Table, String> {
    let options = ReadOptions { sheet };
    source::read(path, &options, progress).map_err(|err| {
        // The log keeps the whole path, which the message leaves out.
        if matches!(err, SourceError::Cancelled { .. }) {
            tracing::debug!("{err}");
        } else {
            tracing::warn!("failed to read a spreadsheet: {err}");
        }
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        format!("{file}: {}", err.user_message())
    })
}

/// Guesses the target of each column from its header and values.
pub fn guess_mapping(table: &Table) -> Mapping {
    crate::guess::guess_mapping(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_table_message_names_file_and_next_step() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("empty.csv");
        std::fs::write(&path, b"").expect("empty file");
        let Err(message) = read_table(&path, None, &Progress::new()) else {
            panic!("an empty file was read as a table");
        };
        assert_eq!(
            message,
            "empty.csv: The file is empty (0 bytes): nothing to import."
        );
    }

    #[test]
    fn read_table_message_leaves_out_folder() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("image.csv");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("PNG file");
        let Err(message) = read_table(&path, None, &Progress::new()) else {
            panic!("a PNG image was read as a table");
        };
        assert!(message.starts_with("image.csv: "), "{message}");
        assert!(
            message.contains("export the customer list again"),
            "{message}"
        );
        let folder_text = folder.path().display().to_string();
        assert!(!message.contains(&folder_text), "{message}");
    }
}
