//! The sandbox: an HTTP server on 127.0.0.1 that behaves like the customers
//! API, for tests, for the app's Sandbox environment and for
//! `customer-importer sandbox`.
//!
//! It keeps its customers in memory, and also in a JSON state file when
//! [`SandboxConfig::state_file`] names one, so that the in-app sandbox keeps
//! them across restarts of the app. It checks bearer tokens, stores customers per business location, returns
//! conflicts in either documented form, pages lists, and can misbehave on
//! request (latency, error statuses, dropped connections, stalls, a rate
//! limit) to exercise the client and the upload runner. It also issues
//! tokens for service-account assertions at `POST /oauth2/token`.
//!
//! Decisions where the API documents say nothing:
//! - A business location outside [`SandboxConfig::locations`] gets `404`, so a connection check can report an unknown location.
//! - Faults apply to creates only, to updates as well with
//!   [`FaultConfig::include_updates`], and to every operation with
//!   [`FaultConfig::all_operations`]; latency and the rate limit apply to
//!   every customers request.
//! - Lists support `sort=-createdAt` (the default) and `sort=createdAt`
//!   only; other sort values get `400`. Pages hold at most
//!   100 customers.
//! - Phone numbers must be E.164 and emails must contain `@`, else `422`.

mod customers;
mod documents;
mod faults;
mod oauth;
mod routes;
mod server;
mod state;
mod store;
mod tokens;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::CustomerRecord;
use crate::customer::Customer;
use crate::secret::Secret;

pub use faults::{FailRule, FaultConfig};
pub use state::WRITE_DELAY as STATE_WRITE_DELAY;
pub use store::SeedError;

use self::state::{ChangeSignal, StateWriter};
use self::store::Store;

/// Business location the sandbox serves when none is configured.
pub const DEFAULT_LOCATION: &str = "AG-SANDBOX";

/// Path of the customers API under the server root, as in the real base URL.
const API_PREFIX: &str = "/business";

/// The documented form of a `409` body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConflictStyle {
    /// The guide's form: `details`, `conflictingCustomerId` with a full
    /// `AG-...:CUSTOMER-...` id, no `code`.
    Guide,
    /// The OpenAPI form: `detail`, `code: ResourceAlreadyExists`,
    /// `conflictingCustomerID` with a bare `CUSTOMER-...` id.
    OpenApi,
    /// Either form, chosen at random per conflict (reproducible with
    /// [`SandboxConfig::seed`]).
    #[default]
    Mixed,
}

/// Settings of a sandbox. The default serves [`DEFAULT_LOCATION`] on a free
/// port, accepts any non-empty token and injects no faults.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// TCP port on 127.0.0.1; `0` picks a free one.
    pub port: u16,
    /// Tokens accepted. When empty, any non-empty token is accepted, which
    /// is what the in-app sandbox uses.
    pub tokens: Vec<Secret>,
    /// Tokens that are recognised but lack the `customers` scope: every
    /// customers request with one of them gets `403`.
    pub tokens_without_scope: Vec<Secret>,
    /// Lifetime of each token from its first use; after it, the token gets
    /// `401`. `None` means tokens never expire.
    pub token_ttl: Option<Duration>,
    /// Business locations that exist. An empty list means
    /// [`DEFAULT_LOCATION`] only.
    pub locations: Vec<String>,
    pub conflict_style: ConflictStyle,
    pub faults: FaultConfig,
    /// Seed of the random choices (faults, conflict forms, ids), so that a
    /// run can be repeated. `None` seeds from the operating system.
    pub seed: Option<u64>,
    /// PEM of the RSA public key that signs service-account assertions.
    /// When set, `POST /oauth2/token` verifies the signature, `aud` and
    /// `exp`; when `None`, it only checks that the assertion is a
    /// well-formed RS256 JWT.
    pub assertion_public_key_pem: Option<String>,
    /// The `aud` an assertion must name when a public key is set. `None`
    /// means the sandbox's own token URL.
    pub assertion_audience: Option<String>,
    /// Logs every request at `info` level (method, path, status) instead of
    /// `debug`; the command line turns it on.
    pub log_requests: bool,
    /// JSON file that keeps the customers across restarts, such as
    /// `AppPaths::sandbox_file()`: read at start when it exists, written
    /// again within [`STATE_WRITE_DELAY`] of each change. `None` keeps
    /// everything in memory only. The file never contains a token.
    pub state_file: Option<PathBuf>,
}

/// A failure to start a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox must be started inside a tokio runtime")]
    NoRuntime,
    #[error("invalid sandbox setting: {0}")]
    InvalidConfig(String),
    #[error("failed to listen on 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to use the sandbox state file {path}")]
    StateFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SandboxError {
    /// Returns a sentence for the user that says what to do next.
    pub fn user_message(&self) -> String {
        match self {
            Self::NoRuntime => {
                "The sandbox could not start because the app is shutting down.".to_owned()
            }
            Self::InvalidConfig(reason) => {
                format!(
                    "The sandbox settings are not valid: {reason}. Correct them and start it again."
                )
            }
            Self::Bind { port, source } => format!(
                "The sandbox could not listen on port {port} ({source}). Another program may \
                 be using it: choose another port, or 0 to pick a free one."
            ),
            Self::StateFile { path, source } => format!(
                "The sandbox could not use its saved customers in {path} ({source}). Check that \
                 the folder is writable, or move the file away to start with no customers."
            ),
        }
    }
}

/// Request counts of a running sandbox, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxStats {
    /// Customers requests received, whatever their outcome.
    pub requests: u64,
    /// Customers created (`201`).
    pub created: u64,
    /// Customers updated (`200` to a `PATCH`).
    pub updated: u64,
    /// Customers deleted (`204`).
    pub deleted: u64,
    /// `409` responses.
    pub conflicts: u64,
    /// `401` responses.
    pub unauthorized: u64,
    /// `403` responses.
    pub forbidden: u64,
    /// `404` responses.
    pub not_found: u64,
    /// `422` responses.
    pub unprocessable: u64,
    /// `429` responses from the rate limit.
    pub rate_limited: u64,
    /// Error statuses injected by [`FaultConfig::fail`].
    pub injected_failures: u64,
    /// Connections closed without a response before the operation ran.
    pub dropped_before_commit: u64,
    /// Connections closed without a response after the operation ran.
    pub dropped_after_commit: u64,
    /// Requests left without a response until the client gave up.
    pub stalled: u64,
    /// Tokens issued by `POST /oauth2/token`.
    pub tokens_issued: u64,
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Starts a sandbox on the tokio runtime of the calling context.
    ///
    /// Fails when called outside a runtime, when the configuration is
    /// invalid, or when the port cannot be bound.
    pub fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
        let handle = Handle::try_current().map_err(|_| SandboxError::NoRuntime)?;
        Self::start_on(&handle, config)
    }

    /// Starts a sandbox on the given runtime. It binds the port before
    /// returning, which takes no noticeable time, so the GUI may call it on
    /// its own thread.
    pub fn start_on(
        handle: &Handle,
        config: SandboxConfig,
    ) -> Result<RunningSandbox, SandboxError> {
        config
            .faults
            .validate()
            .map_err(SandboxError::InvalidConfig)?;
        let _runtime = handle.enter();
        let listener = server::bind(config.port).map_err(|source| SandboxError::Bind {
            port: config.port,
            source,
        })?;
        let address = listener.local_addr().map_err(|source| SandboxError::Bind {
            port: config.port,
            source,
        })?;
        let state_file = config.state_file.clone();
        let (store, signal) = open_store(&config)?;
        let state = Arc::new(routes::AppState::new(config, address, Arc::clone(&store))?);
        let state_writer = match (state_file, signal) {
            (Some(path), Some(signal)) => Some(
                StateWriter::spawn(path.clone(), store, signal).map_err(|source| {
                    SandboxError::StateFile {
                        path: path.display().to_string(),
                        source,
                    }
                })?,
            ),
            _ => None,
        };
        let router = routes::router(Arc::clone(&state));
        let (shutdown, shutdown_signal) = watch::channel(false);
        let task = handle.spawn(server::serve(listener, router, shutdown_signal));
        tracing::debug!(%address, "sandbox started");
        Ok(RunningSandbox {
            address,
            state,
            shutdown,
            task: Some(task),
            state_writer,
        })
    }
}

/// Makes the store of a sandbox, with the customers of its state file when
/// it has one, and the signal that wakes the state writer on changes.
fn open_store(
    config: &SandboxConfig,
) -> Result<(Arc<Store>, Option<Arc<ChangeSignal>>), SandboxError> {
    let locations = if config.locations.is_empty() {
        vec![DEFAULT_LOCATION.to_owned()]
    } else {
        config.locations.clone()
    };
    let mut store = Store::new(locations, config.seed);
    let Some(path) = &config.state_file else {
        return Ok((Arc::new(store), None));
    };
    if let Some(snapshot) = read_state(path)? {
        let left_out = store.restore(snapshot);
        if left_out > 0 {
            tracing::warn!(
                customers = left_out,
                "the sandbox state file has customers of locations this sandbox does not serve; \
                 they are dropped"
            );
        }
    }
    let signal = Arc::new(ChangeSignal::default());
    store.notify_changes(Arc::clone(&signal));
    Ok((Arc::new(store), Some(signal)))
}

/// Reads a state file. A file in a format this version cannot read is
/// moved aside rather than overwritten, and the sandbox starts empty. A
/// file that cannot be read at all makes the start fail.
fn read_state(path: &Path) -> Result<Option<state::Snapshot>, SandboxError> {
    let err = match state::read(path) {
        Ok(snapshot) => return Ok(snapshot),
        Err(err) => err,
    };
    let state_error = |source| SandboxError::StateFile {
        path: path.display().to_string(),
        source,
    };
    if let state::ReadError::Io { source, .. } = err {
        return Err(state_error(source));
    }
    let aside = state::move_aside(path).map_err(state_error)?;
    tracing::warn!(
        moved_to = %aside.display(),
        "{err}; the sandbox starts with no customers",
        err = error_chain(&err)
    );
    Ok(None)
}

/// Returns an error and its causes joined with `: `.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A sandbox that is serving. Dropping it stops the server without waiting;
/// [`RunningSandbox::stop`] waits until it has stopped.
pub struct RunningSandbox {
    address: SocketAddr,
    state: Arc<routes::AppState>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// Keeps the state file up to date, when the sandbox has one.
    state_writer: Option<StateWriter>,
}

impl std::fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// Returns the address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the base URL of the customers API, such as
    /// `http://127.0.0.1:8080/business`.
    pub fn base_url(&self) -> String {
        base_url(self.address)
    }

    /// Returns the URL of the service-account token endpoint, such as
    /// `http://127.0.0.1:8080/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.address)
    }

    /// Returns the first business location the sandbox serves.
    pub fn location(&self) -> &str {
        self.state.store.first_location()
    }

    /// Returns every business location the sandbox serves.
    pub fn locations(&self) -> Vec<String> {
        self.state.store.locations().to_vec()
    }

    /// Returns the customers of a location, oldest first; empty for an
    /// unknown location.
    pub fn customers(&self, location: &str) -> Vec<CustomerRecord> {
        self.state.store.customers(location)
    }

    /// Returns one customer by its full id.
    pub fn customer(&self, id: &str) -> Option<CustomerRecord> {
        self.state.store.customer(id)
    }

    /// Stores a customer as if it had been created through the API just
    /// now, and returns its id. Fails for an unknown location or when an
    /// email or phone already belongs to a customer of the location.
    pub fn seed_customer(&self, location: &str, customer: Customer) -> Result<String, SeedError> {
        self.state
            .store
            .seed(location, customer, jiff::Timestamp::now())
    }

    /// Stores a customer as [`RunningSandbox::seed_customer`] does, with
    /// `created_at` as its `createdAt`, such as a customer entered long
    /// before an import.
    pub fn seed_customer_created_at(
        &self,
        location: &str,
        customer: Customer,
        created_at: jiff::Timestamp,
    ) -> Result<String, SeedError> {
        self.state.store.seed(location, customer, created_at)
    }

    /// Deletes every customer of every location, and so empties the state
    /// file (within [`STATE_WRITE_DELAY`], or at once on
    /// [`RunningSandbox::stop`]). Tokens and request counts are kept.
    pub fn reset(&self) {
        self.state.store.clear();
        tracing::info!(address = %self.address, "sandbox reset: every customer deleted");
    }

    /// Replaces the faults for the requests that arrive from now on, so a
    /// test can misbehave at one step only. Fails when `faults` is invalid.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), SandboxError> {
        faults.validate().map_err(SandboxError::InvalidConfig)?;
        self.state.set_faults(faults);
        Ok(())
    }

    /// Accepts another token from now on, as if it had been configured.
    pub fn add_token(&self, token: Secret) {
        self.state.tokens.add(token, true);
    }

    /// Returns the request counts so far.
    pub fn stats(&self) -> SandboxStats {
        self.state.stats.snapshot()
    }

    /// Stops accepting connections, closes the open ones, waits until the
    /// server task has ended and, with a state file, until the last
    /// changes are written to it.
    pub async fn stop(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            // The task ends by itself on the signal; a join error would
            // only mean it panicked, and there is nothing left to stop.
            task.await.ok();
        }
        if let Some(writer) = self.state_writer.take() {
            // Only a panic of the blocking task fails this join, and the
            // writer thread has already written what it could by then.
            tokio::task::spawn_blocking(move || writer.finish())
                .await
                .ok();
        }
        tracing::debug!(address = %self.address, "sandbox stopped");
    }
}

impl Drop for RunningSandbox {
    /// Stops the server without waiting. A state writer, dropped with it,
    /// writes the changes not written yet on its own thread.
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

fn base_url(address: SocketAddr) -> String {
    format!("http://{address}{API_PREFIX}")
}

/// Returns the address a sandbox on `port` listens on.
fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}
