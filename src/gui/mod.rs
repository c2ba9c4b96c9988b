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
mod layout;
mod logic;
mod mapping;
mod open;
mod presets;
mod preview;
mod results;
mod run;
mod run_modals;
mod state;
mod tasks;
mod upload;
mod welcome;
mod widgets;

use std::path::PathBuf;

pub use app::{AppOptions, ImporterApp};
pub use backend::TokenStore;

use crate::paths::AppPaths;

/// Window size the screens are laid out for; the window can be resized.
pub const DEFAULT_WINDOW_SIZE: [f32; 2] = [1100.0, 760.0];

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
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Customer importer")
            .with_inner_size(DEFAULT_WINDOW_SIZE)
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let app_options = AppOptions::load(paths, file);
    eframe::run_native(
        "customer-importer",
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
