//! Service-account sign-in: key file validation, and token requests
//! against a token endpoint on loopback that verifies each assertion with
//! the public half of the throw-away key in `tests/keys/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};

use customer_importer::auth::{
    Clock, JWT_BEARER_GRANT, KeyFileError, KeyOrigin, ServiceAccountKey, TokenError, TokenOptions,
    TokenSource, token_client,
};
use customer_importer::keychain::{MemoryStore, SecretStore};
use customer_importer::secret::Secret;

const KEY_ID: &str = "c0ffee00-test-key-id";
const ISSUER: &str = "importer-test@partner-service-account.example.test";
const AUDIENCE: &str = "https://iam.example.test";

/// Upper bound for waiting on the test server's signals.
const SIGNAL_TIMEOUT: Duration = Duration::from_secs(30);

fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

fn read_key(name: &str) -> String {
    std::fs::read_to_string(key_path(name)).expect("test key")
}

/// Returns a key file shaped like an issued one, plus a field the importer
/// does not know.
fn key_json(token_uri: &str, private_key: &str) -> serde_json::Value {
    json!({
        "type": "service_account",
        "private_key_id": KEY_ID,
        "private_key": private_key,
        "client_email": ISSUER,
        "token_uri": token_uri,
        "assertionHeaderData": { "alg": "RS256", "kid": KEY_ID },
        "assertionPayloadData": { "aud": AUDIENCE, "iss": ISSUER, "sub": ISSUER },
        "someFutureField": { "nested": true }
    })
}

fn parse_key(json: &serde_json::Value) -> Result<ServiceAccountKey, KeyFileError> {
    ServiceAccountKey::from_json(&Secret::new(json.to_string()), KeyOrigin::Keychain)
}

fn valid_key(token_uri: &str) -> ServiceAccountKey {
    let json = key_json(token_uri, &read_key("throwaway-rsa-private-pkcs1.pem"));
    parse_key(&json).expect("valid key")
}

// --- key file parsing -------------------------------------------------

#[test]
fn key_file_valid_forms_accepted() {
    let pkcs1 = read_key("throwaway-rsa-private-pkcs1.pem");
    let pkcs8 = read_key("throwaway-rsa-private.pem");
    let escaped = pkcs1.replace('\n', "\\n");
    for pem in [&pkcs1, &pkcs8, &escaped] {
        let key =
            parse_key(&key_json("https://sso.example.test/oauth2/token", pem)).expect("accepted");
        assert_eq!(key.private_key_id(), KEY_ID);
        assert_eq!(key.issuer(), ISSUER);
        assert_eq!(key.audience(), AUDIENCE);
        assert_eq!(
            key.token_uri().as_str(),
            "https://sso.example.test/oauth2/token"
        );
    }
}

#[test]
fn key_file_kid_fallback() {
    let mut json = key_json(
        "https://sso.example.test/token",
        &read_key("throwaway-rsa-private.pem"),
    );
    json.as_object_mut()
        .expect("object")
        .remove("private_key_id");
    let key = parse_key(&json).expect("kid from assertionHeaderData");
    assert_eq!(key.private_key_id(), KEY_ID);
}

#[test]
fn key_file_field_errors() {
    let pem = read_key("throwaway-rsa-private.pem");
    let base = key_json("https://sso.example.test/token", &pem);
    type Edit = fn(&mut serde_json::Value);
    let cases: Vec<(Edit, &str)> = vec![
        (
            |json| {
                json.as_object_mut().expect("object").remove("private_key");
            },
            "saved service-account key: missing field `private_key`",
        ),
        (
            |json| json["private_key"] = json!(""),
            "saved service-account key: invalid field `private_key`: it is empty",
        ),
        (
            |json| json["private_key"] = json!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            "saved service-account key: invalid field `private_key`: it is not a PEM private \
             key (no -----BEGIN line)",
        ),
        (
            |json| json["private_key"] = json!(42),
            "saved service-account key: invalid field `private_key`: it must be text",
        ),
        (
            |json| {
                let object = json.as_object_mut().expect("object");
                object.remove("private_key_id");
                object.remove("assertionHeaderData");
            },
            "saved service-account key: missing field `private_key_id`",
        ),
        (
            |json| {
                json.as_object_mut().expect("object").remove("token_uri");
            },
            "saved service-account key: missing field `token_uri`",
        ),
        (
            |json| json["token_uri"] = json!("http://sso.example.test/oauth2/token"),
            "saved service-account key: invalid field `token_uri`: \
             'http://sso.example.test/oauth2/token' uses plain http, which would send the \
             sign-in unencrypted; only https is allowed",
        ),
        (
            |json| {
                json.as_object_mut()
                    .expect("object")
                    .remove("assertionPayloadData");
            },
            "saved service-account key: missing field `assertionPayloadData`",
        ),
        (
            |json| json["assertionPayloadData"] = json!("aud"),
            "saved service-account key: invalid field `assertionPayloadData`: it must be an \
             object with aud, iss and sub",
        ),
        (
            |json| {
                let payload = json["assertionPayloadData"]
                    .as_object_mut()
                    .expect("object");
                payload.remove("iss");
            },
            "saved service-account key: missing field `assertionPayloadData.iss`",
        ),
        (
            |json| json["assertionPayloadData"]["sub"] = json!("  "),
            "saved service-account key: invalid field `assertionPayloadData.sub`: it is empty",
        ),
        (
            |json| json["assertionHeaderData"]["alg"] = json!("ES256"),
            "saved service-account key: invalid field `assertionHeaderData.alg`: 'ES256' is \
             not supported; only RS256 keys are",
        ),
    ];
    for (edit, expected) in cases {
        let mut json = base.clone();
        edit(&mut json);
        let error = parse_key(&json).expect_err(expected);
        assert_eq!(error.to_string(), expected);
    }
}

#[test]
fn key_file_load_errors_name_path() {
    let folder = tempfile::tempdir().expect("temp dir");

    let missing = folder.path().join("missing.json");
    let error = ServiceAccountKey::load(&missing).expect_err("missing file");
    assert!(matches!(error, KeyFileError::Read { .. }));
    assert!(error.to_string().contains("missing.json"), "{error}");
    assert!(
        error.user_message().starts_with("Could not open"),
        "{}",
        error.user_message()
    );

    let broken = folder.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"type\": \"service_account\",\n  oops\n}").expect("write");
    let error = ServiceAccountKey::load(&broken).expect_err("broken JSON");
    assert_eq!(
        error.to_string(),
        format!(
            "service-account key file {}: invalid JSON at line 3, column 3",
            broken.display()
        )
    );

    let large = folder.path().join("customers.csv");
    std::fs::write(&large, "name,email\n".repeat(10_000)).expect("write");
    let error = ServiceAccountKey::load(&large).expect_err("too large");
    assert_eq!(
        error.to_string(),
        format!(
            "service-account key file {}: not a service-account key: it is larger than 64 KB",
            large.display()
        )
    );

    let binary = folder.path().join("sheet.xlsx");
    std::fs::write(&binary, b"PK\x03\x04\xff\xfe").expect("write");
    let error = ServiceAccountKey::load(&binary).expect_err("binary");
    assert!(
        error
            .to_string()
            .ends_with("not a service-account key: it is not UTF-8 text")
    );
}

#[test]
fn key_file_loads_from_disk_with_bom() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("key.json");
    let json = key_json(
        "https://sso.example.test/token",
        &read_key("throwaway-rsa-private.pem"),
    );
    std::fs::write(&path, format!("\u{feff}{json}")).expect("write");
    let key = ServiceAccountKey::load(&path).expect("loaded");
    assert_eq!(key.issuer(), ISSUER);
}

#[test]
fn key_file_round_trips_through_keychain_store() {
    let key = valid_key("https://sso.example.test/token");
    let store = MemoryStore::new();
    store
        .set("demo:service-account", &key.to_secret())
        .expect("save");
    let saved = store
        .get("demo:service-account")
        .expect("read")
        .expect("stored");
    let again = ServiceAccountKey::from_json(&saved, KeyOrigin::Keychain).expect("valid");
    assert_eq!(again.private_key_id(), key.private_key_id());
}

#[test]
fn key_file_errors_hide_private_key() {
    let pem = read_key("throwaway-rsa-private.pem");
    // A PEM whose body is damaged still must not be quoted back.
    let damaged = pem.replacen("MII", "@@@", 1);
    let body_line = pem.lines().nth(5).expect("PEM body line").to_owned();
    let error =
        parse_key(&key_json("https://sso.example.test/token", &damaged)).expect_err("damaged key");
    for text in [
        error.to_string(),
        format!("{error:?}"),
        error.user_message(),
    ] {
        assert!(!text.contains(&body_line), "{text}");
    }

    let key = valid_key("https://sso.example.test/token");
    let debug = format!("{key:?}");
    assert!(!debug.contains(&body_line), "{debug}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
}

// --- the test token endpoint ------------------------------------------

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    aud: String,
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
}

/// What the endpoint does, and what it has seen.
struct Endpoint {
    token_uri: String,
    public_key: DecodingKey,
    /// `expires_in` of issued tokens; `None` leaves it out.
    expires_in: Option<u64>,
    /// When set, every request gets this status and body.
    failure: Option<(StatusCode, String)>,
    /// When set, each request waits for a permit before the response.
    gate: Option<Arc<Semaphore>>,
    requests: AtomicUsize,
    arrivals: mpsc::UnboundedSender<usize>,
    last_claims: Mutex<Option<AssertionClaims>>,
}

struct EndpointHandle {
    token_uri: String,
    endpoint: Arc<Endpoint>,
    arrivals: mpsc::UnboundedReceiver<usize>,
}

impl EndpointHandle {
    fn requests(&self) -> usize {
        self.endpoint.requests.load(Ordering::SeqCst)
    }

    /// Waits until the endpoint has received its next request.
    async fn next_arrival(&mut self) -> usize {
        tokio::time::timeout(SIGNAL_TIMEOUT, self.arrivals.recv())
            .await
            .expect("a token request within the timeout")
            .expect("endpoint running")
    }
}

#[derive(Default)]
struct EndpointConfig {
    expires_in: Option<u64>,
    failure: Option<(StatusCode, String)>,
    gate: Option<Arc<Semaphore>>,
}

async fn start_endpoint(config: EndpointConfig) -> EndpointHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("address");
    let token_uri = format!("http://{address}/oauth2/token");
    let public_pem = read_key("throwaway-rsa-public.pem");
    let (sender, arrivals) = mpsc::unbounded_channel();
    let endpoint = Arc::new(Endpoint {
        token_uri: token_uri.clone(),
        public_key: DecodingKey::from_rsa_pem(public_pem.as_bytes()).expect("public key"),
        expires_in: config.expires_in,
        failure: config.failure,
        gate: config.gate,
        requests: AtomicUsize::new(0),
        arrivals: sender,
        last_claims: Mutex::new(None),
    });
    let router = Router::new()
        .route("/oauth2/token", post(issue_token))
        .route("/moved", post(redirect_to_token))
        .with_state(endpoint.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    EndpointHandle {
        token_uri,
        endpoint,
        arrivals,
    }
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({ "error": code, "error_description": description });
    (status, Json(body)).into_response()
}

async fn issue_token(
    State(endpoint): State<Arc<Endpoint>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let number = endpoint.requests.fetch_add(1, Ordering::SeqCst) + 1;
    endpoint.arrivals.send(number).ok();
    if let Some(gate) = &endpoint.gate {
        gate.acquire().await.expect("gate open").forget();
    }
    if let Some((status, body)) = &endpoint.failure {
        return (*status, body.clone()).into_response();
    }

    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "wrong grant",
        );
    }
    if form.get("scope").map(String::as_str) != Some("customers") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope must be customers",
        );
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no assertion");
    };
    match verify_assertion(&endpoint, assertion) {
        Ok(claims) => {
            *endpoint.last_claims.lock().expect("claims lock") = Some(claims);
        }
        Err(reason) => {
            // Echo the assertion, as a careless server might, so the test
            // can check that the client removes it.
            let description = format!("{reason} in {assertion}");
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant", &description);
        }
    }

    let mut body =
        json!({ "access_token": format!("access-token-{number}"), "token_type": "Bearer" });
    if let Some(seconds) = endpoint.expires_in {
        body["expires_in"] = json!(seconds);
    }
    Json(body).into_response()
}

/// Sends a 307 to the token endpoint, which would make a client that
/// follows redirects resend the form, assertion included.
async fn redirect_to_token(State(endpoint): State<Arc<Endpoint>>) -> Response {
    let location = [(axum::http::header::LOCATION, endpoint.token_uri.clone())];
    (StatusCode::TEMPORARY_REDIRECT, location).into_response()
}

fn verify_assertion(endpoint: &Endpoint, assertion: &str) -> Result<AssertionClaims, String> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|error| error.to_string())?;
    if header.kid.as_deref() != Some(KEY_ID) {
        return Err(format!("unknown kid {:?}", header.kid));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    validation.sub = Some(ISSUER.to_owned());
    jsonwebtoken::decode::<AssertionClaims>(assertion, &endpoint.public_key, &validation)
        .map(|data| data.claims)
        .map_err(|error| format!("signature check failed: {error}"))
}

/// A clock that moves only when the test sets it.
struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        })
    }

    fn set_elapsed(&self, elapsed: Duration) {
        *self.elapsed.lock().expect("clock lock") = elapsed;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().expect("clock lock")
    }
}

fn source_for(endpoint: &EndpointHandle, options: TokenOptions) -> TokenSource {
    TokenSource::from_service_account_with(valid_key(&endpoint.token_uri), options)
        .expect("token source")
}

// --- token requests -----------------------------------------------------

#[tokio::test]
async fn exchange_sends_signed_assertion() {
    let endpoint = start_endpoint(EndpointConfig {
        expires_in: Some(3600),
        ..Default::default()
    })
    .await;
    let source = source_for(&endpoint, TokenOptions::default());

    let token = source.current_token().await.expect("token");
    assert_eq!(token.expose(), "access-token-1");
    assert_eq!(endpoint.requests(), 1);

    let claims = endpoint.endpoint.last_claims.lock().expect("lock").take();
    let claims = claims.expect("verified assertion");
    assert_eq!(claims.aud, AUDIENCE);
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.sub, ISSUER);
    assert_eq!(claims.exp - claims.iat, 600, "ten-minute assertion");

    let again = source.current_token().await.expect("cached");
    assert_eq!(again.expose(), "access-token-1");
    assert_eq!(endpoint.requests(), 1, "cached token reused");
}

#[tokio::test]
async fn token_refreshed_before_expiry() {
    let endpoint = start_endpoint(EndpointConfig {
        expires_in: Some(3600),
        ..Default::default()
    })
    .await;
    let clock = ManualClock::new();
    let options = TokenOptions {
        clock: clock.clone(),
        ..TokenOptions::default()
    };
    let source = source_for(&endpoint, options);

    assert_eq!(
        source.current_token().await.expect("token").expose(),
        "access-token-1"
    );

    // 61 s of the hour remain: more than the 60 s margin, so no request.
    clock.set_elapsed(Duration::from_secs(3539));
    assert_eq!(
        source.current_token().await.expect("token").expose(),
        "access-token-1"
    );
    assert_eq!(endpoint.requests(), 1);

    // 59 s remain: the still-valid token is replaced.
    clock.set_elapsed(Duration::from_secs(3541));
    assert_eq!(
        source.current_token().await.expect("token").expose(),
        "access-token-2"
    );
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn token_without_lifetime_kept_until_rejected() {
    let endpoint = start_endpoint(EndpointConfig::default()).await;
    let clock = ManualClock::new();
    let options = TokenOptions {
        clock: clock.clone(),
        ..TokenOptions::default()
    };
    let source = source_for(&endpoint, options);

    let first = source.current_token().await.expect("token");
    clock.set_elapsed(Duration::from_secs(30 * 24 * 3600));
    assert_eq!(source.current_token().await.expect("token"), first);
    assert_eq!(endpoint.requests(), 1);

    let second = source.refresh_rejected(&first).await.expect("refreshed");
    assert_eq!(second.expose(), "access-token-2");
    assert_eq!(endpoint.requests(), 2);
}

/// Spawns `count` tasks that each run `call` on a clone of `source`.
fn spawn_callers<F, Fut>(
    source: &TokenSource,
    count: usize,
    call: F,
) -> Vec<tokio::task::JoinHandle<Result<Secret, TokenError>>>
where
    F: Fn(TokenSource) -> Fut,
    Fut: Future<Output = Result<Secret, TokenError>> + Send + 'static,
{
    (0..count)
        .map(|_| tokio::spawn(call(source.clone())))
        .collect()
}

async fn join_all(
    tasks: Vec<tokio::task::JoinHandle<Result<Secret, TokenError>>>,
) -> Vec<Result<Secret, TokenError>> {
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("caller task"));
    }
    outcomes
}

// The test runtime is single-threaded, so every spawned caller has run up
// to its first await (holding or waiting for the token lock) before the
// endpoint's arrival signal wakes this test and it opens the gate.
#[tokio::test]
async fn concurrent_callers_share_one_request() {
    let gate = Arc::new(Semaphore::new(0));
    let mut endpoint = start_endpoint(EndpointConfig {
        expires_in: Some(3600),
        gate: Some(gate.clone()),
        ..Default::default()
    })
    .await;
    let source = source_for(&endpoint, TokenOptions::default());

    let callers = spawn_callers(
        &source,
        8,
        |source| async move { source.current_token().await },
    );
    assert_eq!(endpoint.next_arrival().await, 1);
    gate.add_permits(1);
    for outcome in join_all(callers).await {
        assert_eq!(outcome.expect("token").expose(), "access-token-1");
    }
    assert_eq!(endpoint.requests(), 1);

    // Eight requests rejected the same token: one refresh serves them all.
    let rejected = Secret::new("access-token-1");
    let callers = spawn_callers(&source, 8, move |source| {
        let rejected = rejected.clone();
        async move { source.refresh_rejected(&rejected).await }
    });
    assert_eq!(endpoint.next_arrival().await, 2);
    gate.add_permits(1);
    for outcome in join_all(callers).await {
        assert_eq!(outcome.expect("token").expose(), "access-token-2");
    }
    assert_eq!(endpoint.requests(), 2);

    // Forced refreshes that overlap also share one request.
    let callers = spawn_callers(&source, 8, |source| async move { source.refresh().await });
    assert_eq!(endpoint.next_arrival().await, 3);
    gate.add_permits(1);
    for outcome in join_all(callers).await {
        assert_eq!(outcome.expect("token").expose(), "access-token-3");
    }
    assert_eq!(endpoint.requests(), 3);
}

#[tokio::test]
async fn concurrent_callers_share_one_failure() {
    let gate = Arc::new(Semaphore::new(0));
    let mut endpoint = start_endpoint(EndpointConfig {
        failure: Some((
            StatusCode::SERVICE_UNAVAILABLE,
            "<html>down</html>".to_owned(),
        )),
        gate: Some(gate.clone()),
        ..Default::default()
    })
    .await;
    let source = source_for(&endpoint, TokenOptions::default());

    let callers = spawn_callers(
        &source,
        4,
        |source| async move { source.current_token().await },
    );
    assert_eq!(endpoint.next_arrival().await, 1);
    gate.add_permits(1);
    for outcome in join_all(callers).await {
        let error = outcome.expect_err("server down");
        assert!(
            matches!(error, TokenError::ServerError { status: 503, .. }),
            "{error:?}"
        );
    }
    assert_eq!(endpoint.requests(), 1);

    // A later caller tries again rather than reusing the old failure.
    gate.add_permits(1);
    assert!(source.current_token().await.is_err());
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn wrong_key_rejected_without_leaking() {
    let endpoint = start_endpoint(EndpointConfig::default()).await;
    let other_pem = read_key("throwaway-other-rsa-private.pem");
    let key = parse_key(&key_json(&endpoint.token_uri, &other_pem)).expect("valid file");
    let source = TokenSource::from_service_account(key).expect("token source");

    let error = source.current_token().await.expect_err("rejected");
    let TokenError::Rejected {
        status,
        error_code,
        description,
        ..
    } = &error
    else {
        panic!("expected a rejection, got {error:?}");
    };
    assert_eq!(*status, 401);
    assert_eq!(error_code.as_deref(), Some("invalid_grant"));
    let description = description.as_deref().expect("description");
    assert!(description.contains("<assertion>"), "{description}");
    assert!(error.user_message().contains("download a new key file"));

    let body_line = other_pem.lines().nth(5).expect("PEM body line");
    for text in [
        error.to_string(),
        format!("{error:?}"),
        error.user_message(),
        format!("{source:?}"),
    ] {
        assert!(!text.contains("eyJ"), "assertion leaked: {text}");
        assert!(!text.contains(body_line), "key leaked: {text}");
    }
}

#[tokio::test]
async fn tokens_stay_out_of_debug_output() {
    let endpoint = start_endpoint(EndpointConfig {
        expires_in: Some(3600),
        ..Default::default()
    })
    .await;
    let source = source_for(&endpoint, TokenOptions::default());
    let token = source.current_token().await.expect("token");
    assert!(!format!("{token:?}").contains("access-token"));
    assert!(!format!("{source:?}").contains("access-token"));

    let access = customer_importer::auth::exchange(
        &token_client().expect("client"),
        &valid_key(&endpoint.token_uri),
        Duration::from_secs(30),
    )
    .await
    .expect("exchange");
    assert_eq!(access.expires_in, Some(Duration::from_secs(3600)));
    assert!(!format!("{access:?}").contains("access-token"));
}

#[tokio::test]
async fn unreachable_endpoint_names_host() {
    // A port that was just free: nothing listens there once the listener
    // is dropped.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let token_uri = format!("http://{address}/oauth2/token");
    let source = TokenSource::from_service_account(valid_key(&token_uri)).expect("token source");

    let error = source.current_token().await.expect_err("nothing listening");
    assert!(matches!(error, TokenError::Unreachable { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with(&format!("POST {token_uri}:")),
        "{error}"
    );
    assert_eq!(
        error.user_message(),
        "Could not reach the sign-in server 127.0.0.1. Check the internet connection and try \
         again."
    );
}

#[tokio::test]
async fn silent_endpoint_times_out() {
    // The gate never opens, so the endpoint never sends a response.
    let gate = Arc::new(Semaphore::new(0));
    let endpoint = start_endpoint(EndpointConfig {
        gate: Some(gate),
        ..Default::default()
    })
    .await;
    let options = TokenOptions {
        request_timeout: Duration::from_millis(300),
        ..TokenOptions::default()
    };
    let source = source_for(&endpoint, options);

    let error = source.current_token().await.expect_err("no answer");
    assert!(matches!(error, TokenError::TimedOut { .. }), "{error:?}");
    assert!(error.user_message().contains("did not answer"));
}

#[tokio::test]
async fn html_success_is_invalid_response() {
    let endpoint = start_endpoint(EndpointConfig {
        failure: Some((StatusCode::OK, "<html>login page</html>".to_owned())),
        ..Default::default()
    })
    .await;
    let source = source_for(&endpoint, TokenOptions::default());
    let error = source.current_token().await.expect_err("not JSON");
    assert_eq!(
        error.to_string(),
        format!(
            "POST {}: invalid token response: it is not a JSON object",
            endpoint.token_uri
        )
    );
}

#[tokio::test]
async fn redirect_not_followed() {
    let endpoint = start_endpoint(EndpointConfig::default()).await;
    let moved_uri = endpoint.token_uri.replace("/oauth2/token", "/moved");
    let source = TokenSource::from_service_account(valid_key(&moved_uri)).expect("token source");

    let error = source.current_token().await.expect_err("redirect");
    assert_eq!(
        error.to_string(),
        format!(
            "POST {moved_uri}: invalid token response: it redirects (HTTP 307), and token \
             requests are not redirected"
        )
    );
    assert_eq!(endpoint.requests(), 0, "the redirect was followed");
}

// --- the sandbox's token endpoint ---------------------------------------

/// Starts a sandbox that verifies assertions with the throw-away public key
/// and accepts only a configured token and the tokens it issues.
fn start_verifying_sandbox() -> customer_importer::sandbox::RunningSandbox {
    let config = customer_importer::sandbox::SandboxConfig {
        tokens: vec![Secret::new("configured-token-not-used-here")],
        assertion_public_key_pem: Some(read_key("throwaway-rsa-public.pem")),
        assertion_audience: Some(AUDIENCE.to_owned()),
        ..Default::default()
    };
    customer_importer::sandbox::Sandbox::start(config).expect("sandbox")
}

/// Returns the status of a customers list request with `token`.
async fn list_status(sandbox: &customer_importer::sandbox::RunningSandbox, token: &str) -> u16 {
    let url = format!("{}/customers", sandbox.base_url());
    reqwest::Client::new()
        .get(url)
        .query(&[("filter[businessLocation.id]", sandbox.location())])
        .bearer_auth(token)
        .send()
        .await
        .expect("list request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn sandbox_issues_token_for_assertion() {
    let sandbox = start_verifying_sandbox();
    let source =
        TokenSource::from_service_account(valid_key(&sandbox.token_url())).expect("token source");

    let token = source.current_token().await.expect("sandbox token");
    assert_eq!(sandbox.stats().tokens_issued, 1);
    assert_eq!(list_status(&sandbox, token.expose()).await, 200);
    assert_eq!(list_status(&sandbox, "made-up-token").await, 401);

    let again = source.refresh_rejected(&token).await.expect("new token");
    assert_ne!(again, token);
    assert_eq!(sandbox.stats().tokens_issued, 2);
    assert_eq!(list_status(&sandbox, again.expose()).await, 200);
}

#[tokio::test]
async fn sandbox_rejects_wrong_key() {
    let sandbox = start_verifying_sandbox();
    let other_pem = read_key("throwaway-other-rsa-private.pem");
    let key = parse_key(&key_json(&sandbox.token_url(), &other_pem)).expect("valid file");
    let source = TokenSource::from_service_account(key).expect("token source");

    let error = source.current_token().await.expect_err("wrong key");
    let TokenError::Rejected {
        status, error_code, ..
    } = &error
    else {
        panic!("expected a rejection, got {error:?}");
    };
    assert_eq!(*status, 400);
    assert_eq!(error_code.as_deref(), Some("invalid_grant"));
    assert_eq!(sandbox.stats().tokens_issued, 0);
}
