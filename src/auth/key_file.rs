//! Service-account key files: reading, validating and holding the JSON the
//! platform issues for a service account.
//!
//! The fields used are `private_key` (PEM, RSA), `private_key_id`,
//! `token_uri` and `assertionPayloadData` with `aud`, `iss` and `sub`.
//! Issued files also carry `type`, `client_email` and
//! `assertionHeaderData` (`alg`, `kid`); those and any other fields are
//! accepted and, apart from the checks below, ignored.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};
use url::Url;

use crate::secret::Secret;

/// Largest file accepted as a key file. Issued key files are 2 to 4 KB;
/// the limit only stops a spreadsheet picked by mistake from being read
/// whole.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Source of a key file's text, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    File(PathBuf),
    /// The copy saved in the keychain.
    Keychain,
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "service-account key file {}", path.display()),
            Self::Keychain => f.write_str("saved service-account key"),
        }
    }
}

/// Error in reading or validating a key file. No variant contains the
/// private key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("could not read service-account key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not a JSON object of reasonable size.
    #[error("{origin}: not a service-account key: {reason}")]
    NotAKeyFile { origin: KeyOrigin, reason: String },
    #[error("{origin}: invalid JSON at line {line}, column {column}")]
    InvalidJson {
        origin: KeyOrigin,
        line: usize,
        column: usize,
    },
    #[error("{origin}: missing field `{field}`")]
    MissingField {
        origin: KeyOrigin,
        field: &'static str,
    },
    #[error("{origin}: invalid field `{field}`: {reason}")]
    InvalidField {
        origin: KeyOrigin,
        field: &'static str,
        reason: String,
    },
}

impl KeyFileError {
    /// Returns the text to show the user: what is wrong and what to do.
    pub fn user_message(&self) -> String {
        const NEW_KEY: &str =
            "Download a new key file for the service account, then choose that file.";
        match self {
            Self::Read { path, source } => format!(
                "Could not open {} ({source}). Check that the file exists and that you may \
                 read it, then choose it again.",
                path.display()
            ),
            Self::NotAKeyFile { origin, reason } => {
                format!("The {origin} is not a service-account key ({reason}). {NEW_KEY}")
            }
            Self::InvalidJson {
                origin,
                line,
                column,
            } => format!(
                "The {origin} is damaged: it is not valid JSON (line {line}, column \
                 {column}). {NEW_KEY}"
            ),
            Self::MissingField { origin, field } => {
                format!("The {origin} has no `{field}` field. {NEW_KEY}")
            }
            Self::InvalidField {
                origin,
                field,
                reason,
            } => format!("The `{field}` field of the {origin} is invalid: {reason}. {NEW_KEY}"),
        }
    }
}

/// A validated service-account key. Its `Debug` hides the private key and
/// the file text.
#[derive(Clone)]
pub struct ServiceAccountKey {
    json: Secret,
    encoding_key: EncodingKey,
    private_key_id: String,
    token_uri: Url,
    audience: String,
    issuer: String,
    subject: String,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri.as_str())
            .field("issuer", &self.issuer)
            .field("private_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Reads and validates the key file at `path`.
    ///
    /// Blocks on disk, so the GUI calls it off the UI thread. Fails when
    /// the file cannot be read, is larger than [`MAX_KEY_FILE_BYTES`], or
    /// fails [`ServiceAccountKey::from_json`].
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let read_error = |source| KeyFileError::Read {
            path: path.to_owned(),
            source,
        };
        let origin = KeyOrigin::File(path.to_owned());
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(KeyFileError::NotAKeyFile {
                origin,
                reason: format!("it is larger than {} KB", MAX_KEY_FILE_BYTES / 1024),
            });
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return Err(KeyFileError::NotAKeyFile {
                origin,
                reason: "it is not UTF-8 text".to_owned(),
            });
        };
        Self::from_json(&Secret::new(text), origin)
    }

    /// Validates key-file text, such as the copy saved in the keychain.
    ///
    /// The error names the field. It fails when a required field is missing
    /// or not text, or when `private_key` is not an unencrypted RSA private
    /// key in PEM form. It also fails when `assertionHeaderData.alg` is
    /// present but not RS256, and when `token_uri` is not https (plain http
    /// is allowed only for a loopback host).
    pub fn from_json(text: &Secret, origin: KeyOrigin) -> Result<Self, KeyFileError> {
        let fields = parse_object(text.expose(), &origin)?;
        let reader = FieldReader {
            fields: &fields,
            origin: &origin,
        };

        let payload = reader.object("assertionPayloadData")?;
        let payload = FieldReader {
            fields: payload,
            origin: &origin,
        };
        let audience = payload.text("aud", "assertionPayloadData.aud")?;
        let issuer = payload.text("iss", "assertionPayloadData.iss")?;
        let subject = payload.text("sub", "assertionPayloadData.sub")?;

        let private_key_id = reader.key_id()?;
        let token_uri = reader.text("token_uri", "token_uri")?;
        let token_uri =
            parse_token_uri(&token_uri).map_err(|reason| reader.invalid("token_uri", reason))?;
        reader.check_algorithm()?;
        let pem = reader.text("private_key", "private_key")?;
        let encoding_key =
            parse_private_key(&pem).map_err(|reason| reader.invalid("private_key", reason))?;

        Ok(Self {
            json: text.clone(),
            encoding_key,
            private_key_id,
            token_uri,
            audience,
            issuer,
            subject,
        })
    }

    /// Returns the file text as it was read, for saving in the keychain.
    pub fn to_secret(&self) -> Secret {
        self.json.clone()
    }

    /// Returns `private_key_id`, sent as the `kid` of each assertion.
    pub fn private_key_id(&self) -> &str {
        &self.private_key_id
    }

    /// Returns the token endpoint, already checked to be https or loopback.
    pub fn token_uri(&self) -> &Url {
        &self.token_uri
    }

    /// Returns `assertionPayloadData.aud`.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Returns `assertionPayloadData.iss`, the service account's identity.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Returns `assertionPayloadData.sub`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding_key
    }
}

/// Parses `text` as a JSON object, dropping a leading byte-order mark that
/// some Windows editors write.
fn parse_object(text: &str, origin: &KeyOrigin) -> Result<Map<String, Value>, KeyFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(KeyFileError::NotAKeyFile {
            origin: origin.clone(),
            reason: "it is empty".to_owned(),
        });
    }
    // serde_json syntax errors carry only a position, never the input.
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(KeyFileError::NotAKeyFile {
            origin: origin.clone(),
            reason: "it is JSON but not an object".to_owned(),
        }),
        Err(error) => Err(KeyFileError::InvalidJson {
            origin: origin.clone(),
            line: error.line(),
            column: error.column(),
        }),
    }
}

/// Reads fields of one JSON object, naming them in errors without ever
/// quoting their values.
struct FieldReader<'a> {
    fields: &'a Map<String, Value>,
    origin: &'a KeyOrigin,
}

impl<'a> FieldReader<'a> {
    fn missing(&self, field: &'static str) -> KeyFileError {
        KeyFileError::MissingField {
            origin: self.origin.clone(),
            field,
        }
    }

    fn invalid(&self, field: &'static str, reason: impl Into<String>) -> KeyFileError {
        KeyFileError::InvalidField {
            origin: self.origin.clone(),
            field,
            reason: reason.into(),
        }
    }

    /// Returns the non-blank text of `name`; `field` is the dotted name for
    /// messages.
    fn text(&self, name: &str, field: &'static str) -> Result<String, KeyFileError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Err(self.missing(field)),
            Some(Value::String(text)) if text.trim().is_empty() => {
                Err(self.invalid(field, "it is empty"))
            }
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err(self.invalid(field, "it must be text")),
        }
    }

    fn object(&self, name: &'static str) -> Result<&'a Map<String, Value>, KeyFileError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Err(self.missing(name)),
            Some(Value::Object(fields)) => Ok(fields),
            Some(_) => Err(self.invalid(name, "it must be an object with aud, iss and sub")),
        }
    }

    /// Returns `private_key_id`, or `assertionHeaderData.kid` in a file
    /// that has only that.
    fn key_id(&self) -> Result<String, KeyFileError> {
        match self.text("private_key_id", "private_key_id") {
            Err(KeyFileError::MissingField { .. }) => {
                let Ok(header) = self.object("assertionHeaderData") else {
                    return Err(self.missing("private_key_id"));
                };
                let header = FieldReader {
                    fields: header,
                    origin: self.origin,
                };
                header
                    .text("kid", "assertionHeaderData.kid")
                    .map_err(|_| self.missing("private_key_id"))
            }
            other => other,
        }
    }

    /// Rejects a file whose `assertionHeaderData.alg` names an algorithm
    /// other than RS256, the only one implemented.
    fn check_algorithm(&self) -> Result<(), KeyFileError> {
        let Some(Value::Object(header)) = self.fields.get("assertionHeaderData") else {
            return Ok(());
        };
        match header.get("alg") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(alg)) if alg == "RS256" => Ok(()),
            Some(Value::String(alg)) => Err(self.invalid(
                "assertionHeaderData.alg",
                format!("'{alg}' is not supported; only RS256 keys are"),
            )),
            Some(_) => Err(self.invalid("assertionHeaderData.alg", "it must be text")),
        }
    }
}

/// Parses a token endpoint, which must be https unless its host is
/// loopback (`127.0.0.1`, `::1` or `localhost`), as in tests and the
/// sandbox.
pub fn parse_token_uri(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|error| format!("it is not a URL ({error})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "'{url}' uses plain http, which would send the sign-in unencrypted; only https is \
             allowed"
        )),
        scheme => Err(format!("'{url}' is a {scheme} URL; only https is allowed")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Parses a PEM RSA private key and signs a throw-away message with it, so
/// a key that parses but cannot sign fails here rather than at sign-in.
/// Reasons never quote the key.
fn parse_private_key(pem: &str) -> Result<EncodingKey, String> {
    // A key pasted through a tool that escaped it twice has literal `\n`
    // sequences in place of line breaks.
    let pem = if pem.contains('\n') {
        pem.to_owned()
    } else {
        pem.replace("\\n", "\n")
    };
    if pem.contains("-----BEGIN ENCRYPTED") {
        return Err(
            "the private key is encrypted with a passphrase; use the unencrypted key \
                    file the platform issued"
                .to_owned(),
        );
    }
    if !pem.contains("-----BEGIN") {
        return Err("it is not a PEM private key (no -----BEGIN line)".to_owned());
    }
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|_| "it is not an RSA private key in PEM form".to_owned())?;
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let claims = serde_json::json!({ "iat": issued_at });
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
        .map_err(|error| format!("the RSA key cannot sign ({error})"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_uri_rules() {
        assert!(parse_token_uri("https://sso-api-prod.apigateway.co/oauth2/token").is_ok());
        assert!(parse_token_uri("http://127.0.0.1:8080/oauth2/token").is_ok());
        assert!(parse_token_uri("http://[::1]:8080/oauth2/token").is_ok());
        assert!(parse_token_uri("http://localhost/oauth2/token").is_ok());
        let plain = parse_token_uri("http://sso-api-prod.apigateway.co/oauth2/token");
        assert!(plain.expect_err("plain http").contains("plain http"));
        let ftp = parse_token_uri("ftp://example.com/token");
        assert!(ftp.expect_err("ftp").contains("ftp URL"));
        let relative = parse_token_uri("/oauth2/token");
        assert!(
            relative
                .expect_err("relative")
                .starts_with("it is not a URL")
        );
    }

    #[test]
    fn private_key_rejects_non_pem() {
        let error = parse_private_key("not a key").expect_err("not pem");
        assert_eq!(error, "it is not a PEM private key (no -----BEGIN line)");
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let error = parse_private_key(encrypted).expect_err("encrypted");
        assert!(error.contains("encrypted with a passphrase"));
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let error = parse_private_key(garbage).expect_err("garbage");
        assert_eq!(error, "it is not an RSA private key in PEM form");
    }

    #[test]
    fn origin_display() {
        let file = KeyOrigin::File(PathBuf::from("/tmp/key.json"));
        assert_eq!(file.to_string(), "service-account key file /tmp/key.json");
        assert_eq!(KeyOrigin::Keychain.to_string(), "saved service-account key");
    }

    #[test]
    fn blank_and_non_object_text() {
        let empty = ServiceAccountKey::from_json(&Secret::new(" \n"), KeyOrigin::Keychain);
        assert!(matches!(empty, Err(KeyFileError::NotAKeyFile { .. })));
        let array = ServiceAccountKey::from_json(&Secret::new("[1, 2]"), KeyOrigin::Keychain);
        assert_eq!(
            array.expect_err("array").to_string(),
            "saved service-account key: not a service-account key: it is JSON but not an object"
        );
        let broken =
            ServiceAccountKey::from_json(&Secret::new("{\n  \"a\": }"), KeyOrigin::Keychain);
        assert_eq!(
            broken.expect_err("broken").to_string(),
            "saved service-account key: invalid JSON at line 2, column 8"
        );
    }
}
