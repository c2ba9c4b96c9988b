//! The desktop app (eframe/egui), on top of the core modules.

use std::path::PathBuf;

use crate::paths::AppPaths;

/// Opens the app window and runs until it closes. `file`, when given, is
/// opened at once (a file passed by the desktop's "Open with").
pub fn run(
    runtime: tokio::runtime::Handle,
    paths: Option<AppPaths>,
    file: Option<PathBuf>,
) -> eframe::Result {
    let _ = (runtime, paths, file);
    Ok(())
}
