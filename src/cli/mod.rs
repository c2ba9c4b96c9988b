//! The command line: `check`, `import` and `sandbox`. With no subcommand
//! the binary opens the GUI instead (see `main.rs`).

mod check;
mod import;
mod mapping;
mod sandbox;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Moves a customer list from a spreadsheet into Vendasta's Business App.
///
/// With no command, opens the app window (and FILE in it, when given).
#[derive(Debug, Parser)]
#[command(name = "customer-importer", version = crate::VERSION, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Spreadsheet to open in the app window.
    pub file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reads a spreadsheet and reports every row as it would be sent, without sending anything.
    Check(CheckArgs),
    /// Uploads the ready rows of a spreadsheet to a business location.
    Import(ImportArgs),
    /// Runs the sandbox: a local server that behaves like the customers API.
    Sandbox(sandbox::SandboxArgs),
}

/// How a spreadsheet is read and mapped; shared by `check` and `import`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The spreadsheet: CSV or other delimited text, XLSX, XLS or ODS.
    pub file: PathBuf,

    /// Sheet of a workbook to read (default: the one that looks like a customer list).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,

    /// Saved mapping preset to apply, by name.
    #[arg(long, value_name = "NAME", conflicts_with = "mapping")]
    pub preset: Option<String>,

    /// How to map columns when no preset is named: `auto` guesses from the headers.
    #[arg(long, value_name = "MODE", default_value = "auto")]
    pub mapping: String,

    /// Country (ISO 3166-1 alpha-2, such as US) for rows that name none.
    #[arg(long, value_name = "CC")]
    pub default_country: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub read: ReadArgs,

    /// Writes one JSON line per data row to this file (`-` for stdout).
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub read: ReadArgs,

    /// Business location id the customers belong to, such as AG-1234ABCD.
    #[arg(long, value_name = "AG-...")]
    pub location: String,

    /// Where to send: sandbox, demo, prod, or a base URL such as http://127.0.0.1:8080/business.
    #[arg(long, value_name = "ENV", default_value = "sandbox")]
    pub env: String,

    /// Folder for the created, conflict, failed and skipped CSV reports (default: the folder of FILE).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Continues the unfinished run of this file and location instead of starting anew.
    #[arg(long)]
    pub resume: bool,

    /// Marks the unfinished run of this file and location as abandoned, then starts a new run.
    #[arg(long, conflicts_with_all = ["resume", "undo"])]
    pub discard_unfinished: bool,

    /// Requests sent at once at most; fewer while the server is busy.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_concurrency: u16,

    /// Seconds to wait for each response before the request is retried.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout_secs: u64,

    /// Does not add the tag "Imported YYYY-MM-DD" to the customers created.
    #[arg(long)]
    pub no_batch_tag: bool,

    /// Lists the location's existing customers first and does not send rows whose email or phone is already on file.
    #[arg(long)]
    pub check_existing: bool,

    /// Action for rows whose email or phone is already on file (default: list them as conflicts).
    #[arg(long, value_name = "ACTION")]
    pub on_conflict: Option<ConflictAction>,

    /// Undoes run RUN_ID of FILE: deletes the customers it created and restores those it merged into.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["resume", "check_existing", "on_conflict"])]
    pub undo: Option<String>,
}

/// The `--on-conflict` choices of `import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConflictAction {
    /// Leave the existing customer alone and mark the row skipped.
    Skip,
    /// Add the row's new emails, phones and tags to the existing customer and fill its empty fields.
    Merge,
}

/// Runs a subcommand on the given runtime and returns the process exit code.
pub fn run(command: Command, runtime: &tokio::runtime::Runtime) -> ExitCode {
    match command {
        Command::Check(args) => check::run(args),
        Command::Import(args) => import::run(args, runtime),
        Command::Sandbox(args) => sandbox::run(args, runtime),
    }
}
