//! Running the connect screen's actions: choosing the environment, starting
//! the sandbox, loading, saving and forgetting tokens, and checking access.

use std::path::PathBuf;

use crate::environment::Environment;
use crate::paths::AppPaths;
use crate::secret::Secret;

use super::super::app::{ImporterApp, Modal};
use crate::auth::ServiceAccountKey;
use crate::keychain::key_file_account;

use super::super::backend::{
    self, KeychainProblem, LoadedKey, LoadedToken, SandboxConnection, SavedSecret,
};
use super::super::connect::{
    AccessState, ChosenKey, ConnectAction, Connection, Credential, CredentialChoice, SandboxState,
    ServiceAccount,
};
use super::super::logic::Outcome;
use super::super::state::Step;
use super::super::tasks::TaskKind;

impl ImporterApp {
    pub(crate) fn run_connect_action(&mut self, action: ConnectAction) {
        match action {
            ConnectAction::SelectEnvironment => self.select_environment(),
            ConnectAction::UseToken => self.use_typed_token(),
            ConnectAction::ReplaceToken => {
                self.connect.status.token = None;
                self.connect.status.access = AccessState::Unchecked;
            }
            ConnectAction::ForgetToken => self.forget_token(),
            ConnectAction::ChooseKeyFile => self.choose_key_file(),
            ConnectAction::RememberKey => self.remember_key(),
            ConnectAction::ForgetKey => self.forget_key(),
            ConnectAction::ResetSandbox => self.ask_reset_sandbox(),
            ConnectAction::CheckAccess => self.check_access(),
            ConnectAction::Continue => self.continue_from_connect(),
        }
    }

    /// Switches to the environment the form names: remembers it, then
    /// starts the sandbox or loads that environment's saved token.
    fn select_environment(&mut self) {
        let Ok(environment) = self.connect.form.environment() else {
            return;
        };
        self.tasks.cancel(TaskKind::Keychain);
        self.tasks.cancel(TaskKind::KeyFile);
        self.tasks.cancel(TaskKind::Access);
        let status = &mut self.connect.status;
        status.token = None;
        status.token_remembered = false;
        status.key = None;
        status.key_remembered = false;
        status.key_error = None;
        status.service_account = None;
        status.keychain_message = None;
        status.access = AccessState::Unchecked;
        status.loading_saved = false;
        status.reading_key = false;
        if self.settings.environment != environment {
            self.settings.environment = environment.clone();
            self.save_settings();
        }
        if environment == Environment::Sandbox {
            self.use_sandbox();
            return;
        }
        let account = environment.keychain_account();
        self.connect.form.location_id = self
            .settings
            .location_ids
            .get(&account)
            .cloned()
            .unwrap_or_default();
        self.load_saved_secrets(environment);
    }

    fn use_sandbox(&mut self) {
        self.connect.form.location_id = backend::SANDBOX_LOCATION_ID.to_owned();
        match &self.connect.status.sandbox {
            SandboxState::Running(sandbox) => {
                self.connect.status.token = Some(sandbox.token.clone());
                self.connect
                    .form
                    .location_id
                    .clone_from(&sandbox.location_id);
            }
            SandboxState::Starting => {}
            SandboxState::Stopped | SandboxState::Failed(_) => {
                self.connect.status.sandbox = SandboxState::Starting;
                let runtime = self.tasks.runtime().clone();
                let state_file = self.paths.as_ref().map(AppPaths::sandbox_file);
                self.tasks
                    .spawn(TaskKind::Sandbox, "Starting the sandbox", async move {
                        Outcome::Sandbox(backend::start_sandbox(runtime, state_file).await)
                    });
            }
        }
    }

    fn ask_reset_sandbox(&mut self) {
        if matches!(self.connect.status.sandbox, SandboxState::Running(_)) {
            self.modal = Some(Modal::ConfirmResetSandbox);
        }
    }

    /// Deletes every customer of the running sandbox; its state file
    /// follows within a moment, on the sandbox's own thread.
    pub(crate) fn reset_sandbox(&mut self) {
        self.modal = None;
        if let SandboxState::Running(sandbox) = &self.connect.status.sandbox {
            tracing::info!("resetting the sandbox");
            sandbox._server.reset();
            self.show_notice(false, "The sandbox is empty again.".to_owned());
        }
    }

    pub(crate) fn apply_sandbox(&mut self, result: Result<SandboxConnection, String>) {
        match result {
            Ok(sandbox) => {
                tracing::info!(base_url = %sandbox.base_url, "sandbox started");
                self.connect.status.sandbox = SandboxState::Running(sandbox);
                if self.settings.environment == Environment::Sandbox {
                    self.use_sandbox();
                }
            }
            Err(message) => {
                tracing::error!("failed to start the sandbox: {message}");
                self.connect.status.sandbox = SandboxState::Failed(message);
            }
        }
    }

    /// Loads the token and the service-account key saved for an
    /// environment, in one background job.
    fn load_saved_secrets(&mut self, environment: Environment) {
        self.connect.status.loading_saved = true;
        let store = self.token_store.clone();
        self.tasks.spawn_blocking(
            TaskKind::Keychain,
            "Loading the saved sign-in",
            None,
            move || {
                let account = environment.keychain_account();
                let token = store.load(&account);
                let key = store.load_key(&key_file_account(&environment));
                Outcome::SecretsLoaded {
                    account,
                    token,
                    key,
                }
            },
        );
    }

    pub(crate) fn apply_secrets_loaded(
        &mut self,
        account: &str,
        token: Result<LoadedToken, KeychainProblem>,
        key: Result<LoadedKey, KeychainProblem>,
    ) {
        self.connect.status.loading_saved = false;
        if account != self.settings.environment.keychain_account() {
            return;
        }
        self.apply_token_loaded(account, token);
        self.apply_key_loaded(key);
    }

    fn apply_token_loaded(&mut self, account: &str, result: Result<LoadedToken, KeychainProblem>) {
        let status = &mut self.connect.status;
        match result {
            Ok(loaded) => {
                status.token_remembered = loaded.token.is_some() && loaded.note.is_none();
                status.token = loaded.token;
                status.keychain_message = loaded.note.map(|note| (true, note));
            }
            Err(problem) => {
                tracing::warn!(
                    account,
                    "failed to load the saved token: {}",
                    problem.message
                );
                status.keychain_message = Some((true, problem.message));
            }
        }
    }

    /// Takes the typed token into use and, when asked, saves it in the
    /// keychain; the field is cleared so the token is never shown again.
    fn use_typed_token(&mut self) {
        let typed = std::mem::take(&mut self.connect.form.token_input);
        let token = Secret::new(typed.trim());
        if token.is_empty() {
            return;
        }
        let status = &mut self.connect.status;
        status.token = Some(token.clone());
        status.token_remembered = false;
        status.access = AccessState::Unchecked;
        status.keychain_message = None;
        if !self.connect.form.remember {
            return;
        }
        let account = self.settings.environment.keychain_account();
        let store = self.token_store.clone();
        self.tasks
            .spawn_blocking(TaskKind::Keychain, "Saving the token", None, move || {
                Outcome::TokenSaved(store.save(&account, &token))
            });
    }

    /// Takes a key saved in the keychain into use; with no token saved,
    /// the form switches to the key file.
    fn apply_key_loaded(&mut self, result: Result<LoadedKey, KeychainProblem>) {
        let status = &mut self.connect.status;
        match result {
            Ok(LoadedKey {
                key: Some(key),
                in_keychain,
            }) => {
                status.key = Some(ChosenKey { file: None, key });
                status.key_remembered = in_keychain;
                if status.token.is_none() {
                    self.connect.form.credential = CredentialChoice::KeyFile;
                }
            }
            Ok(LoadedKey { key: None, .. }) => {}
            Err(problem) => {
                tracing::warn!(
                    "failed to load the saved service-account key: {}",
                    problem.message
                );
                status.key_error = Some(problem.message);
            }
        }
    }

    pub(crate) fn apply_token_saved(&mut self, result: Result<SavedSecret, KeychainProblem>) {
        let status = &mut self.connect.status;
        match result {
            Ok(saved) => {
                status.token_remembered = saved.in_keychain;
                status.keychain_message = Some((!saved.in_keychain, saved.message));
            }
            Err(problem) => {
                tracing::warn!("failed to save the token: {}", problem.message);
                status.keychain_message = Some((true, problem.message));
            }
        }
    }

    fn forget_token(&mut self) {
        let account = self.settings.environment.keychain_account();
        let store = self.token_store.clone();
        self.connect.status.token = None;
        self.connect.status.token_remembered = false;
        self.tasks.spawn_blocking(
            TaskKind::Keychain,
            "Deleting the saved token",
            None,
            move || Outcome::TokenDeleted(store.delete(&account)),
        );
    }

    pub(crate) fn apply_token_deleted(&mut self, result: Result<(), KeychainProblem>) {
        self.connect.status.keychain_message = Some(match result {
            Ok(()) => (
                false,
                "The saved token was deleted from this computer.".to_owned(),
            ),
            Err(problem) => {
                tracing::warn!("failed to delete the saved token: {}", problem.message);
                (true, problem.message)
            }
        });
    }

    fn choose_key_file(&mut self) {
        if !self.file_dialogs {
            self.connect.status.keychain_message = Some((
                true,
                "No file dialog can be shown here. Drag the key file onto this window instead."
                    .to_owned(),
            ));
            return;
        }
        self.tasks
            .spawn(TaskKind::Dialog, "Choosing a key file", async {
                let file = rfd::AsyncFileDialog::new()
                    .set_title("Choose a service-account key file")
                    .add_filter("Key file (JSON)", &["json"])
                    .pick_file()
                    .await;
                Outcome::KeyFileChosen(file.map(|handle| handle.path().to_path_buf()))
            });
    }

    /// Reads and checks a chosen key file in the background, and saves the
    /// key in the keychain when "Remember" is ticked.
    pub(crate) fn apply_key_file_chosen(&mut self, path: Option<PathBuf>) {
        let Some(path) = path else {
            return;
        };
        self.connect.form.credential = CredentialChoice::KeyFile;
        let status = &mut self.connect.status;
        status.reading_key = true;
        status.key_error = None;
        status.keychain_message = None;
        let remember = self.connect.form.remember;
        let account = key_file_account(&self.settings.environment);
        let store = self.token_store.clone();
        self.tasks
            .spawn_blocking(TaskKind::KeyFile, "Reading the key file", None, move || {
                let key = backend::read_key_file(&path);
                let saved = match (&key, remember) {
                    (Ok(key), true) => Some(store.save_key(&account, key)),
                    _ => None,
                };
                Outcome::KeyFileRead { path, key, saved }
            });
    }

    pub(crate) fn apply_key_file_read(
        &mut self,
        path: PathBuf,
        key: Result<ServiceAccountKey, String>,
        saved: Option<Result<SavedSecret, KeychainProblem>>,
    ) {
        self.connect.status.reading_key = false;
        let key = match key {
            Ok(key) => key,
            Err(message) => {
                tracing::warn!(path = %path.display(), "invalid service-account key file: {message}");
                self.connect.status.key_error = Some(message);
                return;
            }
        };
        // A check running with the previous key must not sign this one in.
        self.tasks.cancel(TaskKind::Access);
        let status = &mut self.connect.status;
        status.key = Some(ChosenKey {
            file: Some(path),
            key,
        });
        status.key_remembered = false;
        status.service_account = None;
        status.access = AccessState::Unchecked;
        if let Some(saved) = saved {
            self.apply_key_saved(saved);
        }
    }

    fn remember_key(&mut self) {
        let Some(chosen) = self.connect.status.key.clone() else {
            return;
        };
        let account = key_file_account(&self.settings.environment);
        let store = self.token_store.clone();
        self.tasks
            .spawn_blocking(TaskKind::Keychain, "Saving the key", None, move || {
                Outcome::KeySaved(store.save_key(&account, &chosen.key))
            });
    }

    pub(crate) fn apply_key_saved(&mut self, result: Result<SavedSecret, KeychainProblem>) {
        let status = &mut self.connect.status;
        match result {
            Ok(saved) => {
                // Saved in this session's memory counts too: "Forget" then
                // removes it before the app closes.
                status.key_remembered = true;
                status.keychain_message = Some((!saved.in_keychain, saved.message));
            }
            Err(problem) => {
                tracing::warn!(
                    "failed to save the service-account key: {}",
                    problem.message
                );
                status.keychain_message = Some((true, problem.message));
            }
        }
    }

    fn forget_key(&mut self) {
        let account = key_file_account(&self.settings.environment);
        let store = self.token_store.clone();
        self.tasks.cancel(TaskKind::Access);
        let status = &mut self.connect.status;
        status.key = None;
        status.key_remembered = false;
        status.service_account = None;
        status.access = AccessState::Unchecked;
        self.tasks.spawn_blocking(
            TaskKind::Keychain,
            "Deleting the saved key",
            None,
            move || Outcome::KeyDeleted(store.delete(&account)),
        );
    }

    pub(crate) fn apply_key_deleted(&mut self, result: Result<(), KeychainProblem>) {
        self.connect.status.keychain_message = Some(match result {
            Ok(()) => (
                false,
                "The saved key was deleted from this computer.".to_owned(),
            ),
            Err(problem) => {
                tracing::warn!(
                    "failed to delete the saved service-account key: {}",
                    problem.message
                );
                (true, problem.message)
            }
        });
    }

    /// Checks the token (or signs in with the key file first) and the
    /// location id in the background.
    fn check_access(&mut self) {
        let Ok(connection) = self.connect.connection_to_check() else {
            return;
        };
        self.connect.status.access = AccessState::Checking;
        let Connection {
            base_url,
            credential,
            location_id,
            ..
        } = connection;
        self.tasks
            .spawn(TaskKind::Access, "Checking access", async move {
                let (token, signed_in) = match credential {
                    Credential::Token(token) => (token, None),
                    Credential::ServiceAccount(account) => (account.token.clone(), Some(account)),
                    Credential::Key(key) => match backend::sign_in(*key).await {
                        Ok(account) => (account.token.clone(), Some(account)),
                        Err(message) => {
                            return Outcome::Access {
                                result: Err(message),
                                signed_in: None,
                            };
                        }
                    },
                };
                let result = backend::check_access(&base_url, token, &location_id).await;
                Outcome::Access { result, signed_in }
            });
    }

    pub(crate) fn apply_access(
        &mut self,
        result: Result<(), String>,
        signed_in: Option<ServiceAccount>,
    ) {
        if signed_in.is_some() {
            self.connect.status.service_account = signed_in;
        }
        self.connect.status.access = match result {
            Ok(()) => AccessState::Passed,
            Err(message) => {
                tracing::warn!("access check failed: {message}");
                AccessState::Failed(message)
            }
        };
    }

    /// Remembers the location id for this environment and moves on.
    fn continue_from_connect(&mut self) {
        let Ok(connection) = self.connect.connection() else {
            return;
        };
        let account = connection.environment.keychain_account();
        let saved = self.settings.location_ids.get(&account);
        if saved != Some(&connection.location_id) {
            self.settings
                .location_ids
                .insert(account, connection.location_id.clone());
            self.save_settings();
        }
        let next = if self.document.is_some() {
            Step::Map
        } else {
            Step::Open
        };
        self.go_to(next);
    }
}
