//! The desktop app driven through `egui_kittest`: widgets are found by
//! label and role, frames are stepped until a condition is true (never a
//! sleep), and a few screens are compared with rendered snapshots.
//!
//! Each test runs the real app with its own `CUSTOMER_IMPORTER_HOME`-style
//! folder (through `AppPaths::under`), an in-memory keychain and no native
//! file dialogs, on its own tokio runtime.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use customer_importer::check::CheckOptions;
use customer_importer::customer::Customer;
use customer_importer::environment::Environment;
use customer_importer::fields::{Mapping, Target};
use customer_importer::gui::{AppOptions, DEFAULT_WINDOW_SIZE, ImporterApp, TokenStore};
use customer_importer::paths::AppPaths;
use customer_importer::sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use customer_importer::secret::Secret;
use customer_importer::settings::Settings;
use customer_importer::upload::journal::{Journal, NewRow, RunInfo};
use customer_importer::upload::{RowState, RunOptions};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::{Harness, SnapshotOptions};

/// Maximum time a test waits for a condition before it fails. It guards
/// against hangs and is not a speed requirement.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Pixels a snapshot may differ by and still match.
const MAX_FAILED_PIXELS: usize = 50;

/// A running app with the folder and runtime it uses.
struct TestApp {
    harness: Harness<'static, ImporterApp>,
    home: tempfile::TempDir,
    // Dropped last: background jobs of the app run on it.
    runtime: tokio::runtime::Runtime,
}

impl TestApp {
    /// Starts the app as on a first run: default settings, welcome shown.
    fn first_run() -> Self {
        Self::start(Settings::default(), None)
    }

    /// Starts the app with the welcome already dismissed.
    fn returning(settings: Settings, file: Option<PathBuf>) -> Self {
        let settings = Settings {
            welcome_dismissed: true,
            ..settings
        };
        Self::start(settings, file)
    }

    fn start(settings: Settings, file: Option<PathBuf>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let home = tempfile::tempdir().expect("temporary home folder");
        Self::start_in(settings, file, home, runtime)
    }

    /// Starts the app in a home folder and on a runtime the test prepared.
    fn start_in(
        settings: Settings,
        file: Option<PathBuf>,
        home: tempfile::TempDir,
        runtime: tokio::runtime::Runtime,
    ) -> Self {
        let options = AppOptions {
            paths: Some(AppPaths::under(home.path().to_path_buf())),
            settings,
            file,
            token_store: TokenStore::memory(),
            file_dialogs: false,
        };
        let handle = runtime.handle().clone();
        // A few pixels of text edges differ between runs of the software
        // renderer; a real change of layout or text differs in thousands.
        let snapshot_options = SnapshotOptions::new().max_failed_pixels(MAX_FAILED_PIXELS);
        let harness = Harness::builder()
            .with_size(egui::Vec2::from(DEFAULT_WINDOW_SIZE))
            .with_theme(egui::Theme::Light)
            .with_options(snapshot_options)
            .build_eframe(move |cc| ImporterApp::new(&cc.egui_ctx, handle, options));
        Self {
            harness,
            home,
            runtime,
        }
    }

    /// Steps frames until `condition` is true, and fails after
    /// [`WAIT_LIMIT`] naming the awaited condition.
    fn step_until(
        &mut self,
        what: &str,
        condition: impl Fn(&Harness<'static, ImporterApp>) -> bool,
    ) {
        let started = Instant::now();
        loop {
            self.harness.step();
            if condition(&self.harness) {
                return;
            }
            if started.elapsed() > WAIT_LIMIT {
                let picture = self.save_render("timeout");
                panic!("timed out waiting for {what}; the last frame is in {picture}");
            }
            std::thread::yield_now();
        }
    }

    /// Steps until a widget with this exact label is on screen.
    fn wait_for_label(&mut self, label: &str) {
        self.step_until(&format!("\"{label}\" on screen"), |harness| {
            harness.query_by_label(label).is_some()
        });
    }

    /// Steps until some text on screen contains `fragment`.
    fn wait_for_text(&mut self, fragment: &str) {
        self.step_until(&format!("text containing \"{fragment}\""), |harness| {
            harness.query_by_label_contains(fragment).is_some()
        });
    }

    /// Clicks a widget, then steps two frames: one in which the app receives
    /// the click and runs the action, one that draws the result.
    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.harness.run_steps(2);
    }

    /// Renders the current frame into the temporary folder for a failure
    /// message, and returns where it went (or why it could not).
    fn save_render(&mut self, name: &str) -> String {
        let path = std::env::temp_dir().join(format!("customer-importer-gui-{name}.png"));
        match self.harness.render() {
            Ok(image) => match image.save(&path) {
                Ok(()) => path.display().to_string(),
                Err(err) => format!("(not saved: {err})"),
            },
            Err(err) => format!("(not rendered: {err})"),
        }
    }

    fn settings_file(&self) -> PathBuf {
        AppPaths::under(self.home.path().to_path_buf()).settings_file()
    }
}

/// A file dropped on the window, as the windowing system hands it over.
#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|err| err.to_string())
    }
}

impl TestApp {
    /// Drops a file on the window, as a user dragging it from a folder.
    fn drop_file(&mut self, path: PathBuf) {
        let file: std::sync::Arc<dyn egui::DroppedFile + Send + Sync> =
            std::sync::Arc::new(DroppedPath(path));
        self.harness.input_mut().dropped_files.push(file);
        self.harness.run_steps(2);
    }

    /// Takes a snapshot with every customer id masked, since the sandbox
    /// makes new random ids each run. The masks have one fixed width, as
    /// the width of a random id's text varies.
    fn snapshot_masking_ids(&mut self, name: &str) {
        let rects: Vec<egui::Rect> = self
            .harness
            .query_all_by_label_contains("AG-SANDBOX:")
            .map(|node| {
                let rect = node.rect();
                egui::Rect::from_min_size(rect.min, egui::vec2(190.0, rect.height()))
            })
            .collect();
        for rect in rects {
            self.harness.mask(rect);
        }
        self.harness.snapshot(name);
    }

    /// Chooses "Custom address" with this base URL and the sandbox's
    /// location id, and waits for the token field.
    fn use_custom_address(&mut self, base_url: &str) {
        self.harness
            .get_by_role_and_label(egui::accesskit::Role::RadioButton, "Custom address")
            .click();
        self.harness.run_steps(2);
        let inputs = self
            .harness
            .get_all_by_role(egui::accesskit::Role::TextInput);
        let url_field = inputs.into_iter().next().expect("the address field");
        url_field.focus();
        url_field.type_text(base_url);
        self.harness.key_press(egui::Key::Enter);
        self.harness.run_steps(2);
        self.wait_for_label("Use token");
        self.wait_until_idle();
        let location_field = self.harness.get_by_label("Location id");
        location_field.focus();
        location_field.type_text("AG-SANDBOX");
        self.harness.run_steps(1);
    }

    /// Pastes a token into the token field and presses "Use token".
    fn type_token(&mut self, token: &str) {
        let field = self
            .harness
            .get_by_role(egui::accesskit::Role::PasswordInput);
        field.focus();
        field.type_text(token);
        self.harness.run_steps(1);
        self.click("Use token");
        // Saving the token adds a line above the buttons; wait for it so
        // the next click lands where the button is drawn.
        self.wait_until_idle();
    }

    fn wait_for_step(&mut self, step: &str) {
        self.step_until(&format!("the {step} step"), |harness| {
            harness.state().step_name() == step
        });
    }

    /// Steps until no background job runs, then a few more frames so
    /// what they produced is drawn.
    fn wait_until_idle(&mut self) {
        self.step_until("background jobs to finish", |harness| {
            !harness.state().is_busy()
        });
        self.harness.run_steps(3);
    }
}

/// Returns a sample file kept in the repository's `tests/` folder.
fn sample(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(relative)
}

#[test]
fn welcome_shows_on_first_run_and_is_remembered() {
    let mut app = TestApp::first_run();
    app.wait_for_label("Welcome to Customer Importer");
    app.wait_until_idle();
    app.harness.snapshot("welcome");
    app.click("Get started");
    app.step_until("the welcome to close", |harness| {
        harness
            .query_by_label("Welcome to Customer Importer")
            .is_none()
    });
    let path = app.settings_file();
    app.step_until("settings to be saved", |_| path.exists());
    app.step_until("settings to record the dismissal", |_| {
        Settings::load(&path).welcome_dismissed
    });
}

#[test]
fn token_is_masked_and_only_hint_shown() {
    let token = "test-token-0123456789-3f9a";
    let mut app = TestApp::returning(Settings::default(), None);
    app.click("Demo");
    app.wait_for_label("Token");
    let field = app
        .harness
        .get_by_role(egui::accesskit::Role::PasswordInput);
    field.focus();
    field.type_text(token);
    app.harness.step();
    assert!(
        app.harness.query_by_label_contains(token).is_none(),
        "the typed token must not be shown"
    );
    app.click("Use token");
    app.wait_for_text("Token in use: …3f9a");
    assert!(app.harness.query_by_label_contains(token).is_none());
    assert!(
        app.harness
            .query_by_role(egui::accesskit::Role::PasswordInput)
            .is_none()
    );
}

#[test]
fn remembered_token_loads_at_next_start() {
    let token = "remembered-token-abcdef-9b1c";
    let mut app = TestApp::returning(Settings::default(), None);
    app.click("Demo");
    app.wait_for_label("Use token");
    let field = app
        .harness
        .get_by_role(egui::accesskit::Role::PasswordInput);
    field.focus();
    field.type_text(token);
    app.harness.step();
    app.click("Use token");
    app.wait_for_text("Token in use: …9b1c");
    app.click("Replace token");
    app.wait_for_label("Use token");
    app.click("Sandbox (built in, safe to practise on: nothing leaves this computer)");
    app.wait_for_text("The sandbox is running");
    app.click("Demo");
    app.wait_for_text("Token in use: …9b1c");
}

#[test]
fn unreadable_file_shows_error_naming_it() {
    let mut app = TestApp::returning(Settings::default(), Some(sample("cases/empty.csv")));
    app.wait_for_text("empty.csv");
    app.step_until("the reader to finish", |harness| {
        !harness.state().is_busy_reading()
    });
    assert_eq!(app.harness.state().step_name(), "Open");
    assert!(app.harness.query_by_label_contains("empty").is_some());
}

#[test]
fn file_error_says_next_step() {
    let mut app = TestApp::returning(Settings::default(), Some(sample("cases/empty.csv")));
    app.wait_for_text("nothing to import");
    assert!(
        app.harness
            .query_by_label("empty.csv: The file is empty (0 bytes): nothing to import.")
            .is_some()
    );

    app.drop_file(sample("cases/binary-renamed.csv"));
    app.wait_for_text("export the customer list again as CSV or Excel");
    assert!(
        app.harness
            .query_by_label_contains("binary-renamed.csv: This file is not a spreadsheet")
            .is_some()
    );
    assert_eq!(app.harness.state().step_name(), "Open");
}

#[test]
fn open_without_dialog_says_to_drag() {
    let mut app = TestApp::returning(Settings::default(), None);
    app.click("2. Open");
    app.click("Choose file…");
    app.wait_for_text("Drag the spreadsheet onto this window instead");
}

#[test]
fn import_flow_with_conflict_merge() {
    // One request at a time, so the rows are sent in file order and the
    // later rows of each duplicate are the conflicts.
    let settings = Settings {
        max_concurrency: 1,
        ..Settings::default()
    };
    let mut app = TestApp::returning(settings, None);
    app.wait_for_text("The sandbox is running on this computer");
    app.wait_until_idle();
    app.harness.snapshot("connect");
    app.click("Continue");
    app.wait_for_step("Open");

    // Rows 2 and 3 share an email, so the sandbox returns 409 for row 3.
    app.drop_file(sample("cases/duplicate-emails.csv"));
    app.wait_for_step("Map");
    app.wait_until_idle();
    app.harness.snapshot("mapping");
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    app.harness.snapshot("preview");
    assert!(app.harness.query_by_label("3 ready").is_some());

    app.click("Continue with 3 ready rows");
    app.wait_for_step("Upload");
    app.click("Send 3 customers");
    app.wait_for_step("Results");
    app.wait_until_idle();
    // Row 3 repeats row 2's email and row 4 its phone.
    app.wait_for_label("Conflicts (2)");
    app.click("Conflicts (2)");
    app.wait_for_label("Merge all");
    app.snapshot_masking_ids("results");
    let first_merge = app
        .harness
        .get_all_by_label("Merge")
        .next()
        .expect("a conflict row");
    first_merge.click();
    app.harness.run_steps(2);
    app.wait_for_label("Merged");
    app.wait_until_idle();
    assert_eq!(app.harness.query_all_by_label("Merged").count(), 1);
    assert_eq!(app.harness.query_all_by_label("Merge").count(), 1);

    // With no file dialog, reports go to the data folder.
    app.click("Save reports…");
    app.wait_for_text("report files in");
    let reports = AppPaths::under(app.home.path().to_path_buf())
        .data_dir
        .join("reports");
    let report_count = std::fs::read_dir(&reports).expect("reports folder").count();
    assert!(
        report_count >= 2,
        "{report_count} reports in {}",
        reports.display()
    );

    // Undo deletes the customer the import created; the merge went into
    // that same customer, so there is nothing else to restore.
    app.click("Undo this import…");
    app.wait_for_label("Undo this import?");
    app.click("Delete 1 and restore 1");
    app.wait_for_text("The import was undone (deleted: 1");
    app.wait_until_idle();
}

#[test]
fn preview_excludes_row_and_filters() {
    let mut app = TestApp::returning(
        Settings::default(),
        Some(sample("cases/scientific-notation-phones.csv")),
    );
    app.wait_for_step("Map");
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    let include_boxes = app.harness.query_all_by_label("Include").count();
    assert!(include_boxes > 1);
    app.harness
        .get_all_by_label("Include")
        .next()
        .expect("a row")
        .click();
    app.harness.run_steps(2);
    assert!(app.harness.query_by_label("1 excluded").is_some());
    app.click("Show only rows with problems");
    let shown = app.harness.query_all_by_label("Include").count();
    assert!(
        shown < include_boxes,
        "the filter hides rows without problems"
    );
}

#[test]
fn preview_shows_rejected_value_not_missing() {
    let mut app = TestApp::returning(Settings::default(), None);
    let path = write_people(
        &app,
        "people.csv",
        &[
            ("Ana", "ana@example.com"),
            ("Nicole", "nicole.example.net"),
            ("Bo", ""),
        ],
    );
    app.drop_file(path);
    app.wait_for_step("Map");
    app.wait_until_idle();
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("nicole.example.net").is_some());
    // Neither Nicole nor Bo has a usable email or phone, so their Phones
    // cells are missing, and so is Bo's Emails cell.
    assert_eq!(app.harness.query_all_by_label("missing").count(), 3);
}

#[test]
fn fixed_cell_is_checked_again() {
    let mut app = TestApp::returning(
        Settings::default(),
        Some(sample("cases/scientific-notation-phones.csv")),
    );
    app.wait_for_step("Map");
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("2 ready").is_some());

    // Row 2's phone lost its digits to Excel's scientific notation.
    app.harness
        .get_all_by_label("Fix…")
        .next()
        .expect("row 2")
        .click();
    app.harness.run_steps(2);
    app.wait_for_label("Fix row 2");
    app.harness.snapshot("fix_row");
    let field = app.harness.get_by_label("Mobile · Phone");
    field.focus();
    app.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    app.harness.run_steps(1);
    app.harness
        .get_by_label("Mobile · Phone")
        .type_text("(313) 555-0142");
    app.harness.run_steps(1);
    app.click("Save and check again");
    app.wait_for_label("3 ready");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Fix row 2").is_none());
    assert!(app.harness.query_by_label("3 ready").is_some());
}

#[test]
fn header_only_file_says_no_rows() {
    let mut app = TestApp::returning(Settings::default(), Some(sample("cases/header-only.csv")));
    app.wait_for_text("No customer rows found below the header");
    app.wait_until_idle();
    assert_eq!(app.harness.state().step_name(), "Open");
}

#[test]
fn access_check_names_rejected_token() {
    let mut app = TestApp::returning(Settings::default(), None);
    let sandbox = Sandbox::start_on(
        app.runtime.handle(),
        SandboxConfig {
            tokens: vec![Secret::new("accepted-token-0123456789")],
            ..SandboxConfig::default()
        },
    )
    .expect("test sandbox");
    app.wait_until_idle();

    app.use_custom_address(&sandbox.base_url());
    app.type_token("rejected-token-0123456789");
    app.click("Check");
    app.wait_for_text("The API token was not accepted");

    app.click("Replace token");
    app.wait_for_label("Use token");
    app.type_token("accepted-token-0123456789");
    app.click("Check");
    app.wait_for_text("The token and location id work.");
}

#[test]
fn rejected_token_mid_run_asks_for_new() {
    let mut app = TestApp::returning(Settings::default(), None);
    let sandbox = Sandbox::start_on(
        app.runtime.handle(),
        SandboxConfig {
            tokens: vec![Secret::new("new-token-0123456789")],
            ..SandboxConfig::default()
        },
    )
    .expect("test sandbox");
    app.wait_until_idle();
    app.use_custom_address(&sandbox.base_url());
    // The sandbox does not know this token, as if it had expired.
    app.type_token("old-token-0123456789");
    app.click("Continue");
    app.wait_for_step("Open");

    app.drop_file(sample("cases/leading-zeros.csv"));
    app.wait_for_step("Map");
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    app.click("Continue with 3 ready rows");
    app.click("Send 3 customers");
    app.wait_for_label("A new token is needed");
    app.click("Not now");
    app.wait_for_text("Paused: the server refused the token.");
    app.click("Paste a new token…");
    app.wait_for_label("A new token is needed");

    let field = app
        .harness
        .get_by_role(egui::accesskit::Role::PasswordInput);
    field.focus();
    field.type_text("new-token-0123456789");
    app.harness.run_steps(1);
    app.click("Continue the upload");
    app.wait_for_step("Results");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Created (3)").is_some());
    assert_eq!(sandbox.customers("AG-SANDBOX").len(), 3);
}

#[test]
fn key_file_signs_in_on_check() {
    let mut app = TestApp::returning(Settings::default(), None);
    let sandbox =
        Sandbox::start_on(app.runtime.handle(), SandboxConfig::default()).expect("test sandbox");
    let private_key =
        std::fs::read_to_string(sample("keys/throwaway-rsa-private-pkcs1.pem")).expect("test key");
    let key_file = app.home.path().join("service-account.json");
    let key = serde_json::json!({
        "type": "service_account",
        "private_key_id": "gui-test-key",
        "private_key": private_key,
        "client_email": "importer@example.test",
        "token_uri": sandbox.token_url(),
        "assertionHeaderData": { "alg": "RS256", "kid": "gui-test-key" },
        "assertionPayloadData": {
            "aud": sandbox.token_url(),
            "iss": "importer@example.test",
            "sub": "importer@example.test",
        },
    });
    std::fs::write(&key_file, key.to_string()).expect("write the key file");
    app.wait_until_idle();
    app.use_custom_address(&sandbox.base_url());

    app.click("Service-account key file");
    app.wait_for_label("Choose key file…");
    app.drop_file(key_file);
    app.wait_for_text("service-account.json");
    assert!(app.harness.state().step_name() == "Connect");
    app.click("Check");
    app.wait_for_text("The token and location id work.");
    app.click("Continue");
    app.wait_for_step("Open");
}

#[test]
fn unfinished_run_offered_at_start() {
    let (sandbox, mut app) = app_with_unfinished_run();
    app.wait_for_label("Unfinished imports");
    app.wait_for_text("resume-me.csv");
    app.click("Later");
    app.wait_for_label("Use token");
    app.type_token("any-token-0123456789");
    let location_field = app.harness.get_by_label("Location id");
    location_field.focus();
    location_field.type_text("AG-SANDBOX");
    app.harness.run_steps(1);

    app.harness.get_by_label("File").click();
    app.harness.run_steps(2);
    app.click("Unfinished imports…");
    app.wait_for_label("Resume");
    app.click("Resume");
    app.wait_for_step("Results");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Created (2)").is_some());
    assert_eq!(sandbox.customers("AG-SANDBOX").len(), 2);
}

/// Starts the app on a test sandbox (a custom address) with an unfinished
/// run of two rows to it recorded in the journal.
fn app_with_unfinished_run() -> (RunningSandbox, TestApp) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let sandbox =
        Sandbox::start_on(runtime.handle(), SandboxConfig::default()).expect("test sandbox");
    let environment = Environment::Custom(sandbox.base_url());
    let home = tempfile::tempdir().expect("temporary home folder");
    let paths = AppPaths::under(home.path().to_path_buf());
    record_unfinished_run(&paths, &environment, &sandbox.base_url());

    let settings = Settings {
        environment,
        welcome_dismissed: true,
        ..Settings::default()
    };
    let app = TestApp::start_in(settings, None, home, runtime);
    (sandbox, app)
}

/// Records in the journal a run of two rows that was never sent, as one
/// interrupted before its first request leaves it.
fn record_unfinished_run(paths: &AppPaths, environment: &Environment, base_url: &str) {
    let mut journal = Journal::open(&paths.journal_file()).expect("journal");
    let info = RunInfo {
        id: "00000000-0000-4000-8000-000000000001".to_owned(),
        started_at: jiff::Timestamp::now(),
        finished_at: None,
        file_path: PathBuf::from("/nowhere/resume-me.csv"),
        sheet: None,
        fingerprint: "0".repeat(64),
        headers: vec!["Email".to_owned()],
        mapping: Mapping {
            targets: vec![Target::Email],
        },
        check_options: CheckOptions::default(),
        options: RunOptions::default(),
        environment: environment.clone(),
        base_url: base_url.to_owned(),
        location: "AG-SANDBOX".to_owned(),
        locations: vec!["AG-SANDBOX".to_owned()],
        batch_tag: None,
        undo_started_at: None,
        undo_finished_at: None,
    };
    let rows: Vec<NewRow> = ["kim@example.com", "lou@example.com"]
        .into_iter()
        .enumerate()
        .map(|(index, email)| NewRow {
            row: index as u32 + 2,
            location: "AG-SANDBOX".to_owned(),
            customer: Customer {
                email_addresses: vec![email.into()],
                permission_to_contact: Some(false),
                ..Customer::default()
            },
            cells: vec![email.to_owned()],
            state: RowState::Pending,
        })
        .collect();
    journal.create_run(&info, &rows).expect("record the run");
}

#[test]
fn saved_preset_proposed_for_same_headers() {
    let file = sample("cases/leading-zeros.csv");
    let mut app = TestApp::returning(Settings::default(), Some(file.clone()));
    app.wait_for_step("Map");
    app.wait_until_idle();
    let name_field = app.harness.get_by_role(egui::accesskit::Role::TextInput);
    name_field.focus();
    name_field.type_text("Phone export");
    app.harness.run_steps(1);
    app.click("Save preset");
    app.wait_for_text("Saved the preset \"Phone export\".");
    app.wait_until_idle();

    app.drop_file(file);
    app.wait_for_text("The saved preset \"Phone export\" matches 100% of these columns.");
    app.click("Apply preset");
    app.wait_for_text("Applied the preset \"Phone export\".");
}

/// Writes a CSV of `(given name, email)` rows into the app's folder.
fn write_people(app: &TestApp, name: &str, people: &[(&str, &str)]) -> PathBuf {
    let mut text = String::from("First Name,Email\n");
    for (given_name, email) in people {
        text.push_str(&format!("{given_name},{email}\n"));
    }
    let path = app.home.path().join(name);
    std::fs::write(&path, text).expect("write the spreadsheet");
    path
}

/// Takes a dropped file through mapping and preview to the upload step.
fn open_to_upload(app: &mut TestApp, path: PathBuf, ready: &str) {
    app.drop_file(path);
    app.wait_for_step("Map");
    app.wait_until_idle();
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    app.click(&format!("Continue with {ready}"));
    app.wait_for_step("Upload");
}

#[test]
fn foreseen_conflict_is_skipped_before_sending() {
    let mut app = TestApp::returning(Settings::default(), None);
    app.wait_for_text("The sandbox is running on this computer");
    app.wait_until_idle();
    app.click("Continue");
    app.wait_for_step("Open");

    let first = write_people(&app, "first.csv", &[("Ana", "ana@example.com")]);
    open_to_upload(&mut app, first, "1 ready row");
    app.click("Send 1 customer");
    app.wait_for_step("Results");
    app.wait_for_label("Created (1)");
    app.wait_until_idle();

    // The second file repeats Ana, who is now on file, and adds Bo.
    app.click("Import another file");
    app.wait_for_step("Open");
    let second = write_people(
        &app,
        "second.csv",
        &[("Ana", "ana@example.com"), ("Bo", "bo@example.com")],
    );
    open_to_upload(&mut app, second, "2 ready rows");
    app.click("Look for existing customers first");
    app.wait_for_text("1 row is already on file");
    app.wait_until_idle();
    app.harness.snapshot("foreseen");

    // Skip is the default choice, so only Bo is sent.
    app.click("Send 1 customer");
    app.wait_for_step("Results");
    app.wait_for_label("Created (1)");
    app.wait_until_idle();
    assert!(app.harness.query_by_label_contains("Skipped (1)").is_some());
    assert!(app.harness.query_by_label("Conflicts (0)").is_some());
}

#[test]
fn upload_pauses_and_resumes() {
    let settings = Settings {
        max_concurrency: 1,
        ..Settings::default()
    };
    let mut app = TestApp::returning(settings, None);
    let sandbox = Sandbox::start_on(
        app.runtime.handle(),
        SandboxConfig {
            faults: customer_importer::sandbox::FaultConfig {
                latency: Duration::from_millis(50),
                ..Default::default()
            },
            ..SandboxConfig::default()
        },
    )
    .expect("test sandbox");
    app.wait_until_idle();
    app.use_custom_address(&sandbox.base_url());
    app.type_token("any-token-0123456789");
    app.click("Continue");
    app.wait_for_step("Open");
    open_to_upload(
        &mut app,
        sample("fixtures/shopify-customers.csv"),
        "67 ready rows",
    );
    app.click("Send 67 customers");
    app.wait_for_label("Pause");
    app.step_until("a few rows sent", |harness| {
        harness.query_by_label_contains("rows per second").is_some()
    });

    app.click("Pause");
    app.wait_for_label("Resume");
    let paused_at = sandbox.customers("AG-SANDBOX").len();
    assert!(paused_at < 67, "{paused_at} rows sent before the pause");
    app.click("Resume");
    app.wait_for_step("Results");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Created (67)").is_some());
    assert_eq!(sandbox.customers("AG-SANDBOX").len(), 67);
}

#[test]
fn remembered_key_loads_after_switching_back() {
    let mut app = TestApp::returning(Settings::default(), None);
    let private_key =
        std::fs::read_to_string(sample("keys/throwaway-rsa-private-pkcs1.pem")).expect("test key");
    let key_file = app.home.path().join("demo-key.json");
    let token_uri = "http://127.0.0.1:9/oauth2/token";
    let key = serde_json::json!({
        "type": "service_account",
        "private_key_id": "remembered-key",
        "private_key": private_key,
        "token_uri": token_uri,
        "assertionPayloadData": {
            "aud": token_uri,
            "iss": "importer@example.test",
            "sub": "importer@example.test",
        },
    });
    std::fs::write(&key_file, key.to_string()).expect("write the key file");
    app.wait_until_idle();
    app.click("Demo");
    app.wait_until_idle();
    app.click("Service-account key file");
    app.wait_for_label("Choose key file…");
    app.drop_file(key_file);
    app.wait_for_text("demo-key.json");
    app.click("Remember on this computer");
    app.wait_until_idle();

    // The key is read back from the keychain, not from its file, which
    // is gone.
    std::fs::remove_file(app.home.path().join("demo-key.json")).expect("remove the key file");
    app.click("Sandbox (built in, safe to practise on: nothing leaves this computer)");
    app.wait_for_text("The sandbox is running");
    app.click("Demo");
    app.wait_for_text("the key saved on this computer");
    app.wait_until_idle();
    let forget = app.harness.get_by_label("Forget saved key");
    assert!(!forget.accesskit_node().is_disabled(), "a key is saved");
}

#[test]
fn unfinished_run_can_be_discarded() {
    let (sandbox, mut app) = app_with_unfinished_run();
    app.wait_for_text("resume-me.csv");
    app.click("Discard");
    app.wait_for_text("The import is no longer offered");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Unfinished imports").is_none());

    // A request from the menu now gets a notice that there is none.
    app.harness.get_by_label("File").click();
    app.harness.run_steps(2);
    app.click("Unfinished imports…");
    app.wait_for_text("There are no unfinished imports.");
    assert!(sandbox.customers("AG-SANDBOX").is_empty());
}

#[test]
fn sandbox_run_resumes_after_restart() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let home = tempfile::tempdir().expect("temporary home folder");
    let paths = AppPaths::under(home.path().to_path_buf());
    // Recorded on a sandbox of an earlier start, whose port is gone.
    record_unfinished_run(&paths, &Environment::Sandbox, "http://127.0.0.1:9/business");
    let settings = Settings {
        welcome_dismissed: true,
        ..Settings::default()
    };
    let mut app = TestApp::start_in(settings, None, home, runtime);
    app.wait_for_text("resume-me.csv");
    app.step_until("the sandbox to start", |harness| {
        harness
            .query_by_label_contains("The sandbox is running")
            .is_some()
    });
    app.click("Resume");
    app.wait_for_step("Results");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Created (2)").is_some());
}

#[test]
fn past_import_results_reopen() {
    let mut app = TestApp::returning(Settings::default(), None);
    app.wait_for_text("The sandbox is running on this computer");
    app.wait_until_idle();
    app.harness.get_by_label("File").click();
    app.harness.run_steps(2);
    app.click("Past imports…");
    app.wait_for_text("No import has been made on this computer yet.");

    app.click("Continue");
    app.wait_for_step("Open");
    let file = write_people(&app, "past.csv", &[("Ana", "ana@example.com")]);
    open_to_upload(&mut app, file, "1 ready row");
    app.click("Send 1 customer");
    app.wait_for_step("Results");
    app.wait_for_label("Created (1)");
    app.wait_until_idle();
    app.click("Import another file");
    app.wait_for_step("Open");

    app.harness.get_by_label("File").click();
    app.harness.run_steps(2);
    app.click("Past imports…");
    app.wait_for_label("Past imports");
    app.wait_for_text("past.csv");
    app.click("Show results");
    app.wait_for_step("Results");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("Created (1)").is_some());
    let undo = app.harness.get_by_label("Undo this import…");
    assert!(
        !undo.accesskit_node().is_disabled(),
        "the import can be undone"
    );
}

#[test]
fn huge_cell_is_shown_short() {
    let mut app = TestApp::returning(Settings::default(), None);
    let path = app.home.path().join("huge.csv");
    let huge = "a".repeat(3_000_000);
    std::fs::write(
        &path,
        format!("First Name,Email\nAnn,{huge}\nBo,bo@example.com\n"),
    )
    .expect("write the spreadsheet");
    app.wait_until_idle();
    app.drop_file(path);
    app.wait_for_step("Map");
    app.wait_until_idle();
    app.click("Continue to preview");
    app.wait_for_step("Preview");
    app.wait_until_idle();
    assert!(app.harness.query_by_label("1 invalid").is_some());

    let first_fix = app
        .harness
        .get_all_by_label("Fix…")
        .next()
        .expect("a Fix button");
    first_fix.click();
    app.harness.run_steps(2);
    app.wait_for_text("Too long to edit here");
}
