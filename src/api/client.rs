//! The HTTP side of the client: base URL checks, the reqwest setup
//! (timeouts, redirect policy, User-Agent) and one function per operation.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, redirect};
use serde_json::Value;
use url::{Host, Url};

use super::error::{self, ApiError, ErrorContext, RequestSummary, Resource};
use super::wire::{self, JSON_API};
use super::{ClientOptions, Cursor, CustomerPatch, CustomerRecord, Page};
use crate::customer::Customer;
use crate::secret::Secret;

/// Maximum number of same-host redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// A connection to one environment's customers API with one token.
///
/// Clones share the connection pool and the token, so [`Client::set_token`]
/// on one clone applies to all of them.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `{base_url}/customers`.
    customers_url: Url,
    base_url: String,
    host: String,
    token: RwLock<Secret>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Makes a client for `base_url` such as `https://prod.apigateway.co/business`.
    ///
    /// Fails with [`ApiError::InvalidBaseUrl`] for a URL that is not
    /// `http(s)`, carries a user name, password, query or fragment, and with
    /// [`ApiError::InsecureBaseUrl`] for plain `http://` to a host other than
    /// loopback (`127.0.0.0/8`, `::1`, `localhost`).
    pub fn new(base_url: &str, token: Secret, options: ClientOptions) -> Result<Self, ApiError> {
        let base = parse_base_url(base_url)?;
        let loopback = is_loopback(&base);
        let mut customers_url = base.clone();
        customers_url
            .path_segments_mut()
            .map_err(|()| invalid_url(&base, "it cannot have a path"))?
            .pop_if_empty()
            .push("customers");

        let connect_timeout = options.connect_timeout.min(options.timeout);
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("customer-importer/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(connect_timeout)
            .redirect(same_origin_redirects());
        if loopback {
            // A system proxy cannot reach this computer's loopback address.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|err| {
            invalid_url(&base, &format!("the HTTP client could not start: {err}"))
        })?;

        Ok(Self {
            inner: Arc::new(Inner {
                http,
                customers_url,
                base_url: base.as_str().trim_end_matches('/').to_owned(),
                host: host_with_port(&base),
                token: RwLock::new(token),
                timeout: options.timeout,
            }),
        })
    }

    /// Returns the base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Returns the host (and `:port` when the URL names one) the client
    /// sends to, as errors name it.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// Replaces the token for the requests that follow, on every clone.
    pub fn set_token(&self, token: Secret) {
        // A poisoned lock only means a writer panicked while swapping the
        // whole value, so the value inside is still a complete token.
        let mut slot = self
            .inner
            .token
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = token;
    }

    /// Creates a customer in a business location (`POST /customers`) and
    /// returns the record the server made.
    ///
    /// A failure with [`ApiError::may_have_reached_server`] true leaves it
    /// unknown whether the customer was created.
    pub async fn create_customer(
        &self,
        location: &str,
        customer: &Customer,
    ) -> Result<CustomerRecord, ApiError> {
        let context = self.context(
            Method::POST,
            Some(location),
            Resource::Location(location.to_owned()),
        );
        let body = wire::create_body(location, customer);
        let url = self.inner.customers_url.clone();
        let (status, bytes) = self.send(&context, url, Some(body)).await?;
        wire::parse_single(&bytes, context.location.as_deref())
            .map_err(|reason| invalid_response(&context, status, reason))
    }

    /// Lists one page of a location's customers (`GET /customers`), newest
    /// first. Pass the `next_cursor` of the previous page to get the next.
    ///
    /// `limit` is the page size requested; the server may return fewer.
    pub async fn list_customers(
        &self,
        location: &str,
        limit: u32,
        cursor: Option<&Cursor>,
    ) -> Result<Page, ApiError> {
        let context = self.context(
            Method::GET,
            Some(location),
            Resource::Location(location.to_owned()),
        );
        let url = match cursor {
            Some(Cursor::Url(url)) => url.clone(),
            Some(Cursor::Token(token)) => self.list_url(location, limit, Some(token)),
            None => self.list_url(location, limit, None),
        };
        let (status, bytes) = self.send(&context, url.clone(), None).await?;
        let document = wire::parse_list(&bytes, Some(location))
            .map_err(|reason| invalid_response(&context, status, reason))?;
        let next_cursor = match document.next {
            Some(href) => Some(
                self.cursor_from_link(&url, &href)
                    .map_err(|reason| invalid_response(&context, status, reason))?,
            ),
            None => None,
        };
        Ok(Page {
            customers: document.customers,
            next_cursor,
        })
    }

    /// Lists every customer of a location, following `links.next` page by
    /// page with pages of `page_size`.
    ///
    /// Fails with [`ApiError::InvalidResponse`] when the server returns a
    /// `links.next` it already returned, which would otherwise loop forever.
    pub async fn list_all_customers(
        &self,
        location: &str,
        page_size: u32,
    ) -> Result<Vec<CustomerRecord>, ApiError> {
        let mut customers = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = self
                .list_customers(location, page_size, cursor.as_ref())
                .await?;
            customers.extend(page.customers);
            let Some(next) = page.next_cursor else {
                return Ok(customers);
            };
            if !seen.insert(next.clone()) {
                let context = self.context(
                    Method::GET,
                    Some(location),
                    Resource::Location(location.to_owned()),
                );
                return Err(invalid_response(
                    &context,
                    StatusCode::OK,
                    "links.next repeats".to_owned(),
                ));
            }
            cursor = Some(next);
        }
    }

    /// Fetches one customer (`GET /customers/{id}`) by its full id such as
    /// `AG-123:CUSTOMER-456`.
    pub async fn get_customer(&self, id: &str) -> Result<CustomerRecord, ApiError> {
        let context = self.customer_context(Method::GET, id);
        let url = self.customer_url(id);
        let (status, bytes) = self.send(&context, url, None).await?;
        wire::parse_single(&bytes, context.location.as_deref())
            .map_err(|reason| invalid_response(&context, status, reason))
    }

    /// Changes the attributes a patch names (`PATCH /customers/{id}`) and
    /// returns the updated record. The same conflict rules as for a create
    /// apply to added emails and phones.
    pub async fn update_customer(
        &self,
        id: &str,
        patch: &CustomerPatch,
    ) -> Result<CustomerRecord, ApiError> {
        let context = self.customer_context(Method::PATCH, id);
        let body = wire::update_body(id, patch.to_attributes());
        let url = self.customer_url(id);
        let (status, bytes) = self.send(&context, url, Some(body)).await?;
        wire::parse_single(&bytes, context.location.as_deref())
            .map_err(|reason| invalid_response(&context, status, reason))
    }

    /// Deletes one customer (`DELETE /customers/{id}`) by its full id.
    pub async fn delete_customer(&self, id: &str) -> Result<(), ApiError> {
        let context = self.customer_context(Method::DELETE, id);
        let url = self.customer_url(id);
        self.send(&context, url, None).await.map(|_| ())
    }

    /// Verifies the token and the business location with a one-customer
    /// list request. The error's [`ApiError::user_message`] states in plain
    /// words what is wrong: an expired or invalid token (`Unauthorized`), a
    /// missing `customers` scope (`Forbidden`), an unknown location
    /// (`NotFound`) or no network (`ConnectionFailed`, `TimedOut`).
    pub async fn check_access(&self, location: &str) -> Result<(), ApiError> {
        self.list_customers(location, 1, None).await.map(|_| ())
    }

    fn context(&self, method: Method, location: Option<&str>, resource: Resource) -> ErrorContext {
        ErrorContext {
            request: RequestSummary {
                method,
                host: self.inner.host.clone(),
            },
            location: location.map(str::to_owned),
            resource,
        }
    }

    fn customer_context(&self, method: Method, id: &str) -> ErrorContext {
        let location = id.split_once(':').map(|(location, _)| location);
        self.context(method, location, Resource::Customer(id.to_owned()))
    }

    fn customer_url(&self, id: &str) -> Url {
        let mut url = self.inner.customers_url.clone();
        // `customers_url` came out of `path_segments_mut` in `new`, so it
        // has segments and this cannot fail.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(id);
        }
        url
    }

    fn list_url(&self, location: &str, limit: u32, cursor: Option<&str>) -> Url {
        let mut url = self.inner.customers_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("filter[businessLocation.id]", location);
            query.append_pair("page[limit]", &limit.to_string());
            if let Some(cursor) = cursor {
                query.append_pair("page[cursor]", cursor);
            }
        }
        url
    }

    /// Turns `links.next` into a cursor: the `page[cursor]` value when the
    /// link has one, else the link itself, which must stay on the host of
    /// the base URL so the token is not sent elsewhere.
    fn cursor_from_link(&self, current: &Url, href: &str) -> Result<Cursor, String> {
        let next = current
            .join(href.trim())
            .map_err(|err| format!("links.next is not a URL: {err}"))?;
        if let Some((_, token)) = next.query_pairs().find(|(key, _)| key == "page[cursor]") {
            return Ok(Cursor::Token(token.into_owned()));
        }
        if next.origin() != self.inner.customers_url.origin() {
            return Err(format!(
                "links.next points at another host ({})",
                host_with_port(&next)
            ));
        }
        Ok(Cursor::Url(next))
    }

    /// Sends one request and returns the status and body of a `2xx`
    /// response; any other outcome becomes an [`ApiError`].
    async fn send(
        &self,
        context: &ErrorContext,
        url: Url,
        body: Option<Value>,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let authorization = self.authorization(context)?;
        let method = context.request.method.clone();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, JSON_API);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, JSON_API)
                .body(body.to_string());
        }

        let started = Instant::now();
        let outcome = self.receive(context, request).await;
        let elapsed_ms = started.elapsed().as_millis();
        match &outcome {
            Ok((status, _)) => {
                tracing::debug!(%method, path = url.path(), status = status.as_u16(), elapsed_ms, "API request");
            }
            Err(err) => {
                tracing::debug!(%method, path = url.path(), elapsed_ms, error = %err.log_summary(), "API request failed");
            }
        }
        outcome
    }

    async fn receive(
        &self,
        context: &ErrorContext,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let transport = |err: reqwest::Error| {
            error::from_transport(context.request.clone(), &err, self.inner.timeout)
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok((status, bytes.to_vec()));
        }
        let body = self.redact_token(&bytes);
        Err(error::from_response(context, status, &headers, &body))
    }

    /// Returns an error body with every copy of the token replaced, because
    /// a careless server may echo request headers into its error text.
    fn redact_token(&self, body: &[u8]) -> Vec<u8> {
        let token = self
            .inner
            .token
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let token = token.expose().trim();
        let text = String::from_utf8_lossy(body);
        if token.is_empty() || !text.contains(token) {
            return body.to_vec();
        }
        text.replace(token, "<redacted>").into_bytes()
    }

    /// Builds the `Authorization` header, marked sensitive so that reqwest
    /// and hyper leave it out of their `Debug` output.
    fn authorization(&self, context: &ErrorContext) -> Result<HeaderValue, ApiError> {
        let token = self
            .inner
            .token
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose().trim()))
            .map_err(|_| ApiError::InvalidToken {
                request: context.request.clone(),
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// Follows a redirect only to the same scheme, host and port, and only
/// with `307` or `308`, which keep the method and body. Any other redirect
/// comes back as the response and becomes [`ApiError::Redirected`].
fn same_origin_redirects() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        let keeps_method = matches!(attempt.status().as_u16(), 307 | 308);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if same_origin && keeps_method {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn parse_base_url(base_url: &str) -> Result<Url, ApiError> {
    let text = base_url.trim();
    let url = Url::parse(text).map_err(|err| ApiError::InvalidBaseUrl {
        url: without_userinfo(text),
        reason: err.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        let mut redacted = url.clone();
        // Neither call can fail on an http(s) URL; the user name and
        // password must not reach the error text either way.
        redacted.set_username("").ok();
        redacted.set_password(None).ok();
        return Err(invalid_url(
            &redacted,
            "remove the user name and password from the address",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ApiError::InsecureBaseUrl {
                url: url.to_string(),
                host: url.host_str().unwrap_or_default().to_owned(),
            });
        }
        other => {
            return Err(invalid_url(
                &url,
                &format!("the scheme {other} is not http or https"),
            ));
        }
    }
    if url.host().is_none() {
        return Err(invalid_url(&url, "it names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid_url(&url, "remove the part after ? or #"));
    }
    Ok(url)
}

/// Returns a URL text that failed to parse with any `user:password@` part
/// of its authority replaced, so a password never reaches an error text.
fn without_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>{}", &rest[at..]),
        None => text.to_owned(),
    }
}

fn invalid_url(url: &Url, reason: &str) -> ApiError {
    ApiError::InvalidBaseUrl {
        url: url.to_string(),
        reason: reason.to_owned(),
    }
}

/// Returns whether the URL's host is this computer: `127.0.0.0/8`, `::1`
/// or the name `localhost`. Only there may plain `http://` carry a token,
/// and only there can the sandbox be running.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn host_with_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn invalid_response(context: &ErrorContext, status: StatusCode, reason: String) -> ApiError {
    ApiError::InvalidResponse {
        request: context.request.clone(),
        status: status.as_u16(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base_url: &str) -> Result<Client, ApiError> {
        Client::new(base_url, Secret::new("t"), ClientOptions::default())
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for url in [
            "http://127.0.0.1:8080/business",
            "http://127.3.2.1/business",
            "http://[::1]:9/business",
            "http://LOCALHOST:8080/business",
            "https://prod.apigateway.co/business",
        ] {
            assert!(client(url).is_ok(), "{url} should be accepted");
        }
        for url in [
            "http://prod.apigateway.co/business",
            "http://10.0.0.1/business",
        ] {
            assert!(
                matches!(client(url), Err(ApiError::InsecureBaseUrl { .. })),
                "{url} should be rejected"
            );
        }
    }

    #[test]
    fn malformed_base_urls_rejected() {
        for url in [
            "prod.apigateway.co/business",
            "ftp://example.com/business",
            "https://example.com/business?x=1",
        ] {
            assert!(
                matches!(client(url), Err(ApiError::InvalidBaseUrl { .. })),
                "{url} should be rejected"
            );
        }
    }

    #[test]
    fn credentials_in_url_not_echoed() {
        let Err(error) = client("https://user:hunter2@example.com/business") else {
            panic!("a URL with a password must be rejected");
        };
        assert!(!error.to_string().contains("hunter2"));
        assert!(!error.user_message().contains("hunter2"));
    }

    #[test]
    fn unparsable_url_hides_password() {
        let Err(error) = client("https://user:hunter2@exa mple.com/business") else {
            panic!("a URL with a space in the host must be rejected");
        };
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert_eq!(without_userinfo("https://h/p@q"), "https://h/p@q");
        assert_eq!(without_userinfo("no scheme"), "no scheme");
    }

    #[test]
    fn endpoints_built_from_base_url() {
        let client = client("https://example.com/business/").expect("client");
        assert_eq!(client.base_url(), "https://example.com/business");
        assert_eq!(
            client.customer_url("AG-1:CUSTOMER-2").as_str(),
            "https://example.com/business/customers/AG-1:CUSTOMER-2"
        );
        let list = client.list_url("AG-1", 100, Some("c/2"));
        assert_eq!(
            list.query(),
            Some("filter%5BbusinessLocation.id%5D=AG-1&page%5Blimit%5D=100&page%5Bcursor%5D=c%2F2")
        );
    }

    #[test]
    fn cursor_from_link_forms() {
        let client = client("https://example.com/business").expect("client");
        let current = client.list_url("AG-1", 10, None);
        let token = client
            .cursor_from_link(&current, "/business/customers?page[cursor]=abc")
            .expect("cursor");
        assert_eq!(token, Cursor::Token("abc".to_owned()));
        let url = client
            .cursor_from_link(&current, "https://example.com/business/customers?after=9")
            .expect("cursor");
        assert!(matches!(url, Cursor::Url(_)));
        assert!(
            client
                .cursor_from_link(&current, "https://elsewhere.example/customers?after=9")
                .is_err()
        );
    }

    #[test]
    fn debug_hides_token() {
        let client = Client::new(
            "https://example.com/business",
            Secret::new("very-secret-token-value"),
            ClientOptions::default(),
        )
        .expect("client");
        assert!(!format!("{client:?}").contains("very-secret"));
    }
}
