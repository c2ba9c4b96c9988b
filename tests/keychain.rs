//! The keychain against a real Secret Service.
//!
//! `scripts/test` runs these inside `scripts/with-keyring` (a private D-Bus
//! session with gnome-keyring) and sets `CUSTOMER_IMPORTER_REQUIRE_KEYCHAIN=1`,
//! which turns a missing Secret Service into a failure. Without that
//! variable, as under a plain `cargo test` on a machine with no session
//! bus, each test prints why it skipped and passes. On a desktop with a
//! keyring the tests use it, under a service name of their own.

use std::sync::Arc;

use customer_importer::environment::Environment;
use customer_importer::keychain::{
    Keychain, KeychainError, SecretStore, SessionFallback, Stored, key_file_account, token_account,
};
use customer_importer::secret::Secret;

/// Set to `1` to make these tests fail when no Secret Service responds.
const REQUIRE_KEYCHAIN_VARIABLE: &str = "CUSTOMER_IMPORTER_REQUIRE_KEYCHAIN";

/// Returns the real keychain under a service name unique to `test` and this
/// process, or `None` (after printing why) when no keychain is reachable and
/// the environment does not require one.
#[allow(clippy::print_stderr, reason = "a skipped test says why on stderr")]
fn real_keychain(test: &str) -> Option<Keychain> {
    let service = format!("customer-importer-test-{test}-{}", std::process::id());
    let keychain = Keychain::system_with_service(&service);
    match keychain.get("probe") {
        Ok(_) => Some(keychain),
        Err(error) if error.is_keychain_unusable() => {
            let required = std::env::var(REQUIRE_KEYCHAIN_VARIABLE).is_ok_and(|value| value == "1");
            assert!(
                !required,
                "{REQUIRE_KEYCHAIN_VARIABLE}=1 but the Secret Service is unusable: {error}"
            );
            eprintln!(
                "skipping {test}: no usable Secret Service ({error}). Run it through \
                 scripts/with-keyring, or set {REQUIRE_KEYCHAIN_VARIABLE}=1 to make this a failure."
            );
            None
        }
        Err(error) => panic!("probing the keychain failed: {error}"),
    }
}

/// Deletes an account's entry when the test ends, passed or failed.
struct DeleteOnDrop {
    keychain: Keychain,
    account: String,
}

impl DeleteOnDrop {
    fn new(keychain: &Keychain, account: &str) -> Self {
        Self {
            keychain: keychain.clone(),
            account: account.to_owned(),
        }
    }
}

impl Drop for DeleteOnDrop {
    #[allow(clippy::print_stderr, reason = "a drop guard cannot return its error")]
    fn drop(&mut self) {
        if let Err(error) = self.keychain.delete(&self.account) {
            eprintln!("could not delete test entry '{}': {error}", self.account);
        }
    }
}

#[test]
fn real_keychain_store_overwrite_delete() {
    let Some(keychain) = real_keychain("round-trip") else {
        return;
    };
    let account = token_account(&Environment::Sandbox);
    let _guard = DeleteOnDrop::new(&keychain, &account);

    assert_eq!(keychain.get(&account), Ok(None), "nothing stored yet");

    let stored = keychain.set(&account, &Secret::new("first-sandbox-token"));
    assert_eq!(stored, Ok(Stored::InKeychain));
    let read = keychain.get(&account).expect("read").expect("stored");
    assert_eq!(read.expose(), "first-sandbox-token");

    keychain
        .set(&account, &Secret::new("second-sandbox-token"))
        .expect("overwrite");
    let read = keychain.get(&account).expect("read").expect("stored");
    assert_eq!(read.expose(), "second-sandbox-token");

    keychain.delete(&account).expect("delete");
    assert_eq!(keychain.get(&account), Ok(None), "deleted");
    assert_eq!(
        keychain.delete(&account),
        Ok(()),
        "deleting nothing succeeds"
    );
}

#[test]
fn real_keychain_accounts_are_separate() {
    let Some(keychain) = real_keychain("accounts") else {
        return;
    };
    let token = token_account(&Environment::Demo);
    let key_file = key_file_account(&Environment::Demo);
    let _token_guard = DeleteOnDrop::new(&keychain, &token);
    let _key_guard = DeleteOnDrop::new(&keychain, &key_file);

    keychain
        .set(&token, &Secret::new("demo-api-token"))
        .expect("save token");
    keychain
        .set(&key_file, &Secret::new(r#"{"type": "service_account"}"#))
        .expect("save key file");

    let read_token = keychain.get(&token).expect("read").expect("stored");
    assert_eq!(read_token.expose(), "demo-api-token");
    let read_key = keychain.get(&key_file).expect("read").expect("stored");
    assert_eq!(read_key.expose(), r#"{"type": "service_account"}"#);

    keychain.delete(&token).expect("delete token");
    assert!(
        keychain.get(&key_file).expect("read").is_some(),
        "key file kept"
    );
}

#[test]
fn real_keychain_services_are_separate() {
    let Some(first) = real_keychain("service-a") else {
        return;
    };
    let Some(second) = real_keychain("service-b") else {
        return;
    };
    let account = token_account(&Environment::Production);
    let _guard = DeleteOnDrop::new(&first, &account);

    first
        .set(&account, &Secret::new("service-a-token"))
        .expect("save");
    assert_eq!(second.get(&account), Ok(None));
}

#[test]
fn real_keychain_behind_session_fallback() {
    let Some(keychain) = real_keychain("fallback") else {
        return;
    };
    let account = token_account(&Environment::Demo);
    let _guard = DeleteOnDrop::new(&keychain, &account);
    let fallback = SessionFallback::new(Arc::new(keychain.clone()));

    let stored = fallback.set(&account, &Secret::new("fallback-demo-token"));
    assert_eq!(stored, Ok(Stored::InKeychain));
    assert_eq!(fallback.fallback_reason(), None);
    let read = keychain.get(&account).expect("read").expect("stored");
    assert_eq!(read.expose(), "fallback-demo-token");

    fallback.delete(&account).expect("delete");
    assert_eq!(keychain.get(&account), Ok(None));
}

#[test]
fn real_keychain_rejects_empty_token() {
    let Some(keychain) = real_keychain("empty") else {
        return;
    };
    let account = token_account(&Environment::Sandbox);
    let _guard = DeleteOnDrop::new(&keychain, &account);

    let error = keychain.set(&account, &Secret::new("")).expect_err("empty");
    assert!(matches!(error, KeychainError::EmptySecret { .. }));
    assert_eq!(keychain.get(&account), Ok(None));
}
