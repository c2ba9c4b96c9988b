//! The connect screen: where customers are sent (the built-in sandbox,
//! Demo, Production or a custom address), the token or service-account key
//! file to sign in with, the business location id, and a check that they
//! work.

use std::path::PathBuf;

use egui::Ui;

use crate::auth::{ServiceAccountKey, TokenSource};
use crate::environment::Environment;
use crate::secret::Secret;

use super::backend::SandboxConnection;
use super::widgets;

/// The environment radio buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvironmentChoice {
    Sandbox,
    Demo,
    Production,
    Custom,
}

/// Kind of credential the user signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialChoice {
    Token,
    KeyFile,
}

/// Values the user types and picks on this screen.
#[derive(Debug, Clone)]
pub(crate) struct ConnectForm {
    pub environment: EnvironmentChoice,
    pub custom_url: String,
    pub credential: CredentialChoice,
    /// Token being typed or pasted; moved into [`ConnectStatus::token`] and
    /// cleared when the user presses "Use token".
    pub token_input: String,
    /// Whether a token is saved in the keychain when it is used, and a
    /// key when its file is chosen.
    pub remember: bool,
    pub location_id: String,
}

/// State of the built-in sandbox server.
#[derive(Debug, Clone, Default)]
pub(crate) enum SandboxState {
    #[default]
    Stopped,
    Starting,
    Running(SandboxConnection),
    Failed(String),
}

/// Result of the last "Check".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum AccessState {
    #[default]
    Unchecked,
    Checking,
    Passed,
    Failed(String),
}

/// State of the connection, which the screen only displays.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectStatus {
    pub sandbox: SandboxState,
    /// Token in use for the selected environment; never shown in full.
    pub token: Option<Secret>,
    /// Whether `token` came from the keychain or was saved there.
    pub token_remembered: bool,
    /// Service-account key in use for the selected environment.
    pub key: Option<ChosenKey>,
    /// Whether `key` came from the keychain (or this session's fallback
    /// store) or was saved there.
    pub key_remembered: bool,
    /// Whether a chosen key file is being read and checked.
    pub reading_key: bool,
    /// Reason the last key file chosen cannot be used.
    pub key_error: Option<String>,
    /// Set once a check signed in with `key`; cleared when the key changes.
    pub service_account: Option<ServiceAccount>,
    /// Whether the saved token and key are still being loaded from the
    /// keychain.
    pub loading_saved: bool,
    /// Last keychain message, and whether it is an error rather than a note.
    pub keychain_message: Option<(bool, String)>,
    pub access: AccessState,
}

/// A service-account key that was read and validated. Its `Debug` hides
/// the private key.
#[derive(Debug, Clone)]
pub(crate) struct ChosenKey {
    /// The file it was read from this session; `None` for the copy loaded
    /// from the keychain.
    pub file: Option<PathBuf>,
    pub key: ServiceAccountKey,
}

/// The connect screen's state.
#[derive(Debug, Clone)]
pub(crate) struct ConnectScreen {
    pub form: ConnectForm,
    pub status: ConnectStatus,
}

/// Everything an upload needs to reach the API.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub environment: Environment,
    pub base_url: String,
    pub credential: Credential,
    pub location_id: String,
}

/// The secret part of a [`Connection`].
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    Token(Secret),
    /// A key not signed in with yet; only a check accepts it.
    Key(Box<ServiceAccountKey>),
    ServiceAccount(ServiceAccount),
}

/// A service account signed in with its key.
#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    /// Token from the last sign-in; the source fetches new ones.
    pub token: Secret,
    pub source: TokenSource,
}

/// Requests from the connect screen to the app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConnectAction {
    /// The environment radio changed: load its token, start the sandbox.
    SelectEnvironment,
    /// Use the typed token (and save it when "Remember" is ticked).
    UseToken,
    /// Show the token field again to paste a different token.
    ReplaceToken,
    /// Delete the saved token of this environment from the keychain.
    ForgetToken,
    ChooseKeyFile,
    /// Save the key in use in the keychain ("Remember" ticked afterwards).
    RememberKey,
    /// Delete the saved key of this environment from the keychain.
    ForgetKey,
    /// Ask to delete every customer of the built-in sandbox.
    ResetSandbox,
    CheckAccess,
    Continue,
}

impl ConnectForm {
    /// Builds the form for a saved environment and location id.
    pub fn new(environment: &Environment, location_id: String) -> Self {
        let (choice, custom_url) = match environment {
            Environment::Sandbox => (EnvironmentChoice::Sandbox, String::new()),
            Environment::Demo => (EnvironmentChoice::Demo, String::new()),
            Environment::Production => (EnvironmentChoice::Production, String::new()),
            Environment::Custom(url) => (EnvironmentChoice::Custom, url.clone()),
        };
        Self {
            environment: choice,
            custom_url,
            credential: CredentialChoice::Token,
            token_input: String::new(),
            remember: true,
            location_id,
        }
    }

    pub fn credential_is_key_file(&self) -> bool {
        self.environment != EnvironmentChoice::Sandbox
            && self.credential == CredentialChoice::KeyFile
    }

    /// Returns the environment the form names, or why it names none.
    pub fn environment(&self) -> Result<Environment, &'static str> {
        match self.environment {
            EnvironmentChoice::Sandbox => Ok(Environment::Sandbox),
            EnvironmentChoice::Demo => Ok(Environment::Demo),
            EnvironmentChoice::Production => Ok(Environment::Production),
            EnvironmentChoice::Custom => Environment::from_arg(&self.custom_url)
                .ok()
                .filter(|environment| matches!(environment, Environment::Custom(_)))
                .ok_or("Enter an address that starts with http:// or https://"),
        }
    }
}

impl ConnectScreen {
    /// Returns the connection the screen describes, or the reason it is not
    /// complete, worded for a disabled button's hover text.
    pub fn connection(&self) -> Result<Connection, &'static str> {
        self.build_connection(false)
    }

    /// Like [`Self::connection`], but accepts a key file not yet signed in
    /// with, since checking signs in.
    pub fn connection_to_check(&self) -> Result<Connection, &'static str> {
        self.build_connection(true)
    }

    fn build_connection(&self, key_file_to_check: bool) -> Result<Connection, &'static str> {
        let environment = self.form.environment()?;
        let base_url = match (&environment, &self.status.sandbox) {
            (Environment::Sandbox, SandboxState::Running(sandbox)) => sandbox.base_url.clone(),
            (Environment::Sandbox, SandboxState::Failed(_)) => {
                return Err("The sandbox could not be started");
            }
            (Environment::Sandbox, _) => return Err("The sandbox is still starting"),
            (other, _) => other.base_url().unwrap_or_default().to_owned(),
        };
        let credential = self.credential(key_file_to_check)?;
        let location_id = self.form.location_id.trim();
        if location_id.is_empty() {
            return Err("Enter the business location id (it starts with AG-)");
        }
        Ok(Connection {
            environment,
            base_url,
            credential,
            location_id: location_id.to_owned(),
        })
    }

    fn credential(&self, key_file_to_check: bool) -> Result<Credential, &'static str> {
        let status = &self.status;
        if !self.form.credential_is_key_file() {
            return match &status.token {
                Some(token) => Ok(Credential::Token(token.clone())),
                None if status.loading_saved => Err("The saved token is still loading"),
                None => Err("Paste a token and press \"Use token\" first"),
            };
        }
        let Some(chosen) = &status.key else {
            return Err(if status.loading_saved {
                "The saved key is still loading"
            } else if status.reading_key {
                "The key file is still being read"
            } else {
                "Choose a service-account key file first"
            });
        };
        match &status.service_account {
            Some(account) => Ok(Credential::ServiceAccount(account.clone())),
            None if key_file_to_check => Ok(Credential::Key(Box::new(chosen.key.clone()))),
            None => Err("Press Check to sign in with the key first"),
        }
    }
}

/// Draws the connect screen and returns what the user asked for. The
/// "Continue" button is drawn by the footer (see [`continue_blocked`]).
pub(crate) fn connect_ui(ui: &mut Ui, screen: &mut ConnectScreen) -> Vec<ConnectAction> {
    let mut actions = Vec::new();
    widgets::screen_title(
        ui,
        "Connect",
        "Choose where to send your customers and how to sign in.",
    );
    widgets::section(ui, "Where to send", |ui| {
        environment_ui(ui, &mut screen.form, &screen.status, &mut actions);
    });
    widgets::section(ui, "Sign in", |ui| {
        if screen.form.environment == EnvironmentChoice::Sandbox {
            widgets::hint_label(
                ui,
                "The sandbox fills in its own token and location id, so no account is needed.",
            );
        } else {
            credential_ui(ui, screen, &mut actions);
        }
    });
    widgets::section(ui, "Business location", |ui| {
        location_ui(ui, &mut screen.form);
        ui.add_space(4.0);
        check_ui(ui, screen, &mut actions);
    });
    actions
}

/// Returns why "Continue" cannot be pressed yet, or `None` when it can.
pub(crate) fn continue_blocked(screen: &ConnectScreen) -> Option<&'static str> {
    screen.connection().err()
}

fn environment_ui(
    ui: &mut Ui,
    form: &mut ConnectForm,
    status: &ConnectStatus,
    actions: &mut Vec<ConnectAction>,
) {
    let before = form.environment;
    ui.radio_value(
        &mut form.environment,
        EnvironmentChoice::Sandbox,
        "Sandbox (built in, safe to practise on: nothing leaves this computer)",
    );
    ui.radio_value(&mut form.environment, EnvironmentChoice::Demo, "Demo");
    ui.radio_value(
        &mut form.environment,
        EnvironmentChoice::Production,
        "Production (your real Business App)",
    );
    ui.horizontal(|ui| {
        let radio = ui.radio_value(
            &mut form.environment,
            EnvironmentChoice::Custom,
            "Custom address",
        );
        let width = ui.available_width().min(360.0);
        let edit = egui::TextEdit::singleline(&mut form.custom_url)
            .hint_text("https://example.com/business")
            .desired_width(width);
        let response = ui
            .add_enabled(form.environment == EnvironmentChoice::Custom, edit)
            .labelled_by(radio.id);
        if response.lost_focus() && form.environment().is_ok() {
            actions.push(ConnectAction::SelectEnvironment);
        }
    });
    if form.environment != before {
        actions.push(ConnectAction::SelectEnvironment);
    }
    if form.environment == EnvironmentChoice::Custom
        && let Err(reason) = form.environment()
        && !form.custom_url.trim().is_empty()
    {
        widgets::error_label(ui, reason);
    }
    if form.environment == EnvironmentChoice::Sandbox {
        ui.add_space(4.0);
        sandbox_status_ui(ui, &status.sandbox, actions);
    }
}

fn sandbox_status_ui(ui: &mut Ui, sandbox: &SandboxState, actions: &mut Vec<ConnectAction>) {
    match sandbox {
        SandboxState::Stopped => {}
        SandboxState::Starting => widgets::busy_label(ui, "Starting the sandbox…"),
        SandboxState::Running(connection) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    egui::RichText::new("The sandbox is running on this computer.")
                        .color(widgets::SUCCESS_COLOR),
                )
                .on_hover_text(format!("Its address is {}", connection.base_url));
                if ui
                    .button("Reset sandbox…")
                    .on_hover_text("Delete every customer the sandbox holds, to practise again")
                    .clicked()
                {
                    actions.push(ConnectAction::ResetSandbox);
                }
            });
        }
        SandboxState::Failed(message) => widgets::error_label(ui, message),
    }
}

fn credential_ui(ui: &mut Ui, screen: &mut ConnectScreen, actions: &mut Vec<ConnectAction>) {
    ui.horizontal(|ui| {
        ui.radio_value(
            &mut screen.form.credential,
            CredentialChoice::Token,
            "API token",
        );
        ui.radio_value(
            &mut screen.form.credential,
            CredentialChoice::KeyFile,
            "Service-account key file",
        );
    });
    ui.add_space(4.0);
    match screen.form.credential {
        CredentialChoice::Token => token_ui(ui, screen, actions),
        CredentialChoice::KeyFile => key_file_ui(ui, screen, actions),
    }
    if let Some((is_error, message)) = &screen.status.keychain_message {
        if *is_error {
            widgets::warning_label(ui, message);
        } else {
            widgets::hint_label(ui, message);
        }
    }
}

fn token_ui(ui: &mut Ui, screen: &mut ConnectScreen, actions: &mut Vec<ConnectAction>) {
    if screen.status.loading_saved {
        widgets::busy_label(ui, "Loading the saved token…");
        return;
    }
    if let Some(token) = &screen.status.token {
        ui.horizontal_wrapped(|ui| {
            let place = if screen.status.token_remembered {
                "saved on this computer"
            } else {
                "kept for this session"
            };
            ui.label(format!("Token in use: {} ({place})", token.hint()));
            if ui.button("Replace token").clicked() {
                actions.push(ConnectAction::ReplaceToken);
            }
            let forget_reason = (!screen.status.token_remembered)
                .then_some("The token is not saved on this computer");
            if widgets::button(ui, "Forget saved token", forget_reason) {
                actions.push(ConnectAction::ForgetToken);
            }
        });
        return;
    }
    token_input_ui(ui, &mut screen.form, actions);
}

fn token_input_ui(ui: &mut Ui, form: &mut ConnectForm, actions: &mut Vec<ConnectAction>) {
    ui.horizontal(|ui| {
        let label = ui.label("Token");
        let width = (ui.available_width() - 110.0).clamp(160.0, 380.0);
        let edit = egui::TextEdit::singleline(&mut form.token_input)
            .password(true)
            .hint_text("Paste the API token")
            .desired_width(width);
        let response = ui.add(edit).labelled_by(label.id);
        let submitted =
            response.lost_focus() && ui.input(|input| input.key_pressed(egui::Key::Enter));
        let reason = form
            .token_input
            .trim()
            .is_empty()
            .then_some("Paste a token into the field first");
        if widgets::button(ui, "Use token", reason) || (submitted && reason.is_none()) {
            actions.push(ConnectAction::UseToken);
        }
    });
    ui.checkbox(&mut form.remember, "Remember on this computer");
}

fn key_file_ui(ui: &mut Ui, screen: &mut ConnectScreen, actions: &mut Vec<ConnectAction>) {
    let status = &screen.status;
    if status.loading_saved {
        widgets::busy_label(ui, "Loading the saved key…");
        return;
    }
    ui.horizontal(|ui| {
        let choose = match &status.key {
            Some(chosen) => {
                ui.label("Key in use:");
                widgets::truncated_label(ui, key_description(chosen));
                "Choose another key file…"
            }
            None => {
                ui.label("No key file chosen");
                "Choose key file…"
            }
        };
        let reason = status.reading_key.then_some("A key file is being read");
        if widgets::button(ui, choose, reason) {
            actions.push(ConnectAction::ChooseKeyFile);
        }
    });
    if status.reading_key {
        widgets::busy_label(ui, "Reading the key file…");
    }
    if let Some(message) = &status.key_error {
        widgets::error_label(ui, message);
    }
    ui.horizontal(|ui| {
        let response = ui.checkbox(&mut screen.form.remember, "Remember on this computer");
        if response.changed() && screen.form.remember && status.key.is_some() {
            actions.push(ConnectAction::RememberKey);
        }
        let forget_reason = (!status.key_remembered).then_some("No key is saved on this computer");
        if widgets::button(ui, "Forget saved key", forget_reason) {
            actions.push(ConnectAction::ForgetKey);
        }
    });
}

/// Describes the key in use without showing any of its contents.
fn key_description(chosen: &ChosenKey) -> String {
    match &chosen.file {
        Some(path) => path.display().to_string(),
        None => "the key saved on this computer".to_owned(),
    }
}

fn location_ui(ui: &mut Ui, form: &mut ConnectForm) {
    ui.horizontal(|ui| {
        let label = ui
            .label("Location id")
            .on_hover_text("The id of the business in Business App that receives the customers");
        let edit = egui::TextEdit::singleline(&mut form.location_id)
            .hint_text("AG-XXXXXXXX")
            .desired_width(220.0);
        ui.add_enabled(form.environment != EnvironmentChoice::Sandbox, edit)
            .labelled_by(label.id)
            .on_disabled_hover_text("The sandbox uses the location AG-SANDBOX");
        if form.environment != EnvironmentChoice::Sandbox {
            widgets::hint_label(ui, "It starts with AG-");
        }
    });
}

fn check_ui(ui: &mut Ui, screen: &ConnectScreen, actions: &mut Vec<ConnectAction>) {
    let checking = screen.status.access == AccessState::Checking;
    let check_reason = match &screen.connection_to_check() {
        Err(reason) => Some(*reason),
        Ok(_) if checking => Some("The check is running"),
        Ok(_) => None,
    };
    ui.horizontal(|ui| {
        if widgets::button(ui, "Check", check_reason) {
            actions.push(ConnectAction::CheckAccess);
        }
        widgets::hint_label(
            ui,
            "Asks the server whether the sign-in and location id work; nothing is sent.",
        );
    });
    match &screen.status.access {
        AccessState::Unchecked => {}
        AccessState::Checking => widgets::busy_label(ui, "Checking the sign-in and location id…"),
        AccessState::Passed => widgets::message_box(
            ui,
            widgets::Tone::Success,
            "The token and location id work.",
        ),
        AccessState::Failed(message) => widgets::error_label(ui, message),
    }
}
