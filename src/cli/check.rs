//! `customer-importer check`: reads, maps and validates a file offline.

use std::process::ExitCode;

use super::CheckArgs;

pub fn run(args: CheckArgs) -> ExitCode {
    let _ = args;
    ExitCode::FAILURE
}
