//! Entry point: parses the command line, sets up logging and the one tokio
//! runtime, then opens the GUI or runs a subcommand.

// No console window opens behind the app on Windows.
// NOTE: a Windows console then shows none of the command line's output,
// but output redirected to a file or pipe still arrives.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser as _;
use customer_importer::cli::{self, Cli};
use customer_importer::paths::AppPaths;
use customer_importer::{gui, logging};

fn main() -> ExitCode {
    let args = Cli::parse();
    let paths = AppPaths::from_env();

    // Only the GUI writes a log file: the command line reports on stderr.
    let log_dir = match (&args.command, &paths) {
        (None, Some(paths)) => std::fs::create_dir_all(&paths.log_dir)
            .ok()
            .map(|()| paths.log_dir.as_path()),
        _ => None,
    };
    let _log_guard = logging::init(log_dir);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("importer-worker")
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("failed to start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };

    let code = match args.command {
        Some(command) => cli::run(command, &runtime),
        None => match gui::run(runtime.handle().clone(), paths, args.file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!("the window could not be opened: {err}");
                ExitCode::FAILURE
            }
        },
    };
    // Background tasks (the in-app sandbox, uploads already finished) must
    // not keep the process alive after the window closes.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    code
}
