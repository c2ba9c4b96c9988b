//! `customer-importer sandbox`: runs the sandbox server in the foreground
//! until Ctrl-C, logging each request (method, path, status).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::sandbox::{ConflictStyle, FailRule, FaultConfig, Sandbox, SandboxConfig};
use crate::secret::Secret;

/// The form of `409` bodies, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConflictStyleArg {
    /// The guide's form: `details` and `conflictingCustomerId` with a full id.
    Guide,
    /// The OpenAPI form: `detail`, `code` and `conflictingCustomerID` with a bare id.
    Openapi,
    /// Either form at random per conflict.
    Mixed,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Token to accept (repeatable). Without any, every non-empty token is accepted.
    #[arg(long = "token", value_name = "T")]
    pub tokens: Vec<String>,

    /// Token that is known but lacks the customers scope, so it gets 403 (repeatable).
    #[arg(long = "token-without-scope", value_name = "T")]
    pub tokens_without_scope: Vec<String>,

    /// Seconds a token stays valid after its first use; then it gets 401.
    #[arg(long, value_name = "N")]
    pub token_ttl_secs: Option<u64>,

    /// Business location id that exists (repeatable; default AG-SANDBOX). Others get 404.
    #[arg(long = "location", value_name = "AG-...")]
    pub locations: Vec<String>,

    /// Form of the body of a 409 conflict.
    #[arg(long, value_enum, default_value = "mixed")]
    pub conflict_style: ConflictStyleArg,

    /// Milliseconds to wait before handling each customers request.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,

    /// Responds to this share of requests with this status, such as 500=0.05 (repeatable).
    #[arg(long = "fail", value_name = "STATUS=FRACTION")]
    pub fail: Vec<FailRule>,

    /// Share of requests whose connection closes without a response before anything is stored.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub drop_before_commit: f64,

    /// Share of requests whose connection closes without a response after the customer is stored.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub drop_after_commit: f64,

    /// Share of requests left unanswered until the client times out.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub stall: f64,

    /// Seconds a stalled request waits before its connection closes.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub stall_secs: u64,

    /// Customers requests per second served; more get 429 with Retry-After.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,

    /// Applies --fail, --drop-* and --stall to every operation, not only to creates.
    #[arg(long)]
    pub faults_on_all_operations: bool,

    /// Applies --fail, --drop-* and --stall to updates (PATCH) as well as creates.
    #[arg(long)]
    pub faults_on_updates: bool,

    /// Seed of the random choices (faults, conflict forms, ids), to repeat a run.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// PEM file of the RSA public key with which POST /oauth2/token verifies assertions.
    #[arg(long, value_name = "FILE")]
    pub assertion_public_key: Option<PathBuf>,

    /// The aud an assertion must name (default: the sandbox's token URL).
    #[arg(long, value_name = "AUD", requires = "assertion_public_key")]
    pub assertion_audience: Option<String>,

    /// JSON file that keeps the customers across restarts (read at start, written after changes).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
}

/// Runs the sandbox until Ctrl-C. Returns failure when the settings are
/// invalid or the port cannot be bound.
pub fn run(args: SandboxArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let config = match config_from_args(args) {
        Ok(config) => config,
        Err(message) => {
            writeln!(std::io::stderr().lock(), "error: {message}").ok();
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve_until_interrupted(config))
}

async fn serve_until_interrupted(config: SandboxConfig) -> ExitCode {
    let accepts_any_token = config.tokens.is_empty();
    let keeping = match &config.state_file {
        Some(path) => format!(
            "Customers are kept in {} and come back when the sandbox starts again.",
            path.display()
        ),
        None => "Everything is kept in memory and lost when the sandbox stops.".to_owned(),
    };
    let sandbox = match Sandbox::start(config) {
        Ok(sandbox) => sandbox,
        Err(err) => {
            writeln!(std::io::stderr().lock(), "error: {}", err.user_message()).ok();
            return ExitCode::FAILURE;
        }
    };
    let token_rule = if accepts_any_token {
        "any non-empty token is accepted"
    } else {
        "only the --token values are accepted"
    };
    writeln!(
        std::io::stdout().lock(),
        "Sandbox running at {} with location {}; {token_rule}.\n\
         Service-account token endpoint: {}\n\
         {keeping} Press Ctrl-C to stop.",
        sandbox.base_url(),
        sandbox.locations().join(", "),
        sandbox.token_url()
    )
    .ok();
    if let Err(err) = tokio::signal::ctrl_c().await {
        writeln!(
            std::io::stderr().lock(),
            "error: the sandbox cannot listen for Ctrl-C ({err}), so it stops now."
        )
        .ok();
    }
    sandbox.stop().await;
    tracing::info!("sandbox stopped");
    ExitCode::SUCCESS
}

/// Turns the arguments into a sandbox configuration; the error is a
/// message for the user.
fn config_from_args(args: SandboxArgs) -> Result<SandboxConfig, String> {
    let assertion_public_key_pem =
        match &args.assertion_public_key {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|err| {
                format!("cannot read the public key file {}: {err}", path.display())
            })?),
            None => None,
        };
    let faults = FaultConfig {
        latency: Duration::from_millis(args.latency_ms),
        fail: args.fail,
        drop_before_commit: args.drop_before_commit,
        drop_after_commit: args.drop_after_commit,
        stall: args.stall,
        stall_duration: Duration::from_secs(args.stall_secs),
        rate_limit: args.rate_limit,
        all_operations: args.faults_on_all_operations,
        include_updates: args.faults_on_updates,
    };
    faults.validate()?;
    Ok(SandboxConfig {
        port: args.port,
        tokens: args.tokens.into_iter().map(Secret::new).collect(),
        tokens_without_scope: args
            .tokens_without_scope
            .into_iter()
            .map(Secret::new)
            .collect(),
        token_ttl: args.token_ttl_secs.map(Duration::from_secs),
        locations: args.locations,
        conflict_style: match args.conflict_style {
            ConflictStyleArg::Guide => ConflictStyle::Guide,
            ConflictStyleArg::Openapi => ConflictStyle::OpenApi,
            ConflictStyleArg::Mixed => ConflictStyle::Mixed,
        },
        faults,
        seed: args.seed,
        assertion_public_key_pem,
        assertion_audience: args.assertion_audience,
        log_requests: true,
        state_file: args.state_file,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<SandboxArgs, clap::Error> {
        let mut argv = vec!["customer-importer", "sandbox"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Sandbox(args)) => Ok(args),
            other => panic!("expected the sandbox command, got {other:?}"),
        }
    }

    #[test]
    fn fault_flags_become_config() {
        let args = parse(&[
            "--port",
            "0",
            "--token",
            "a",
            "--token",
            "b",
            "--token-ttl-secs",
            "30",
            "--fail",
            "500=0.05",
            "--fail",
            "429=0.02",
            "--drop-after-commit",
            "0.01",
            "--stall",
            "0.01",
            "--rate-limit",
            "50",
            "--seed",
            "7",
            "--conflict-style",
            "guide",
        ])
        .expect("valid flags");
        let config = config_from_args(args).expect("valid config");
        assert_eq!(config.tokens.len(), 2);
        assert_eq!(config.token_ttl, Some(Duration::from_secs(30)));
        assert_eq!(config.faults.fail.len(), 2);
        assert_eq!(config.faults.fail[1].status, 429);
        assert_eq!(config.faults.rate_limit, Some(50));
        assert_eq!(config.seed, Some(7));
        assert_eq!(config.conflict_style, ConflictStyle::Guide);
        assert!(config.log_requests);
    }

    #[test]
    fn bad_fault_values_rejected() {
        assert!(parse(&["--fail", "500"]).is_err());
        let too_much = parse(&["--drop-after-commit", "0.7", "--stall", "0.7"]).expect("parsed");
        let error = config_from_args(too_much).expect_err("fractions above 1");
        assert!(error.contains("more than 1"), "{error}");
    }
}
