//! The sandbox's router, its shared state, the request log and counters,
//! and the steps every customers request goes through before its handler
//! runs: latency, rate limit, token check and fault draw.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use super::documents::{self, Injected};
use super::faults::{Fault, FaultConfig, Faults, Operation};
use super::server::ConnectionControl;
use super::store::Store;
use super::tokens::{TokenCheck, Tokens};
use super::{
    API_PREFIX, ConflictStyle, SandboxConfig, SandboxError, SandboxStats, customers, oauth,
};

/// Everything the handlers share.
pub(super) struct AppState {
    pub store: Arc<Store>,
    pub tokens: Tokens,
    /// Replaced whole by [`AppState::set_faults`]; read with
    /// [`AppState::faults`].
    faults: RwLock<Arc<Faults>>,
    /// Seed the fault generator starts from, also after a replacement.
    seed: Option<u64>,
    pub stats: Counters,
    pub conflict_style: ConflictStyle,
    /// `http://127.0.0.1:PORT/business`.
    pub base_url: String,
    pub assertion_key: Option<jsonwebtoken::DecodingKey>,
    /// The `aud` an assertion must name when `assertion_key` is set.
    pub assertion_audience: String,
    log_requests: bool,
}

impl AppState {
    /// Makes the state of a sandbox serving `store` on `address`.
    pub fn new(
        config: SandboxConfig,
        address: SocketAddr,
        store: Arc<Store>,
    ) -> Result<Self, SandboxError> {
        let assertion_key = config
            .assertion_public_key_pem
            .as_deref()
            .map(|pem| jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()))
            .transpose()
            .map_err(|err| {
                SandboxError::InvalidConfig(format!(
                    "the assertion public key is not an RSA PEM key: {err}"
                ))
            })?;
        Ok(Self {
            store,
            tokens: Tokens::new(
                &config.tokens,
                &config.tokens_without_scope,
                config.token_ttl,
            ),
            faults: RwLock::new(Arc::new(Faults::new(config.faults, config.seed))),
            seed: config.seed,
            stats: Counters::default(),
            conflict_style: config.conflict_style,
            base_url: super::base_url(address),
            assertion_key,
            assertion_audience: config
                .assertion_audience
                .unwrap_or_else(|| format!("http://{address}/oauth2/token")),
            log_requests: config.log_requests,
        })
    }
}

impl AppState {
    /// Returns the faults in force now.
    pub fn faults(&self) -> Arc<Faults> {
        // Replacing the value is a single assignment, so a poisoned lock
        // still holds a complete one.
        let faults = self
            .faults
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&faults)
    }

    /// Replaces the faults for the requests that arrive from now on. The
    /// random draws start again from the configured seed.
    pub fn set_faults(&self, config: FaultConfig) {
        let faults = Arc::new(Faults::new(config, self.seed));
        *self
            .faults
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = faults;
    }
}

/// Builds the router: the customers API under `/business` and the token
/// endpoint at `/oauth2/token`.
pub(super) fn router(state: Arc<AppState>) -> Router {
    let customers_path = format!("{API_PREFIX}/customers");
    let customer_path = format!("{API_PREFIX}/customers/{{id}}");
    Router::new()
        .route(
            &customers_path,
            post(customers::create).get(customers::list),
        )
        .route(
            &customer_path,
            get(customers::get_one)
                .patch(customers::update)
                .delete(customers::delete),
        )
        .route("/oauth2/token", post(oauth::issue_token))
        .fallback(|| async {
            documents::error(
                StatusCode::NOT_FOUND,
                "NotFound",
                "Not found",
                "No such endpoint",
            )
        })
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .with_state(state)
}

/// Counts and logs each request once its response is ready. Requests whose
/// connection is closed without a response are logged where that happens.
async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let is_api = path.starts_with(API_PREFIX);
    if is_api {
        Counters::add(&state.stats.requests);
    }
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if is_api {
        state.stats.record(
            &method,
            status,
            response.extensions().get::<Injected>().is_some(),
        );
    }
    let elapsed_ms = started.elapsed().as_millis();
    if state.log_requests {
        tracing::info!(%method, path, status, elapsed_ms, "sandbox request");
    } else {
        tracing::debug!(%method, path, status, elapsed_ms, "sandbox request");
    }
    response
}

/// The handler's instructions for after the operation, decided up front.
pub(super) struct Admitted {
    /// Close the connection without the response once the operation ran.
    drop_after_commit: bool,
}

/// Runs the steps before a customers handler: latency, rate limit, token
/// check and fault draw. `Err` contains the response to send instead of
/// running the handler, and for a dropped or stalled request it never
/// resolves, because the connection closes.
pub(super) async fn admit(
    state: &AppState,
    connection: &ConnectionControl,
    headers: &HeaderMap,
    operation: Operation,
) -> Result<Admitted, Response> {
    let faults = state.faults();
    let latency = faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Err(retry_after_secs) = faults.take_rate_slot() {
        return Err(documents::too_many_requests(retry_after_secs));
    }
    match state.tokens.check(headers) {
        TokenCheck::Accepted => {}
        TokenCheck::Unauthorized => return Err(documents::unauthorized()),
        TokenCheck::Forbidden => return Err(documents::forbidden()),
    }
    match faults.draw(operation) {
        None => Ok(Admitted {
            drop_after_commit: false,
        }),
        Some(Fault::DropAfterCommit) => Ok(Admitted {
            drop_after_commit: true,
        }),
        Some(Fault::Fail(status)) => Err(documents::injected_failure(status)),
        Some(Fault::DropBeforeCommit) => {
            Counters::add(&state.stats.dropped_before_commit);
            tracing::debug!("sandbox drops a request before running it");
            Err(connection.close_without_response().await)
        }
        Some(Fault::Stall) => {
            Counters::add(&state.stats.stalled);
            tracing::debug!("sandbox stalls a request");
            tokio::time::sleep(faults.stall_duration()).await;
            Err(connection.close_without_response().await)
        }
    }
}

/// Sends `response`, or closes the connection without it when the fault
/// draw asked for a drop after the operation. A dropped response is still
/// counted by its outcome (`created`, `conflicts`, ...), because the
/// operation did run.
pub(super) async fn finish(
    state: &AppState,
    connection: &ConnectionControl,
    admitted: Admitted,
    method: &Method,
    response: Response,
) -> Response {
    if !admitted.drop_after_commit {
        return response;
    }
    state
        .stats
        .record(method, response.status().as_u16(), false);
    Counters::add(&state.stats.dropped_after_commit);
    tracing::debug!(
        status = response.status().as_u16(),
        "sandbox drops a response after running the request"
    );
    connection.close_without_response().await
}

/// Request counters, read as a [`SandboxStats`] snapshot.
#[derive(Default)]
pub(super) struct Counters {
    requests: AtomicU64,
    created: AtomicU64,
    updated: AtomicU64,
    deleted: AtomicU64,
    conflicts: AtomicU64,
    unauthorized: AtomicU64,
    forbidden: AtomicU64,
    not_found: AtomicU64,
    unprocessable: AtomicU64,
    rate_limited: AtomicU64,
    injected_failures: AtomicU64,
    dropped_before_commit: AtomicU64,
    dropped_after_commit: AtomicU64,
    stalled: AtomicU64,
    pub tokens_issued: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn record(&self, method: &Method, status: u16, injected: bool) {
        let counter = match (method, status) {
            _ if injected => &self.injected_failures,
            (&Method::POST, 201) => &self.created,
            (&Method::PATCH, 200) => &self.updated,
            (&Method::DELETE, 204) => &self.deleted,
            (_, 401) => &self.unauthorized,
            (_, 403) => &self.forbidden,
            (_, 404) => &self.not_found,
            (_, 409) => &self.conflicts,
            (_, 422) => &self.unprocessable,
            (_, 429) => &self.rate_limited,
            _ => return,
        };
        Self::add(counter);
    }

    pub fn snapshot(&self) -> SandboxStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SandboxStats {
            requests: read(&self.requests),
            created: read(&self.created),
            updated: read(&self.updated),
            deleted: read(&self.deleted),
            conflicts: read(&self.conflicts),
            unauthorized: read(&self.unauthorized),
            forbidden: read(&self.forbidden),
            not_found: read(&self.not_found),
            unprocessable: read(&self.unprocessable),
            rate_limited: read(&self.rate_limited),
            injected_failures: read(&self.injected_failures),
            dropped_before_commit: read(&self.dropped_before_commit),
            dropped_after_commit: read(&self.dropped_after_commit),
            stalled: read(&self.stalled),
            tokens_issued: read(&self.tokens_issued),
        }
    }
}
