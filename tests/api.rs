//! The API client against the sandbox on loopback, and against tiny axum
//! servers for the shapes the sandbox never sends: redirects, HTML error
//! pages, echoed headers and plain `links.next` URLs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use customer_importer::api::{
    ApiError, Client, ClientOptions, CustomerPatch, FieldChange, Resource, merge_patch,
};
use customer_importer::customer::{Address, Customer};
use customer_importer::sandbox::{
    ConflictStyle, FailRule, FaultConfig, RunningSandbox, Sandbox, SandboxConfig,
};
use customer_importer::secret::Secret;

/// A token that is easy to search for in error texts.
const TOKEN: &str = "tok-RECOGNISABLE-7f3a9c";

fn customer(email: &str, phone: &str) -> Customer {
    Customer {
        given_name: Some("Ann".into()),
        family_name: Some("Lee".into()),
        email_addresses: vec![email.into()],
        phone_numbers: vec![phone.into()],
        permission_to_contact: Some(true),
        ..Customer::default()
    }
}

fn start(config: SandboxConfig) -> RunningSandbox {
    Sandbox::start(config).expect("sandbox starts")
}

fn client_for(sandbox: &RunningSandbox) -> Client {
    Client::new(
        &sandbox.base_url(),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client for the sandbox")
}

fn faults(config: FaultConfig) -> SandboxConfig {
    SandboxConfig {
        faults: config,
        seed: Some(1),
        ..SandboxConfig::default()
    }
}

/// Serves `router` on 127.0.0.1 and returns its address; the server stops
/// with the test's runtime.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a test server");
    let address = listener.local_addr().expect("test server address");
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    address
}

/// Asserts that no text of `error` contains the token.
fn assert_token_hidden(error: &ApiError) {
    for text in [
        format!("{error}"),
        format!("{error:?}"),
        error.user_message(),
    ] {
        assert!(!text.contains(TOKEN), "token leaked into: {text}");
        assert!(!text.contains("RECOGNISABLE"), "token leaked into: {text}");
    }
}

#[tokio::test]
async fn create_get_patch_delete_round_trip() {
    let sandbox = start(SandboxConfig::default());
    let client = client_for(&sandbox);
    let location = sandbox.location().to_owned();
    let mut sent = customer("ann@example.com", "+13065551234");
    sent.address = Some(Address {
        street_address: Some("123 Fake St.".into()),
        city: Some("Kalamazoo".into()),
        region_code: Some("US-MI".into()),
        country_code: Some("US".into()),
    });
    sent.tags = vec!["VIP".into()];

    let created = client
        .create_customer(&location, &sent)
        .await
        .expect("created");
    assert!(
        created.id.starts_with("AG-SANDBOX:CUSTOMER-"),
        "{}",
        created.id
    );
    assert_eq!(created.location.as_deref(), Some("AG-SANDBOX"));
    assert_eq!(created.customer, sent);

    let fetched = client.get_customer(&created.id).await.expect("fetched");
    assert_eq!(fetched, created);

    let patch = CustomerPatch {
        given_name: FieldChange::Clear,
        tags: Some(vec!["VIP".into(), "Imported".into()]),
        ..CustomerPatch::default()
    };
    let updated = client
        .update_customer(&created.id, &patch)
        .await
        .expect("updated");
    assert_eq!(updated.customer.given_name, None);
    assert_eq!(updated.customer.tags, ["VIP", "Imported"]);
    assert_eq!(updated.customer.family_name.as_deref(), Some("Lee"));

    client.delete_customer(&created.id).await.expect("deleted");
    let gone = client
        .get_customer(&created.id)
        .await
        .expect_err("deleted customer");
    assert!(
        matches!(&gone, ApiError::NotFound { resource: Resource::Customer(id), .. } if *id == created.id),
        "{gone:?}"
    );
    assert!(sandbox.customers(&location).is_empty());
}

#[tokio::test]
async fn merge_and_undo_through_the_api() {
    let sandbox = start(SandboxConfig::default());
    let client = client_for(&sandbox);
    let mut existing = customer("ann@example.com", "+13065551234");
    existing.given_name = None;
    let id = sandbox
        .seed_customer(sandbox.location(), existing.clone())
        .expect("seeded");

    let mut incoming = customer("ann@EXAMPLE.com", "+13065550000");
    incoming.tags = vec!["Imported".into()];
    let record = client.get_customer(&id).await.expect("existing customer");
    let merge = merge_patch(&record.customer, &incoming).expect("a change");
    let merged = client
        .update_customer(&id, &merge.patch)
        .await
        .expect("merged");
    assert_eq!(merged.customer.given_name.as_deref(), Some("Ann"));
    assert_eq!(
        merged.customer.phone_numbers,
        ["+13065551234", "+13065550000"]
    );
    assert_eq!(merged.customer.email_addresses, ["ann@example.com"]);

    let restored = client
        .update_customer(&id, &merge.inverse)
        .await
        .expect("undone");
    assert_eq!(restored.customer, record.customer);
}

#[tokio::test]
async fn conflict_in_guide_form() {
    let sandbox = start(SandboxConfig {
        conflict_style: ConflictStyle::Guide,
        ..SandboxConfig::default()
    });
    let client = client_for(&sandbox);
    let existing_id = sandbox
        .seed_customer(
            sandbox.location(),
            customer("ann@example.com", "+13065551234"),
        )
        .expect("seeded");

    let error = client
        .create_customer(
            sandbox.location(),
            &customer("ann@Example.COM", "+13065550000"),
        )
        .await
        .expect_err("a conflict");
    let conflict = error.conflict().expect("a conflict");
    assert_eq!(conflict.existing_id, existing_id);
    assert_eq!(conflict.field, "emailAddresses");
    assert_eq!(conflict.value, "ann@Example.COM");
    assert_eq!(error.status(), Some(409));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn conflict_in_openapi_form_gets_qualified_id() {
    let sandbox = start(SandboxConfig {
        conflict_style: ConflictStyle::OpenApi,
        ..SandboxConfig::default()
    });
    let client = client_for(&sandbox);
    let existing_id = sandbox
        .seed_customer(
            sandbox.location(),
            customer("ann@example.com", "+13065551234"),
        )
        .expect("seeded");

    let error = client
        .create_customer(
            sandbox.location(),
            &customer("bob@example.com", "+13065551234"),
        )
        .await
        .expect_err("a conflict");
    let conflict = error.conflict().expect("a conflict");
    assert_eq!(conflict.existing_id, existing_id);
    assert_eq!(conflict.field, "phoneNumbers");
    assert_eq!(conflict.value, "+13065551234");
}

#[tokio::test]
async fn conflict_on_patch() {
    let sandbox = start(SandboxConfig::default());
    let client = client_for(&sandbox);
    let first = sandbox
        .seed_customer(
            sandbox.location(),
            customer("ann@example.com", "+13065551234"),
        )
        .expect("seeded");
    let second = sandbox
        .seed_customer(
            sandbox.location(),
            customer("bob@example.com", "+13065550000"),
        )
        .expect("seeded");
    let patch = CustomerPatch {
        email_addresses: Some(vec!["bob@example.com".into(), "ann@example.com".into()]),
        ..CustomerPatch::default()
    };
    let error = client
        .update_customer(&second, &patch)
        .await
        .expect_err("a conflict");
    assert_eq!(
        error.conflict().map(|c| c.existing_id.as_str()),
        Some(first.as_str())
    );
}

#[tokio::test]
async fn unprocessable_without_contact() {
    let sandbox = start(SandboxConfig::default());
    let client = client_for(&sandbox);
    let nameless = Customer {
        given_name: Some("Ann".into()),
        ..Customer::default()
    };
    let error = client
        .create_customer(sandbox.location(), &nameless)
        .await
        .expect_err("no email and no phone");
    let ApiError::Rejected { status, detail, .. } = &error else {
        panic!("expected Rejected, got {error:?}");
    };
    assert_eq!(*status, 422);
    assert!(
        detail
            .as_deref()
            .is_some_and(|d| d.contains("email address or phone number")),
        "{detail:?}"
    );
    assert!(
        error
            .user_message()
            .contains("email address or phone number")
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn unauthorized_token() {
    let sandbox = start(SandboxConfig {
        tokens: vec![Secret::new("the-only-good-token")],
        ..SandboxConfig::default()
    });
    let client = client_for(&sandbox);
    let error = client
        .check_access(sandbox.location())
        .await
        .expect_err("wrong token");
    assert!(matches!(error, ApiError::Unauthorized { .. }), "{error:?}");
    assert!(error.needs_new_token());
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        format!("GET {}: 401 unauthorized", sandbox.address())
    );
    assert!(error.user_message().contains("expired or is invalid"));
    assert_token_hidden(&error);

    client.set_token(Secret::new("the-only-good-token"));
    client
        .check_access(sandbox.location())
        .await
        .expect("new token works");
}

#[tokio::test]
async fn forbidden_without_customers_scope() {
    let sandbox = start(SandboxConfig {
        tokens_without_scope: vec![Secret::new(TOKEN)],
        ..SandboxConfig::default()
    });
    let error = client_for(&sandbox)
        .check_access(sandbox.location())
        .await
        .expect_err("no scope");
    assert!(matches!(error, ApiError::Forbidden { .. }), "{error:?}");
    assert!(error.user_message().contains("\"customers\" scope"));
    assert_token_hidden(&error);
}

#[tokio::test]
async fn unknown_location_not_found() {
    let sandbox = start(SandboxConfig::default());
    let error = client_for(&sandbox)
        .check_access("AG-NOSUCH")
        .await
        .expect_err("unknown location");
    assert!(
        matches!(&error, ApiError::NotFound { resource: Resource::Location(id), .. } if id == "AG-NOSUCH"),
        "{error:?}"
    );
    assert!(
        error
            .user_message()
            .starts_with("Business location AG-NOSUCH was not found")
    );
}

#[tokio::test]
async fn too_many_requests_with_retry_after() {
    let sandbox = start(faults(FaultConfig {
        fail: vec![FailRule {
            status: 429,
            fraction: 1.0,
        }],
        ..FaultConfig::default()
    }));
    let error = client_for(&sandbox)
        .create_customer(
            sandbox.location(),
            &customer("ann@example.com", "+13065551234"),
        )
        .await
        .expect_err("rate limited");
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert!(error.is_retryable());
    assert!(!error.may_have_reached_server());
}

#[tokio::test]
async fn server_errors_retryable() {
    for status in [500, 502, 503, 504] {
        let sandbox = start(faults(FaultConfig {
            fail: vec![FailRule {
                status,
                fraction: 1.0,
            }],
            ..FaultConfig::default()
        }));
        let error = client_for(&sandbox)
            .create_customer(
                sandbox.location(),
                &customer("ann@example.com", "+13065551234"),
            )
            .await
            .expect_err("server error");
        assert!(
            matches!(error, ApiError::ServerError { status: s, .. } if s == status),
            "{status}: {error:?}"
        );
        assert!(error.is_retryable());
        assert!(sandbox.customers(sandbox.location()).is_empty());
    }
}

#[tokio::test]
async fn pages_through_250_customers() {
    let sandbox = start(SandboxConfig::default());
    for n in 0..250 {
        let email = format!("customer{n}@example.com");
        let phone = format!("+1306555{n:04}");
        sandbox
            .seed_customer(sandbox.location(), customer(&email, &phone))
            .expect("seeded");
    }
    let client = client_for(&sandbox);

    let mut sizes = Vec::new();
    let mut cursor = None;
    loop {
        let page = client
            .list_customers(sandbox.location(), 100, cursor.as_ref())
            .await
            .expect("a page");
        sizes.push(page.customers.len());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(sizes, [100, 100, 50]);

    let all = client
        .list_all_customers(sandbox.location(), 100)
        .await
        .expect("every page");
    let mut ids: Vec<_> = all.iter().map(|record| record.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250);
}

#[tokio::test]
async fn drop_after_commit_may_have_reached_server() {
    let sandbox = start(faults(FaultConfig {
        drop_after_commit: 1.0,
        ..FaultConfig::default()
    }));
    let client = client_for(&sandbox);
    let sent = customer("ann@example.com", "+13065551234");
    let error = client
        .create_customer(sandbox.location(), &sent)
        .await
        .expect_err("no response");
    assert!(matches!(error, ApiError::ResponseLost { .. }), "{error:?}");
    assert!(error.may_have_reached_server());
    assert!(error.is_retryable());
    assert_token_hidden(&error);

    let stored = sandbox.customers(sandbox.location());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].customer.email_addresses, sent.email_addresses);
    assert_eq!(sandbox.stats().dropped_after_commit, 1);
    assert_eq!(sandbox.stats().created, 1);
}

#[tokio::test]
async fn drop_before_commit_stores_nothing() {
    let sandbox = start(faults(FaultConfig {
        drop_before_commit: 1.0,
        ..FaultConfig::default()
    }));
    let error = client_for(&sandbox)
        .create_customer(
            sandbox.location(),
            &customer("ann@example.com", "+13065551234"),
        )
        .await
        .expect_err("no response");
    // The client cannot tell a drop before from one after the commit.
    assert!(error.may_have_reached_server(), "{error:?}");
    assert!(sandbox.customers(sandbox.location()).is_empty());
}

#[tokio::test]
async fn stall_times_out() {
    let sandbox = start(faults(FaultConfig {
        stall: 1.0,
        stall_duration: Duration::from_secs(60),
        ..FaultConfig::default()
    }));
    let options = ClientOptions {
        timeout: Duration::from_millis(300),
        ..ClientOptions::default()
    };
    let client = Client::new(&sandbox.base_url(), Secret::new(TOKEN), options).expect("client");
    let error = client
        .create_customer(
            sandbox.location(),
            &customer("ann@example.com", "+13065551234"),
        )
        .await
        .expect_err("timed out");
    assert!(
        matches!(
            error,
            ApiError::TimedOut {
                request_sent: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.may_have_reached_server());
    assert!(error.is_retryable());
    assert!(error.user_message().contains("did not respond"));
    assert_token_hidden(&error);
    sandbox.stop().await;
}

#[tokio::test]
async fn refused_connection_never_reached_server() {
    // Bind a port, then free it, so nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let client = Client::new(
        &format!("http://{address}/business"),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client");
    let error = client
        .check_access("AG-1")
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(error, ApiError::ConnectionFailed { .. }),
        "{error:?}"
    );
    assert!(!error.may_have_reached_server());
    assert!(error.is_retryable());
    assert!(error.user_message().contains("no network connection"));
    assert_token_hidden(&error);
}

#[tokio::test]
async fn plain_http_to_other_hosts_refused() {
    for url in [
        "http://prod.apigateway.co/business",
        "http://192.168.1.10:8080/business",
    ] {
        let error = Client::new(url, Secret::new(TOKEN), ClientOptions::default())
            .expect_err("plain http to another host");
        assert!(
            matches!(error, ApiError::InsecureBaseUrl { .. }),
            "{url}: {error:?}"
        );
        assert!(error.user_message().contains("https://"));
    }
}

#[tokio::test]
async fn no_token_after_cross_host_redirect() {
    // The second server records every Authorization header it receives.
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = Arc::clone(&seen);
    let target = serve(Router::new().fallback(any(move |headers: HeaderMap| {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        record.lock().expect("lock").push(auth);
        async { StatusCode::OK }
    })))
    .await;
    // The first server sends every request on to the other host name.
    let location = format!("http://localhost:{}/business/customers", target.port());
    let redirecting = serve(Router::new().fallback(any(move || {
        let location = location.clone();
        async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
            )
        }
    })))
    .await;

    let client = Client::new(
        &format!("http://{redirecting}/business"),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client");
    let error = client
        .check_access("AG-1")
        .await
        .expect_err("redirect not followed");
    assert!(
        matches!(error, ApiError::Redirected { status: 307, .. }),
        "{error:?}"
    );
    assert!(error.user_message().contains("Check the base URL"));
    let seen = seen.lock().expect("lock");
    assert!(
        seen.iter().all(Option::is_none),
        "the other host received a token: {seen:?}"
    );
}

#[tokio::test]
async fn same_host_redirect_followed_with_token() {
    let router = Router::new()
        .route(
            "/old/customers",
            get(|uri: Uri| async move {
                let query = uri.query().unwrap_or_default().to_owned();
                let target = format!("/business/customers?{query}");
                (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, target)])
            }),
        )
        .route(
            "/business/customers",
            get(|headers: HeaderMap| async move {
                let bearer = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if bearer == Some(&format!("Bearer {TOKEN}")) {
                    json_api(StatusCode::OK, r#"{"data":[]}"#)
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        );
    let address = serve(router).await;
    let client = Client::new(
        &format!("http://{address}/old"),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client");
    client
        .check_access("AG-1")
        .await
        .expect("followed with the token");
}

fn json_api(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/vnd.api+json")],
        body,
    )
        .into_response()
}

#[tokio::test]
async fn gateway_html_and_empty_bodies() {
    let router = Router::new()
        .route(
            "/html/customers",
            get(|| async {
                (
                    StatusCode::BAD_GATEWAY,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                )
            }),
        )
        .route("/empty/customers", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/teapot/customers",
            get(|| async { (StatusCode::IM_A_TEAPOT, "<p>short and stout</p>") }),
        );
    let address = serve(router).await;
    let client_at = |prefix: &str| {
        Client::new(
            &format!("http://{address}/{prefix}"),
            Secret::new(TOKEN),
            ClientOptions::default(),
        )
        .expect("client")
    };

    let html = client_at("html")
        .check_access("AG-1")
        .await
        .expect_err("502");
    assert!(
        matches!(
            html,
            ApiError::ServerError {
                status: 502,
                detail: None,
                ..
            }
        ),
        "{html:?}"
    );
    let empty = client_at("empty")
        .check_access("AG-1")
        .await
        .expect_err("404");
    assert!(matches!(empty, ApiError::NotFound { .. }), "{empty:?}");
    let teapot = client_at("teapot")
        .check_access("AG-1")
        .await
        .expect_err("418");
    assert!(
        matches!(
            teapot,
            ApiError::Rejected {
                status: 418,
                detail: None,
                ..
            }
        ),
        "{teapot:?}"
    );
}

#[tokio::test]
async fn echoed_token_not_in_error() {
    // A careless server that copies the request's Authorization header into
    // its error text.
    let router = Router::new().fallback(any(|headers: HeaderMap| async move {
        let echoed = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = serde_json::json!({"errors": [{"status": "422", "detail": format!("bad request with {echoed}")}]});
        (StatusCode::UNPROCESSABLE_ENTITY, body.to_string())
    }));
    let address = serve(router).await;
    let client = Client::new(
        &format!("http://{address}/business"),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client");
    let error = client.check_access("AG-1").await.expect_err("422");
    assert!(
        matches!(error, ApiError::Rejected { status: 422, .. }),
        "{error:?}"
    );
    assert_token_hidden(&error);
}

#[tokio::test]
async fn next_link_without_cursor_is_followed() {
    // Page 1 links to page 2 with a plain relative URL and no page[cursor].
    let router = Router::new().route(
        "/business/customers",
        get(|uri: Uri| async move {
            let second = uri.query().is_some_and(|q| q.contains("after=1"));
            let body = if second {
                r#"{"data":[{"type":"customers","id":"AG-1:CUSTOMER-2","attributes":{"emailAddresses":["b@example.com"]}}]}"#
            } else {
                r#"{"data":[{"type":"customers","id":"AG-1:CUSTOMER-1","attributes":{"emailAddresses":["a@example.com"]}}],
                    "links":{"next":"/business/customers?filter%5BbusinessLocation.id%5D=AG-1&after=1"}}"#
            };
            json_api(StatusCode::OK, body)
        }),
    );
    let address = serve(router).await;
    let client = Client::new(
        &format!("http://{address}/business"),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client");
    let all = client
        .list_all_customers("AG-1", 1)
        .await
        .expect("both pages");
    let ids: Vec<_> = all.iter().map(|record| record.id.as_str()).collect();
    assert_eq!(ids, ["AG-1:CUSTOMER-1", "AG-1:CUSTOMER-2"]);
}

#[tokio::test]
async fn user_agent_names_the_app() {
    let router = Router::new().fallback(any(|headers: HeaderMap| async move {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if agent.starts_with("customer-importer/") {
            json_api(StatusCode::OK, r#"{"data":[]}"#)
        } else {
            StatusCode::BAD_REQUEST.into_response()
        }
    }));
    let address = serve(router).await;
    let client = Client::new(
        &format!("http://{address}/business"),
        Secret::new(TOKEN),
        ClientOptions::default(),
    )
    .expect("client");
    client
        .check_access("AG-1")
        .await
        .expect("User-Agent accepted");
}
