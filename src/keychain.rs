//! Saved sign-in secrets: API tokens and service-account keys in the OS
//! keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows), with an in-memory store for when no keychain can be used.
//!
//! Every call here can block, because the keychain is another process
//! (D-Bus on Linux). The GUI runs them with `tokio::task::spawn_blocking`;
//! [`Keychain`], [`MemoryStore`] and [`SessionFallback`] are cheap to clone
//! and `Send + Sync` for that reason.
//!
//! The code calls `keyring-core` and the per-OS store crates instead of the
//! `keyring` 4.x `Entry`. That wrapper opens its store once per process and
//! keeps the first result, failures included, so an app started before the
//! desktop's keyring was up would never reach it. [`Keychain`] opens the
//! store on first use and opens it again after a failure.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use keyring_core::{CredentialStore, Entry};

use crate::environment::Environment;
use crate::secret::Secret;

/// Service name under which the app's entries are stored. Tests pass their
/// own to [`Keychain::system_with_service`] so they never touch it.
pub const DEFAULT_SERVICE: &str = "customer-importer";

/// Returns the keychain account of the API token for `environment`.
pub fn token_account(environment: &Environment) -> String {
    environment.keychain_account()
}

/// Returns the keychain account of the service-account key file for
/// `environment`, such as `production:service-account`.
pub fn key_file_account(environment: &Environment) -> String {
    format!("{}:service-account", environment.keychain_account())
}

/// A keychain operation, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Read,
    Save,
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "read",
            Self::Save => "save",
            Self::Delete => "delete",
        })
    }
}

/// Error of a keychain operation. The fields never contain a secret,
/// because the `keyring-core` error is reduced to a description (some of
/// its variants carry the stored bytes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    /// No keychain can be reached: no D-Bus session bus, no Secret Service
    /// provider, or an OS without a supported store.
    #[error("no system keychain is available: {reason}")]
    Unavailable { reason: String },
    /// The keychain is there but locked, or it denied this app access.
    #[error("the system keychain is locked or denied access to '{account}': {reason}")]
    AccessDenied { account: String, reason: String },
    /// [`SecretStore::set`] was given an empty or blank secret.
    #[error("nothing to save for '{account}': the secret is empty")]
    EmptySecret { account: String },
    /// Any other failure of the keychain.
    #[error("keychain {operation} failed for '{account}': {reason}")]
    Failed {
        operation: Operation,
        account: String,
        reason: String,
    },
}

impl KeychainError {
    /// Returns the text to show the user: what went wrong and what to do.
    pub fn user_message(&self) -> String {
        match self {
            Self::Unavailable { .. } => {
                "No system keychain is available, so the token is kept for this session only."
                    .to_owned()
            }
            Self::AccessDenied { account, .. } => format!(
                "The system keychain is locked or denied access to the saved {}. Unlock the \
                 keychain (signing out of the computer and back in usually unlocks it), then \
                 try again.",
                secret_kind(account)
            ),
            Self::EmptySecret { account } => format!(
                "There is nothing to save because the {} is empty. Paste it again, then save.",
                secret_kind(account)
            ),
            Self::Failed {
                operation,
                account,
                reason,
            } => format!(
                "Could not {operation} the saved {} in the system keychain ({reason}). Try \
                 again, and if it keeps failing, sign in again.",
                secret_kind(account)
            ),
        }
    }

    /// Reports whether the keychain itself could not be used (missing,
    /// locked or denying access), as opposed to a failure of one entry.
    pub fn is_keychain_unusable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::AccessDenied { .. })
    }
}

/// Names the kind of secret an account contains, for user messages.
fn secret_kind(account: &str) -> &'static str {
    if account.ends_with(":service-account") {
        "service-account key"
    } else {
        "API token"
    }
}

/// Maps a `keyring-core` error to a [`KeychainError`], dropping any stored
/// bytes it carries.
fn map_error(error: keyring::Error, operation: Operation, account: &str) -> KeychainError {
    let failed = |reason: String| KeychainError::Failed {
        operation,
        account: account.to_owned(),
        reason,
    };
    match error {
        keyring::Error::PlatformFailure(cause) => KeychainError::Unavailable {
            reason: cause.to_string(),
        },
        keyring::Error::NoDefaultStore => KeychainError::Unavailable {
            reason: "no credential store is set up".to_owned(),
        },
        keyring::Error::NotSupportedByStore(reason) => KeychainError::Unavailable { reason },
        keyring::Error::NoStorageAccess(cause) => KeychainError::AccessDenied {
            account: account.to_owned(),
            reason: cause.to_string(),
        },
        keyring::Error::BadEncoding(_) => failed("the stored value is not UTF-8 text".to_owned()),
        keyring::Error::BadDataFormat(_, cause) => {
            failed(format!("the stored value is malformed: {cause}"))
        }
        keyring::Error::Ambiguous(entries) => failed(format!(
            "{} entries match, so the keychain cannot tell which one to use",
            entries.len()
        )),
        // `NoEntry` only reaches here from `set`, where it means the entry
        // vanished while being written. Its Display, and the Display of
        // every other variant, contains no stored bytes.
        other => failed(other.to_string()),
    }
}

/// Location of a secret saved by [`SecretStore::set`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// In the OS keychain: it is there at the next start.
    InKeychain,
    /// In memory only, and gone when the app quits. `reason` is why the
    /// keychain was not used; show its [`KeychainError::user_message`].
    ForSessionOnly { reason: Option<KeychainError> },
}

/// Saved secrets by account name. All methods block; see the module docs.
pub trait SecretStore: Send + Sync {
    /// Reads the secret of `account`; `Ok(None)` when nothing is stored.
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError>;

    /// Stores `secret` under `account`, replacing any earlier value.
    /// Fails with [`KeychainError::EmptySecret`] for a blank secret.
    fn set(&self, account: &str, secret: &Secret) -> Result<Stored, KeychainError>;

    /// Deletes the secret of `account`. Deleting nothing succeeds.
    fn delete(&self, account: &str) -> Result<(), KeychainError>;
}

fn reject_empty(account: &str, secret: &Secret) -> Result<(), KeychainError> {
    if secret.is_empty() {
        return Err(KeychainError::EmptySecret {
            account: account.to_owned(),
        });
    }
    Ok(())
}

/// The OS keychain, under one service name.
#[derive(Clone)]
pub struct Keychain {
    service: Arc<str>,
    backend: Arc<Backend>,
}

/// Opens a credential store; [`open_platform_store`] outside unit tests.
type StoreOpener = Box<dyn Fn() -> keyring::Result<Arc<CredentialStore>> + Send + Sync>;

enum Backend {
    /// A store opened on first use. The slot is `None` until `open`
    /// succeeds, and again after a platform failure, so the next call
    /// reconnects.
    Opened {
        open: StoreOpener,
        slot: Mutex<Option<Arc<CredentialStore>>>,
    },
    /// A store chosen by the caller, such as `keyring_core::mock::Store`.
    Given(Arc<CredentialStore>),
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match self.backend.as_ref() {
            Backend::Opened { .. } => "platform",
            Backend::Given(_) => "given",
        };
        f.debug_struct("Keychain")
            .field("service", &self.service)
            .field("backend", &backend)
            .finish()
    }
}

impl Keychain {
    /// Returns the OS keychain under [`DEFAULT_SERVICE`]. Nothing is opened
    /// until the first call, so this never fails or blocks.
    pub fn system() -> Self {
        Self::system_with_service(DEFAULT_SERVICE)
    }

    /// Returns the OS keychain under another service name (tests use one
    /// name per test).
    pub fn system_with_service(service: &str) -> Self {
        Self::with_opener(Box::new(open_platform_store), service)
    }

    fn with_opener(open: StoreOpener, service: &str) -> Self {
        Self {
            service: Arc::from(service),
            backend: Arc::new(Backend::Opened {
                open,
                slot: Mutex::new(None),
            }),
        }
    }

    /// Returns a keychain backed by `store`, for tests with
    /// `keyring_core::mock::Store`. The process-wide default store of
    /// `keyring-core` is never used.
    pub fn with_store(store: Arc<CredentialStore>, service: &str) -> Self {
        Self {
            service: Arc::from(service),
            backend: Arc::new(Backend::Given(store)),
        }
    }

    /// Returns the service name entries are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Returns the store, opening the OS store when it is not open yet.
    fn store(&self) -> Result<Arc<CredentialStore>, keyring::Error> {
        match self.backend.as_ref() {
            Backend::Given(store) => Ok(store.clone()),
            Backend::Opened { open, slot } => {
                let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(store) = slot.as_ref() {
                    return Ok(store.clone());
                }
                let store = open()?;
                *slot = Some(store.clone());
                Ok(store)
            }
        }
    }

    /// Drops an open OS store after a platform failure (such as a D-Bus
    /// connection that closed), so the next call opens a new one.
    fn forget_store_after(&self, error: &keyring::Error) {
        if let (Backend::Opened { slot, .. }, keyring::Error::PlatformFailure(_)) =
            (self.backend.as_ref(), error)
        {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    /// Runs `action` on the entry of `account`, mapping its errors.
    fn with_entry<T>(
        &self,
        account: &str,
        operation: Operation,
        action: impl FnOnce(&Entry) -> keyring::Result<T>,
    ) -> Result<T, KeychainError> {
        let result = self
            .store()
            .and_then(|store| Entry::new_in_store(&store, &self.service, account))
            .and_then(|entry| action(&entry));
        result.map_err(|error| {
            self.forget_store_after(&error);
            let mapped = map_error(error, operation, account);
            tracing::debug!(account, %operation, error = %mapped, "keychain call failed");
            mapped
        })
    }
}

/// Opens the Secret Service store. Blocks on D-Bus.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_platform_store() -> keyring::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

// NOTE: the macOS and Windows branches are type-checked only when built on
// those systems; the project's tests run on Linux.
#[cfg(target_os = "macos")]
fn open_platform_store() -> keyring::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn open_platform_store() -> keyring::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "windows",
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    )
)))]
fn open_platform_store() -> keyring::Result<Arc<CredentialStore>> {
    Err(keyring::Error::NotSupportedByStore(
        "this operating system has no supported keychain".to_owned(),
    ))
}

impl SecretStore for Keychain {
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError> {
        self.with_entry(account, Operation::Read, |entry| {
            match entry.get_password() {
                Ok(password) => Ok(Some(Secret::new(password))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<Stored, KeychainError> {
        reject_empty(account, secret)?;
        self.with_entry(account, Operation::Save, |entry| {
            entry.set_password(secret.expose())
        })?;
        tracing::debug!(account, service = %self.service, "saved a secret in the keychain");
        Ok(Stored::InKeychain)
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.with_entry(account, Operation::Delete, |entry| {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(error) => Err(error),
            }
        })
    }
}

/// Secrets kept in memory for the life of the process.
#[derive(Clone, Default)]
pub struct MemoryStore {
    secrets: Arc<Mutex<HashMap<String, Secret>>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MemoryStore")
            .field("accounts", &secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError> {
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(secrets.get(account).cloned())
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<Stored, KeychainError> {
        reject_empty(account, secret)?;
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.insert(account.to_owned(), secret.clone());
        Ok(Stored::ForSessionOnly { reason: None })
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.remove(account);
        Ok(())
    }
}

/// The store the app uses: the keychain when it can be used, and memory
/// for this session when the keychain is missing, locked or denying access.
///
/// - `set` saves in the keychain, or in memory when the keychain is
///   unusable, and returns which one happened.
/// - `get` returns a secret saved in memory this session first, because it
///   is newer than anything in the keychain. Otherwise it reads the
///   keychain, and an unusable keychain reads as `Ok(None)`.
/// - `delete` removes both copies. It succeeds when no keychain is
///   available, but fails when the keychain is locked, because the saved
///   entry may still be there.
///
/// [`SessionFallback::fallback_reason`] tells the GUI why the keychain
/// was last bypassed, so it can show [`KeychainError::user_message`].
#[derive(Clone, Debug)]
pub struct SessionFallback {
    keychain: Arc<dyn SecretStore>,
    memory: MemoryStore,
    reason: Arc<Mutex<Option<KeychainError>>>,
}

impl fmt::Debug for dyn SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretStore")
    }
}

impl SessionFallback {
    /// Wraps `keychain` (normally [`Keychain::system`]).
    pub fn new(keychain: Arc<dyn SecretStore>) -> Self {
        Self {
            keychain,
            memory: MemoryStore::new(),
            reason: Arc::new(Mutex::new(None)),
        }
    }

    /// Returns why the most recent call could not use the keychain, or
    /// `None` when it could.
    pub fn fallback_reason(&self) -> Option<KeychainError> {
        self.reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stores the outcome of the latest keychain call. A warning is logged
    /// only when the reason changes, not for every call while the keychain
    /// stays unusable.
    fn record(&self, reason: Option<KeychainError>) {
        let mut current = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(error) = &reason
            && current.as_ref() != Some(error)
        {
            tracing::warn!(error = %error, "system keychain unusable, keeping secrets in memory");
        }
        *current = reason;
    }
}

impl SecretStore for SessionFallback {
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError> {
        if let Some(secret) = self.memory.get(account)? {
            return Ok(Some(secret));
        }
        match self.keychain.get(account) {
            Ok(secret) => {
                self.record(None);
                Ok(secret)
            }
            Err(error) if error.is_keychain_unusable() => {
                self.record(Some(error));
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<Stored, KeychainError> {
        reject_empty(account, secret)?;
        match self.keychain.set(account, secret) {
            Ok(stored) => {
                self.record(None);
                self.memory.delete(account)?;
                Ok(stored)
            }
            Err(error) if error.is_keychain_unusable() => {
                self.record(Some(error.clone()));
                self.memory.set(account, secret)?;
                Ok(Stored::ForSessionOnly {
                    reason: Some(error),
                })
            }
            Err(error) => Err(error),
        }
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.memory.delete(account)?;
        match self.keychain.delete(account) {
            Ok(()) => {
                self.record(None);
                Ok(())
            }
            Err(error @ KeychainError::Unavailable { .. }) => {
                self.record(Some(error));
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use keyring_core::mock;

    const SERVICE: &str = "customer-importer-unit-test";

    /// Returns a keychain on a fresh mock store, and the store.
    fn mock_keychain() -> (Keychain, Arc<mock::Store>) {
        let store = mock::Store::new().expect("mock store");
        (Keychain::with_store(store.clone(), SERVICE), store)
    }

    /// Makes the next call on `account` in `store` fail with `error`.
    fn fail_next_call(store: &Arc<mock::Store>, account: &str, error: keyring::Error) {
        let store: Arc<CredentialStore> = store.clone();
        let entry = Entry::new_in_store(&store, SERVICE, account).expect("entry");
        let credential: &mock::Cred = entry.as_any().downcast_ref().expect("mock credential");
        credential.set_error(error);
    }

    fn platform_failure() -> keyring::Error {
        keyring::Error::PlatformFailure("org.freedesktop.DBus.Error.ServiceUnknown".into())
    }

    #[test]
    fn keychain_round_trip_on_mock() {
        let (keychain, _store) = mock_keychain();
        assert_eq!(keychain.get("sandbox"), Ok(None));
        let stored = keychain.set("sandbox", &Secret::new("first-token-value"));
        assert_eq!(stored, Ok(Stored::InKeychain));
        keychain
            .set("sandbox", &Secret::new("second-token-value"))
            .expect("overwrite");
        let read = keychain.get("sandbox").expect("read").expect("stored");
        assert_eq!(read.expose(), "second-token-value");
        keychain.delete("sandbox").expect("delete");
        assert_eq!(keychain.get("sandbox"), Ok(None));
        assert_eq!(keychain.delete("sandbox"), Ok(()));
    }

    #[test]
    fn opened_store_reopens_after_platform_failure() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        let store = mock::Store::new().expect("mock store");
        let opened = Arc::new(AtomicUsize::new(0));
        let opener: StoreOpener = {
            let store = store.clone();
            let opened = opened.clone();
            Box::new(move || {
                // The first open fails, as when the session bus is not up yet.
                if opened.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(platform_failure());
                }
                let store: Arc<CredentialStore> = store.clone();
                Ok(store)
            })
        };
        let keychain = Keychain::with_opener(opener, SERVICE);

        let first = keychain.get("demo").expect_err("no store yet");
        assert!(matches!(first, KeychainError::Unavailable { .. }));
        assert_eq!(keychain.get("demo"), Ok(None));
        assert_eq!(keychain.get("demo"), Ok(None));
        assert_eq!(opened.load(Ordering::SeqCst), 2, "an open store is kept");

        fail_next_call(&store, "demo", platform_failure());
        assert!(keychain.get("demo").is_err());
        assert_eq!(keychain.get("demo"), Ok(None));
        assert_eq!(
            opened.load(Ordering::SeqCst),
            3,
            "a failed store is reopened"
        );
    }

    #[test]
    fn keychain_rejects_blank_secret() {
        let (keychain, _store) = mock_keychain();
        let error = keychain.set("demo", &Secret::new("  ")).expect_err("blank");
        assert_eq!(
            error,
            KeychainError::EmptySecret {
                account: "demo".to_owned()
            }
        );
        assert_eq!(keychain.get("demo"), Ok(None));
    }

    #[test]
    fn platform_failure_maps_to_unavailable() {
        let (keychain, store) = mock_keychain();
        fail_next_call(&store, "demo", platform_failure());
        let error = keychain.get("demo").expect_err("failure");
        assert!(matches!(error, KeychainError::Unavailable { .. }));
        assert_eq!(
            error.user_message(),
            "No system keychain is available, so the token is kept for this session only."
        );
        // The mock clears its error after one call, like a bus that came back.
        assert_eq!(keychain.get("demo"), Ok(None));
    }

    #[test]
    fn no_storage_access_maps_to_access_denied() {
        let (keychain, store) = mock_keychain();
        fail_next_call(
            &store,
            "production",
            keyring::Error::NoStorageAccess("locked".into()),
        );
        let error = keychain
            .set("production", &Secret::new("a-token-of-some-length"))
            .expect_err("locked");
        assert_eq!(
            error,
            KeychainError::AccessDenied {
                account: "production".to_owned(),
                reason: "locked".to_owned()
            }
        );
        assert!(
            error
                .user_message()
                .starts_with("The system keychain is locked")
        );
        assert!(error.user_message().contains("the saved API token"));
    }

    #[test]
    fn bad_encoding_hides_stored_bytes() {
        let (keychain, store) = mock_keychain();
        let stored_bytes = b"secret-\xff-bytes".to_vec();
        fail_next_call(&store, "demo", keyring::Error::BadEncoding(stored_bytes));
        let error = keychain.get("demo").expect_err("bad encoding");
        assert!(matches!(
            error,
            KeychainError::Failed {
                operation: Operation::Read,
                ..
            }
        ));
        for text in [
            format!("{error}"),
            format!("{error:?}"),
            error.user_message(),
        ] {
            assert!(!text.contains("secret"), "{text}");
            assert!(!text.contains("115, 101, 99"), "{text}");
        }
    }

    #[test]
    fn other_errors_name_operation_and_account() {
        let (keychain, store) = mock_keychain();
        let account = key_file_account(&Environment::Demo);
        fail_next_call(
            &store,
            &account,
            keyring::Error::TooLong("secret".to_owned(), 4096),
        );
        let error = keychain.delete(&account).expect_err("too long");
        assert_eq!(
            error.to_string(),
            "keychain delete failed for 'demo:service-account': Value of 'secret' is longer \
             than the platform limit of 4096 chars"
        );
        assert!(
            error
                .user_message()
                .starts_with("Could not delete the saved service-account key")
        );
    }

    #[test]
    fn accounts_per_environment() {
        assert_eq!(token_account(&Environment::Production), "production");
        assert_eq!(
            key_file_account(&Environment::Production),
            "production:service-account"
        );
        assert_eq!(
            key_file_account(&Environment::Custom(
                "http://127.0.0.1:9/business".to_owned()
            )),
            "custom:http://127.0.0.1:9/business:service-account"
        );
    }

    #[test]
    fn memory_store_round_trip() {
        let memory = MemoryStore::new();
        assert_eq!(memory.get("demo"), Ok(None));
        let stored = memory.set("demo", &Secret::new("memory-token-value"));
        assert_eq!(stored, Ok(Stored::ForSessionOnly { reason: None }));
        let read = memory.get("demo").expect("read").expect("stored");
        assert_eq!(read.expose(), "memory-token-value");
        assert!(!format!("{memory:?}").contains("memory-token-value"));
        memory.delete("demo").expect("delete");
        assert_eq!(memory.get("demo"), Ok(None));
    }

    #[test]
    fn fallback_uses_keychain_when_it_works() {
        let (keychain, _store) = mock_keychain();
        let fallback = SessionFallback::new(Arc::new(keychain.clone()));
        let stored = fallback.set("demo", &Secret::new("kept-in-keychain"));
        assert_eq!(stored, Ok(Stored::InKeychain));
        assert_eq!(fallback.fallback_reason(), None);
        let read = keychain.get("demo").expect("read").expect("stored");
        assert_eq!(read.expose(), "kept-in-keychain");
    }

    #[test]
    fn fallback_keeps_secret_in_memory_when_keychain_unavailable() {
        let (keychain, store) = mock_keychain();
        let fallback = SessionFallback::new(Arc::new(keychain.clone()));
        fail_next_call(&store, "demo", platform_failure());
        let stored = fallback
            .set("demo", &Secret::new("kept-in-memory"))
            .expect("fallback");
        let Stored::ForSessionOnly {
            reason: Some(reason),
        } = stored
        else {
            panic!("expected a session-only save, got {stored:?}");
        };
        assert!(matches!(reason, KeychainError::Unavailable { .. }));
        assert_eq!(fallback.fallback_reason(), Some(reason));

        // The memory copy wins over the keychain, which has nothing.
        let read = fallback.get("demo").expect("read").expect("stored");
        assert_eq!(read.expose(), "kept-in-memory");
        assert_eq!(keychain.get("demo"), Ok(None));

        fallback.delete("demo").expect("delete");
        assert_eq!(fallback.get("demo"), Ok(None));
        assert_eq!(fallback.fallback_reason(), None);
    }

    #[test]
    fn fallback_reads_unusable_keychain_as_nothing_stored() {
        let (keychain, store) = mock_keychain();
        let fallback = SessionFallback::new(Arc::new(keychain));
        fail_next_call(
            &store,
            "demo",
            keyring::Error::NoStorageAccess("locked".into()),
        );
        assert_eq!(fallback.get("demo"), Ok(None));
        assert!(matches!(
            fallback.fallback_reason(),
            Some(KeychainError::AccessDenied { .. })
        ));
    }

    #[test]
    fn fallback_delete_fails_when_keychain_locked() {
        let (keychain, store) = mock_keychain();
        let fallback = SessionFallback::new(Arc::new(keychain.clone()));
        keychain
            .set("demo", &Secret::new("still-in-keychain"))
            .expect("save");
        fail_next_call(
            &store,
            "demo",
            keyring::Error::NoStorageAccess("locked".into()),
        );
        let error = fallback.delete("demo").expect_err("locked");
        assert!(matches!(error, KeychainError::AccessDenied { .. }));
        assert!(keychain.get("demo").expect("read").is_some());
    }

    #[test]
    fn fallback_passes_other_errors_through() {
        let (keychain, store) = mock_keychain();
        let fallback = SessionFallback::new(Arc::new(keychain));
        fail_next_call(
            &store,
            "demo",
            keyring::Error::TooLong("secret".to_owned(), 10),
        );
        let error = fallback
            .set("demo", &Secret::new("long-enough-token"))
            .expect_err("too long");
        assert!(matches!(error, KeychainError::Failed { .. }));
        assert_eq!(fallback.get("demo"), Ok(None));
    }
}
