//! One `tracing` setup for the GUI and the command line.
//!
//! Level rules: `error` when data was lost or an action failed, `warn` when
//! the importer recovered or fell back, `info` for rare events worth telling
//! the user, `debug` for high-level steps, `trace` for anything per frame.
//! Logs name rows by number and customers by id, and never hold tokens,
//! key files or customer details.
//!
//! Log lines are for developers, and the command line prints what a user
//! must know as plain sentences of its own. So unless `RUST_LOG` requests
//! more, stderr shows only errors and the sandbox's request log, which is
//! the output of `customer-importer sandbox`.

use std::io::IsTerminal as _;
use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Number of daily log files kept before the oldest is deleted.
const MAX_LOG_FILES: usize = 7;

/// Levels of the log file when `RUST_LOG` is unset or invalid.
const DEFAULT_FILE_LEVELS: &str = "info,wgpu=warn,naga=warn,eframe=warn,zbus=warn";

/// Levels of stderr when `RUST_LOG` is unset or invalid.
const DEFAULT_STDERR_LEVELS: &str = "error,customer_importer::sandbox=info";

/// Starts logging to stderr and, when `log_dir` is given, to a daily file
/// in it. The returned guard flushes the file when dropped, so `main`
/// keeps it alive. `RUST_LOG` sets the levels of both. Without it the file
/// gets `info`, and stderr only errors and sandbox requests. Colours are
/// used only when stderr is a terminal and `NO_COLOR` is unset.
pub fn init(log_dir: Option<&Path>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = |default: &str| {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
    };
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr)
        .with_filter(filter(DEFAULT_STDERR_LEVELS));

    let file_appender = log_dir.and_then(|dir| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("customer-importer")
            .filename_suffix("log")
            .max_log_files(MAX_LOG_FILES)
            .build(dir)
            .ok()
    });
    let (file_layer, guard) = match file_appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter(DEFAULT_FILE_LEVELS));
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };

    tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init()
        .ok();
    guard
}
