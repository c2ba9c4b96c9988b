//! Running the connect screen's actions: choosing the environment, starting
//! the sandbox, loading, saving and forgetting tokens, and checking access.

use std::path::PathBuf;

use crate::environment::Environment;
use crate::secret::Secret;

use super::super::app::ImporterApp;
use super::super::backend::{self, KeychainProblem, LoadedToken, SandboxConnection, SavedToken};
use super::super::connect::{
    AccessState, ConnectAction, Connection, Credential, CredentialChoice, SandboxState,
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
        let status = &mut self.connect.status;
        status.token = None;
        status.token_remembered = false;
        status.keychain_message = None;
        status.access = AccessState::Unchecked;
        self.tasks.cancel(TaskKind::Keychain);
        status.loading_token = false;
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
        self.load_token(account);
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
                self.tasks
                    .spawn(TaskKind::Sandbox, "Starting the sandbox", async move {
                        Outcome::Sandbox(backend::start_sandbox(runtime).await)
                    });
            }
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

    fn load_token(&mut self, account: String) {
        self.connect.status.loading_token = true;
        let store = self.token_store.clone();
        self.tasks.spawn_blocking(
            TaskKind::Keychain,
            "Loading the saved token",
            None,
            move || {
                let result = store.load(&account);
                Outcome::TokenLoaded { account, result }
            },
        );
    }

    pub(crate) fn apply_token_loaded(
        &mut self,
        account: &str,
        result: Result<LoadedToken, KeychainProblem>,
    ) {
        let status = &mut self.connect.status;
        status.loading_token = false;
        if account != self.settings.environment.keychain_account() {
            return;
        }
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

    pub(crate) fn apply_token_saved(&mut self, result: Result<SavedToken, KeychainProblem>) {
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

    pub(crate) fn apply_key_file_chosen(&mut self, path: Option<PathBuf>) {
        if let Some(path) = path {
            self.connect.form.credential = CredentialChoice::KeyFile;
            self.connect.status.key_file = Some(path);
            self.connect.status.access = AccessState::Unchecked;
        }
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
                    Credential::KeyFile(path) => match backend::sign_in(path).await {
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
