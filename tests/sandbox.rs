//! The sandbox server seen from plain HTTP: token rules, request checks,
//! paging, conflict forms, injected faults, the service-account token
//! endpoint and the `customer-importer sandbox` command.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use customer_importer::customer::Customer;
use customer_importer::sandbox::{
    ConflictStyle, FailRule, FaultConfig, RunningSandbox, Sandbox, SandboxConfig,
};
use customer_importer::secret::Secret;

/// Upper bound for waiting on a condition (a token expiring, a process
/// printing its first line).
const WAIT_LIMIT: Duration = Duration::from_secs(60);

const JSON_API: &str = "application/vnd.api+json";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn start(config: SandboxConfig) -> RunningSandbox {
    Sandbox::start(config).expect("sandbox starts")
}

fn create_body(location: &str, email: &str, phone: &str) -> Value {
    json!({"data": {
        "type": "customers",
        "attributes": {"emailAddresses": [email], "phoneNumbers": [phone]},
        "relationships": {"businessLocation": {"data": {"id": location}}}
    }})
}

async fn post_customer(sandbox: &RunningSandbox, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/customers", sandbox.base_url()))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, JSON_API)
        .body(body.to_string())
        .send()
        .await
        .expect("a response from the sandbox")
}

async fn list(sandbox: &RunningSandbox, token: &str, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/customers?{query}", sandbox.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("a response from the sandbox")
}

fn customer(email: &str, phone: &str) -> Customer {
    Customer {
        email_addresses: vec![email.into()],
        phone_numbers: vec![phone.into()],
        ..Customer::default()
    }
}

#[tokio::test]
async fn unauthorized_response_is_errors_envelope() {
    let sandbox = start(SandboxConfig {
        tokens: vec![Secret::new("good")],
        ..SandboxConfig::default()
    });
    let response = list(&sandbox, "bad", "filter[businessLocation.id]=AG-SANDBOX").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body.pointer("/errors/0/status"), Some(&json!("401")));

    let missing = reqwest::Client::new()
        .get(format!(
            "{}/customers?filter[businessLocation.id]=AG-SANDBOX",
            sandbox.base_url()
        ))
        .send()
        .await
        .expect("a response from the sandbox");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sandbox.stats().unauthorized, 2);
}

#[tokio::test]
async fn token_expires_after_ttl_then_next_works() {
    let sandbox = start(SandboxConfig {
        tokens: vec![Secret::new("first"), Secret::new("second")],
        token_ttl: Some(Duration::from_secs(1)),
        ..SandboxConfig::default()
    });
    let query = "filter[businessLocation.id]=AG-SANDBOX";
    assert_eq!(
        list(&sandbox, "first", query).await.status(),
        StatusCode::OK
    );

    // Waits for the actual expiry rather than a fixed time.
    let started = Instant::now();
    loop {
        let status = list(&sandbox, "first", query).await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < WAIT_LIMIT,
            "the first token never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        list(&sandbox, "second", query).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn token_without_scope_forbidden() {
    let sandbox = start(SandboxConfig {
        tokens: vec![Secret::new("good")],
        tokens_without_scope: vec![Secret::new("narrow")],
        ..SandboxConfig::default()
    });
    let response = list(&sandbox, "narrow", "filter[businessLocation.id]=AG-SANDBOX").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(sandbox.stats().forbidden, 1);
}

#[tokio::test]
async fn malformed_creates_unprocessable() {
    let sandbox = start(SandboxConfig::default());
    let client = reqwest::Client::new();
    let not_json = client
        .post(format!("{}/customers", sandbox.base_url()))
        .bearer_auth("t")
        .body("{not json")
        .send()
        .await
        .expect("a response from the sandbox");
    assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = not_json.json().await.expect("JSON body");
    assert_eq!(
        body.pointer("/errors/0/code"),
        Some(&json!("MalformedRequestBody"))
    );

    let no_location =
        json!({"data": {"type": "customers", "attributes": {"emailAddresses": ["a@example.com"]}}});
    let response = post_customer(&sandbox, "t", &no_location).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let no_contact = json!({"data": {"type": "customers", "attributes": {"givenName": "Ann"},
        "relationships": {"businessLocation": {"data": {"id": "AG-SANDBOX"}}}}});
    let response = post_customer(&sandbox, "t", &no_contact).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let bad_phone = create_body("AG-SANDBOX", "a@example.com", "306-555-1234");
    let response = post_customer(&sandbox, "t", &bad_phone).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sandbox.stats().unprocessable, 4);
    assert!(sandbox.customers("AG-SANDBOX").is_empty());
}

#[tokio::test]
async fn unknown_location_not_found() {
    let sandbox = start(SandboxConfig {
        locations: vec!["AG-ONE".to_owned(), "AG-TWO".to_owned()],
        ..SandboxConfig::default()
    });
    assert_eq!(sandbox.locations(), ["AG-ONE", "AG-TWO"]);
    let body = create_body("AG-SANDBOX", "a@example.com", "+13065551234");
    assert_eq!(
        post_customer(&sandbox, "t", &body).await.status(),
        StatusCode::NOT_FOUND
    );
    let body = create_body("AG-TWO", "a@example.com", "+13065551234");
    assert_eq!(
        post_customer(&sandbox, "t", &body).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(sandbox.customers("AG-TWO").len(), 1);
}

#[tokio::test]
async fn created_record_in_guide_shape() {
    let sandbox = start(SandboxConfig::default());
    let body = create_body("AG-SANDBOX", "a@example.com", "+13065551234");
    let response = post_customer(&sandbox, "t", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some(JSON_API)
    );
    let record: Value = response.json().await.expect("JSON body");
    let id = record
        .pointer("/data/id")
        .and_then(Value::as_str)
        .expect("an id");
    assert!(id.starts_with("AG-SANDBOX:CUSTOMER-"), "{id}");
    assert_eq!(record.pointer("/data/type"), Some(&json!("customers")));
    assert_eq!(
        record.pointer("/data/relationships/businessLocation/data/id"),
        Some(&json!("AG-SANDBOX"))
    );
    assert_eq!(
        record.pointer("/data/attributes/permissionToContact"),
        Some(&json!(false))
    );
    assert!(record.pointer("/data/attributes/createdAt").is_some());
}

#[tokio::test]
async fn list_pages_newest_first_with_absolute_next() {
    let sandbox = start(SandboxConfig::default());
    for n in 0..3 {
        sandbox
            .seed_customer(
                "AG-SANDBOX",
                customer(&format!("c{n}@example.com"), &format!("+1306555000{n}")),
            )
            .expect("seeded");
    }
    let first: Value = list(
        &sandbox,
        "t",
        "filter[businessLocation.id]=AG-SANDBOX&page[limit]=2",
    )
    .await
    .json()
    .await
    .expect("JSON body");
    let emails: Vec<_> = first["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|item| item.pointer("/attributes/emailAddresses/0").cloned())
        .collect();
    assert_eq!(
        emails,
        [Some(json!("c2@example.com")), Some(json!("c1@example.com"))]
    );
    let next = first
        .pointer("/links/next")
        .and_then(Value::as_str)
        .expect("links.next");
    assert!(next.starts_with(&sandbox.base_url()), "{next}");
    assert!(next.contains("page%5Bcursor%5D="), "{next}");

    let second: Value = reqwest::Client::new()
        .get(next)
        .bearer_auth("t")
        .send()
        .await
        .expect("a response from the sandbox")
        .json()
        .await
        .expect("JSON body");
    assert_eq!(second["data"].as_array().map(Vec::len), Some(1));
    assert!(second.pointer("/links/next").is_none());
}

#[tokio::test]
async fn delete_then_get_not_found() {
    let sandbox = start(SandboxConfig::default());
    let id = sandbox
        .seed_customer("AG-SANDBOX", customer("a@example.com", "+13065551234"))
        .expect("seeded");
    let client = reqwest::Client::new();
    let url = format!("{}/customers/{id}", sandbox.base_url());
    let deleted = client
        .delete(&url)
        .bearer_auth("t")
        .send()
        .await
        .expect("answer");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = client
        .delete(&url)
        .bearer_auth("t")
        .send()
        .await
        .expect("answer");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let fetched = client
        .get(&url)
        .bearer_auth("t")
        .send()
        .await
        .expect("answer");
    assert_eq!(fetched.status(), StatusCode::NOT_FOUND);
    assert_eq!(sandbox.stats().deleted, 1);
}

/// Creates `count` conflicting customers and returns, per response,
/// whether it had the guide's form.
async fn conflict_forms(sandbox: &RunningSandbox, count: usize) -> Vec<bool> {
    let mut forms = Vec::new();
    for n in 0..count {
        let body = create_body(
            "AG-SANDBOX",
            "taken@example.com",
            &format!("+1306555{n:04}"),
        );
        let response = post_customer(sandbox, "t", &body).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let answer: Value = response.json().await.expect("JSON body");
        let guide = answer
            .pointer("/errors/0/meta/conflictingCustomerId")
            .is_some();
        let openapi = answer
            .pointer("/errors/0/meta/conflictingCustomerID")
            .is_some();
        assert!(guide != openapi, "exactly one form expected: {answer}");
        if openapi {
            assert_eq!(
                answer.pointer("/errors/0/code"),
                Some(&json!("ResourceAlreadyExists"))
            );
            let id = answer
                .pointer("/errors/0/meta/conflictingCustomerID")
                .and_then(Value::as_str);
            assert!(id.is_some_and(|id| id.starts_with("CUSTOMER-")), "{answer}");
        }
        forms.push(guide);
    }
    forms
}

#[tokio::test]
async fn mixed_conflicts_repeat_with_seed() {
    let config = SandboxConfig {
        conflict_style: ConflictStyle::Mixed,
        seed: Some(99),
        ..SandboxConfig::default()
    };
    let first = start(config.clone());
    let second = start(config);
    for sandbox in [&first, &second] {
        sandbox
            .seed_customer("AG-SANDBOX", customer("taken@example.com", "+19999999999"))
            .expect("seeded");
    }
    let forms = conflict_forms(&first, 20).await;
    assert!(forms.contains(&true), "no guide form in {forms:?}");
    assert!(forms.contains(&false), "no OpenAPI form in {forms:?}");
    assert_eq!(conflict_forms(&second, 20).await, forms);
    assert_eq!(first.stats().conflicts, 20);
}

#[tokio::test]
async fn seeded_faults_repeat() {
    let config = SandboxConfig {
        faults: FaultConfig {
            fail: vec![FailRule {
                status: 500,
                fraction: 0.3,
            }],
            ..FaultConfig::default()
        },
        seed: Some(5),
        ..SandboxConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sandbox = start(config.clone());
        let mut statuses = Vec::new();
        for n in 0..30 {
            let body = create_body(
                "AG-SANDBOX",
                &format!("c{n}@example.com"),
                &format!("+1306555{n:04}"),
            );
            statuses.push(post_customer(&sandbox, "t", &body).await.status().as_u16());
        }
        let stats = sandbox.stats();
        assert_eq!(stats.injected_failures + stats.created, 30);
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&500) && runs[0].contains(&201),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn faults_only_on_creates_by_default() {
    let always_fail = FaultConfig {
        fail: vec![FailRule {
            status: 503,
            fraction: 1.0,
        }],
        ..FaultConfig::default()
    };
    let query = "filter[businessLocation.id]=AG-SANDBOX";
    let creates_only = start(SandboxConfig {
        faults: always_fail.clone(),
        ..SandboxConfig::default()
    });
    assert_eq!(
        list(&creates_only, "t", query).await.status(),
        StatusCode::OK
    );
    let body = create_body("AG-SANDBOX", "a@example.com", "+13065551234");
    assert_eq!(
        post_customer(&creates_only, "t", &body).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let every_operation = start(SandboxConfig {
        faults: FaultConfig {
            all_operations: true,
            ..always_fail
        },
        ..SandboxConfig::default()
    });
    assert_eq!(
        list(&every_operation, "t", query).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let sandbox = start(SandboxConfig {
        faults: FaultConfig {
            rate_limit: Some(2),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    });
    let mut limited = None;
    for _ in 0..20 {
        let response = list(&sandbox, "t", "filter[businessLocation.id]=AG-SANDBOX").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("20 quick requests exceed 2 per second");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|secs| secs >= 1), "{retry_after:?}");
    assert!(sandbox.stats().rate_limited >= 1);
}

#[tokio::test]
async fn stop_closes_the_port() {
    let sandbox = start(SandboxConfig::default());
    let base_url = sandbox.base_url();
    sandbox.stop().await;
    let result = reqwest::Client::new()
        .get(format!("{base_url}/customers"))
        .send()
        .await;
    assert!(result.is_err_and(|err| err.is_connect()));
}

fn key_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Signs an assertion with the throw-away test key.
fn assertion(audience: &str, expires_in_secs: i64, key_name: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let claims = json!({
        "iss": "importer-test@example.test",
        "sub": "importer-test@example.test",
        "aud": audience,
        "iat": now,
        "exp": now + expires_in_secs,
    });
    let key = EncodingKey::from_rsa_pem(key_file(key_name).as_bytes()).expect("test private key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).expect("signed assertion")
}

async fn request_token(
    sandbox: &RunningSandbox,
    assertion: &str,
    scope: &str,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(sandbox.token_url())
        .form(&[
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", assertion),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("a response from the sandbox");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn token_endpoint_checks_shape_without_key() {
    let sandbox = start(SandboxConfig {
        tokens: vec![Secret::new("configured")],
        token_ttl: Some(Duration::from_secs(120)),
        ..SandboxConfig::default()
    });
    let signed = assertion("any-audience", 600, "throwaway-rsa-private.pem");
    let (status, body) = request_token(&sandbox, &signed, "customers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["expires_in"], json!(120));
    let token = body["access_token"].as_str().expect("a token");
    let query = "filter[businessLocation.id]=AG-SANDBOX";
    assert_eq!(list(&sandbox, token, query).await.status(), StatusCode::OK);

    let hmac = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": "x", "sub": "x", "aud": "x", "exp": 4_000_000_000_u64}),
        &EncodingKey::from_secret(b"not an RSA key").expect("an HMAC key"),
    )
    .expect("signed");
    let (status, body) = request_token(&sandbox, &hmac, "customers").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], json!("invalid_grant"));

    let (status, body) = request_token(&sandbox, "not-a-jwt", "customers").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], json!("invalid_grant"));
    assert_eq!(sandbox.stats().tokens_issued, 1);
}

#[tokio::test]
async fn token_endpoint_verifies_with_public_key() {
    let sandbox = start(SandboxConfig {
        assertion_public_key_pem: Some(key_file("throwaway-rsa-public.pem")),
        assertion_audience: Some("https://iam.example.test".to_owned()),
        ..SandboxConfig::default()
    });
    let good = assertion("https://iam.example.test", 600, "throwaway-rsa-private.pem");
    let (status, body) = request_token(&sandbox, &good, "customers").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let cases = [
        (
            "wrong audience",
            assertion(
                "https://elsewhere.example",
                600,
                "throwaway-rsa-private.pem",
            ),
        ),
        (
            "expired",
            assertion(
                "https://iam.example.test",
                -600,
                "throwaway-rsa-private.pem",
            ),
        ),
        (
            "other key",
            assertion(
                "https://iam.example.test",
                600,
                "throwaway-other-rsa-private.pem",
            ),
        ),
    ];
    for (case, signed) in cases {
        let (status, body) = request_token(&sandbox, &signed, "customers").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body["error"], json!("invalid_grant"), "{case}");
    }
}

#[tokio::test]
async fn token_endpoint_rejects_other_grants_and_honours_scope() {
    let sandbox = start(SandboxConfig::default());
    let response = reqwest::Client::new()
        .post(sandbox.token_url())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("a response from the sandbox");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["error"], json!("unsupported_grant_type"));

    let signed = assertion("any", 600, "throwaway-rsa-private.pem");
    let (status, body) = request_token(&sandbox, &signed, "profile").await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().expect("a token");
    let query = "filter[businessLocation.id]=AG-SANDBOX";
    assert_eq!(
        list(&sandbox, token, query).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[cfg(unix)]
#[tokio::test]
async fn command_serves_and_logs_without_token() {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

    let token = "cli-RECOGNISABLE-token";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_customer-importer"))
        .args(["sandbox", "--port", "0", "--token", token, "--seed", "3"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(WAIT_LIMIT, lines.next_line())
        .await
        .expect("a startup line in time")
        .expect("stdout readable")
        .expect("a startup line");
    assert!(first.contains("with location AG-SANDBOX"), "{first}");
    let base_url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .expect("a base URL")
        .to_owned();
    let rest = tokio::time::timeout(WAIT_LIMIT, async {
        let mut rest = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
            if line.contains("Ctrl-C") {
                break;
            }
        }
        rest
    })
    .await
    .expect("the rest of the startup text in time");
    assert!(rest.contains("kept in memory"), "{rest}");

    let response = reqwest::Client::new()
        .post(format!("{base_url}/customers"))
        .bearer_auth(token)
        .body(create_body("AG-SANDBOX", "a@example.com", "+13065551234").to_string())
        .send()
        .await
        .expect("the command's sandbox answers");
    assert_eq!(response.status(), StatusCode::CREATED);

    let pid = child.id().expect("a running child").to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = tokio::time::timeout(WAIT_LIMIT, child.wait())
        .await
        .expect("the command stops on Ctrl-C")
        .expect("exit status");
    assert!(status.success(), "{status:?}");

    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("stderr readable");
    assert!(stderr.contains("POST"), "{stderr}");
    assert!(stderr.contains("/business/customers"), "{stderr}");
    assert!(stderr.contains("201"), "{stderr}");
    assert!(
        !stderr.contains("RECOGNISABLE"),
        "the token was logged: {stderr}"
    );
}
