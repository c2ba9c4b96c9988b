//! `customer-importer sandbox`: runs the sandbox server in the foreground.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

pub fn run(args: SandboxArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let _ = (args, runtime);
    ExitCode::FAILURE
}
