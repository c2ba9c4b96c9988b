//! The command line: `check`, `import` and `sandbox`. With no subcommand
//! the binary opens the GUI instead (see `main.rs`).

mod check;
mod import;
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

    /// Folder for the created, conflict, failed and skipped CSV reports.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Continues the unfinished run of this file and location instead of starting anew.
    #[arg(long)]
    pub resume: bool,
}

/// Runs a subcommand on the given runtime and returns the process exit code.
pub fn run(command: Command, runtime: &tokio::runtime::Runtime) -> ExitCode {
    match command {
        Command::Check(args) => check::run(args),
        Command::Import(args) => import::run(args, runtime),
        Command::Sandbox(args) => sandbox::run(args, runtime),
    }
}
