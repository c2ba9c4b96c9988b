//! `customer-importer import`: uploads a file's ready rows.

use std::process::ExitCode;

use super::ImportArgs;

pub fn run(args: ImportArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let _ = (args, runtime);
    ExitCode::FAILURE
}
