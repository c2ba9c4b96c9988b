//! The desktop app (eframe/egui), on top of the core modules.
//!
//! Layout of this module:
//! - `app.rs`: the [`ImporterApp`] struct and its `eframe::App` impl;
//! - `logic.rs`: per-frame work (draining task events, applying them);
//! - `layout.rs`: the menu, step header, status bar and screen switch;
//! - `actions.rs`: the [`Action`](actions::Action) intents screens return,
//!   and running them;
//! - `tasks.rs`: background tasks on the tokio runtime and their events;
//! - `backend.rs`: small adapters over the core modules;
//! - one file per screen or modal (`connect.rs`, `open.rs`, `mapping.rs`,
//!   `preview.rs`, `upload.rs`, `results.rs`, and the modals `fix_row.rs`,
//!   `run_modals.rs`, `welcome.rs`, `about.rs`);
//! - `run.rs`: the state of an upload run.

mod about;
mod actions;
mod app;
mod backend;
mod connect;
mod countries;
mod fix_row;
mod footer;
mod layout;
mod logic;
mod mapping;
mod open;
mod presets;
mod preview;
mod reset_sandbox;
mod results;
mod run;
mod run_modals;
mod state;
mod tasks;
mod theme;
mod upload;
mod welcome;
mod widgets;

use std::path::PathBuf;

pub use app::{AppOptions, ImporterApp};
pub use backend::TokenStore;

use crate::paths::AppPaths;

/// Window size the screens are laid out for; the window can be resized.
pub const DEFAULT_WINDOW_SIZE: [f32; 2] = [1100.0, 760.0];

/// Smallest window size; every screen stays usable down to it.
pub const MIN_WINDOW_SIZE: [f32; 2] = [760.0, 540.0];

/// Name of the product in the window title and everywhere in the UI.
pub const PRODUCT_NAME: &str = "Customer Importer";

/// The eframe app id. On Linux it becomes the window's `WM_CLASS` and
/// Wayland app id, which the `.desktop` entry's `StartupWMClass` matches.
pub const APP_ID: &str = "customer-importer";

/// The window icon, the same picture as the installed icons.
const ICON_PNG: &[u8] = include_bytes!("../../assets/icons/256x256.png");

/// Opens the app window and runs until it closes. `file`, when given, is
/// opened at once (a file passed by the desktop's "Open with").
///
/// Fails only when no window can be created (no display, no graphics
/// driver); every other problem is shown inside the window.
pub fn run(
    runtime: tokio::runtime::Handle,
    paths: Option<AppPaths>,
    file: Option<PathBuf>,
) -> eframe::Result {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(PRODUCT_NAME)
        .with_app_id(APP_ID)
        .with_inner_size(DEFAULT_WINDOW_SIZE)
        .with_min_inner_size(MIN_WINDOW_SIZE)
        .with_drag_and_drop(true);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        // The desktop then shows its default icon; nothing else changes.
        Err(err) => tracing::warn!("failed to decode the window icon: {err}"),
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let app_options = AppOptions::load(paths, file);
    eframe::run_native(
        APP_ID,
        options,
        Box::new(move |cc| {
            Ok(Box::new(ImporterApp::new(
                &cc.egui_ctx,
                runtime,
                app_options,
            )))
        }),
    )
}
