//! [`Auth`]: how the client authenticates to the vendor, from [`Secret`] values.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Secret;

/// How a [`VendorClient`](super::VendorClient) authenticates: built from
/// [`Secret`] values, never printed (`Debug` shows the scheme only), and
/// scrubbed from the client's error messages.
///
/// ```
/// use sekoia_automation::Secret;
/// use sekoia_automation::vendor::{Auth, OAuth2ClientCredentials};
///
/// let key = Secret::new("k-123".to_string());
/// let by_header = Auth::api_key_header("X-Api-Key", key.clone());
/// assert_eq!(format!("{by_header:?}"), "Auth::ApiKeyHeader(X-Api-Key)");
/// let oauth = Auth::oauth2(OAuth2ClientCredentials::new(
///     "https://login.example.com/oauth2/token",
///     "client-id",
///     Secret::new("client-secret".to_string()),
/// ).scope("read:alerts"));
/// # let _ = (Auth::bearer(key.clone()), Auth::basic("user", key), oauth);
/// ```
#[derive(Clone)]
pub struct Auth(pub(crate) AuthKind);

#[derive(Clone)]
pub(crate) enum AuthKind {
    Bearer(Secret<String>),
    Basic {
        header: Secret<String>,
        password: Secret<String>,
    },
    Header(String, Secret<String>),
    Query(String, Secret<String>),
    OAuth2(Arc<OAuth2State>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            AuthKind::Bearer(_) => f.write_str("Auth::Bearer"),
            AuthKind::Basic { .. } => f.write_str("Auth::Basic"),
            AuthKind::Header(name, _) => write!(f, "Auth::ApiKeyHeader({name})"),
            AuthKind::Query(name, _) => write!(f, "Auth::ApiKeyQuery({name})"),
            AuthKind::OAuth2(state) => write!(f, "Auth::OAuth2({})", state.config.token_url),
        }
    }
}

impl Auth {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: Secret<String>) -> Self {
        Auth(AuthKind::Bearer(Secret::new(format!(
            "Bearer {}",
            token.expose()
        ))))
    }

    /// `Authorization: Basic <base64(username:password)>`, encoded in
    /// Latin-1 as `requests` does when every character fits, else in UTF-8.
    pub fn basic(username: impl AsRef<str>, password: Secret<String>) -> Self {
        Auth(AuthKind::Basic {
            header: Secret::new(basic_header(username.as_ref(), password.expose())),
            password,
        })
    }

    /// The key in a header of the vendor's choice (`X-Api-Key: <key>`).
    pub fn api_key_header(header: impl Into<String>, key: Secret<String>) -> Self {
        Auth(AuthKind::Header(header.into(), key))
    }

    /// The key in a query parameter (`?api_key=<key>`); scrubbed from errors.
    pub fn api_key_query(parameter: impl Into<String>, key: Secret<String>) -> Self {
        Auth(AuthKind::Query(parameter.into(), key))
    }

    /// OAuth2 client-credentials tokens, fetched when first needed and
    /// refreshed before they expire (see [`OAuth2ClientCredentials`]).
    pub fn oauth2(credentials: OAuth2ClientCredentials) -> Self {
        Auth(AuthKind::OAuth2(Arc::new(OAuth2State {
            config: credentials,
            token: Mutex::new(None),
        })))
    }

    /// The secret values this authentication may put on the wire, and
    /// those they are made of: a header's value with and without its scheme
    /// (`Bearer t`, `t`), a basic password and its base64 `user:password`,
    /// an OAuth2 client secret, the base64 `id:secret` of the token
    /// request, and the current token.
    pub(crate) fn secret_values(&self) -> Vec<String> {
        let with_bare = |header: &str, values: &mut Vec<String>| {
            values.push(header.to_string());
            if let Some((_, bare)) = header.split_once(' ') {
                values.push(bare.to_string());
            }
        };
        let mut values = Vec::new();
        match &self.0 {
            AuthKind::Bearer(value) => with_bare(value.expose(), &mut values),
            AuthKind::Basic { header, password } => {
                with_bare(header.expose(), &mut values);
                values.push(password.expose().clone());
            }
            AuthKind::Header(_, key) | AuthKind::Query(_, key) => values.push(key.expose().clone()),
            AuthKind::OAuth2(state) => {
                let config = &state.config;
                values.push(config.client_secret.expose().clone());
                with_bare(
                    &basic_header(&config.client_id, config.client_secret.expose()),
                    &mut values,
                );
                if let Some(token) = state.cached() {
                    with_bare(&token, &mut values);
                }
            }
        }
        values
    }
}

/// The value of a basic `Authorization` header.
pub(crate) fn basic_header(username: &str, password: &str) -> String {
    let joined = format!("{username}:{password}");
    let bytes: Vec<u8> = if joined.chars().all(|c| (c as u32) < 0x100) {
        joined.chars().map(|c| c as u32 as u8).collect()
    } else {
        joined.into_bytes()
    };
    format!("Basic {}", STANDARD.encode(bytes))
}

/// How to get OAuth2 access tokens with the client-credentials grant
/// (RFC 6749 §4.4): `POST token_url` with
/// `grant_type=client_credentials[&scope=…]`, the client's id and secret
/// in a basic `Authorization` header (or in the form, with
/// [`credentials_in_body`](Self::credentials_in_body)).
///
/// A token is used until `refresh_before` (default 60 s, at most half its
/// lifetime) ahead of its `expires_in`, then a new one is fetched before the
/// request: never a request with an expired token (the Python refresher
/// uses a token until one second *after* it expired). A `401` answer drops
/// the token and the request is sent once more with a fresh one.
#[derive(Clone)]
pub struct OAuth2ClientCredentials {
    pub(crate) token_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret<String>,
    pub(crate) scope: Option<String>,
    pub(crate) refresh_before: Duration,
    pub(crate) credentials_in_body: bool,
    pub(crate) extra: Vec<(String, String)>,
}

impl fmt::Debug for OAuth2ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl OAuth2ClientCredentials {
    /// Tokens from `token_url` for this client.
    pub fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret<String>,
    ) -> Self {
        OAuth2ClientCredentials {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret,
            scope: None,
            refresh_before: Duration::from_secs(60),
            credentials_in_body: false,
            extra: Vec::new(),
        }
    }

    /// Asks for this scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds a form field to the token request (`audience`, `resource`...).
    pub fn form_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Sends `client_id` and `client_secret` in the form instead of a basic header.
    pub fn credentials_in_body(mut self) -> Self {
        self.credentials_in_body = true;
        self
    }

    /// How long before its expiry a token is replaced (default 60 s; never
    /// more than half the token's lifetime).
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// The form body of the token request.
    pub(crate) fn form(&self) -> String {
        let mut fields: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            fields.push(("scope", scope));
        }
        if self.credentials_in_body {
            fields.push(("client_id", &self.client_id));
            fields.push(("client_secret", self.client_secret.expose()));
        }
        for (name, value) in &self.extra {
            fields.push((name, value));
        }
        fields
            .iter()
            .map(|(name, value)| {
                format!(
                    "{}={}",
                    super::url::quote_plus(name),
                    super::url::quote_plus(value)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub(crate) struct OAuth2State {
    pub(crate) config: OAuth2ClientCredentials,
    token: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    value: Secret<String>,
    refresh_at: Option<Instant>,
}

impl OAuth2State {
    /// The cached token's header value, if it is still fresh at `now`.
    pub(crate) fn fresh(&self, now: Instant) -> Option<String> {
        let token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        token
            .as_ref()
            .filter(|token| token.refresh_at.is_none_or(|at| now < at))
            .map(|token| token.value.expose().clone())
    }

    fn cached(&self) -> Option<String> {
        let token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        token.as_ref().map(|token| token.value.expose().clone())
    }

    /// Keeps a token fetched at `fetched_at` valid for `expires_in`.
    pub(crate) fn store(
        &self,
        access_token: &str,
        expires_in: Option<Duration>,
        fetched_at: Instant,
    ) -> String {
        let header = format!("Bearer {access_token}");
        let refresh_at = expires_in.map(|lifetime| {
            let margin = self.config.refresh_before.min(lifetime / 2);
            fetched_at + (lifetime - margin)
        });
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = Some(CachedToken {
            value: Secret::new(header.clone()),
            refresh_at,
        });
        header
    }

    /// Forgets the token (the vendor answered 401 with it).
    pub(crate) fn invalidate(&self, header: &str) {
        let mut token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        if token
            .as_ref()
            .is_some_and(|token| token.value.expose() == header)
        {
            *token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_is_latin1_when_it_fits() {
        // requests: _basic_auth_str("user", "pässword") encodes Latin-1.
        assert_eq!(
            basic_header("user", "pässword"),
            "Basic dXNlcjpw5HNzd29yZA=="
        );
        assert_eq!(basic_header("u", "€"), "Basic dTrigqw=");
    }

    #[test]
    fn a_token_is_refreshed_before_it_expires() {
        let auth = Auth::oauth2(
            OAuth2ClientCredentials::new("http://127.0.0.1:1/token", "id", Secret::new("s".into()))
                .refresh_before(Duration::from_secs(60)),
        );
        let AuthKind::OAuth2(state) = &auth.0 else {
            unreachable!()
        };
        let start = Instant::now();
        assert_eq!(state.fresh(start), None);
        state.store("t1", Some(Duration::from_secs(3600)), start);
        assert_eq!(
            state.fresh(start + Duration::from_secs(3539)).as_deref(),
            Some("Bearer t1")
        );
        assert_eq!(state.fresh(start + Duration::from_secs(3540)), None);
        // A short-lived token is kept for half its life at least.
        state.store("t2", Some(Duration::from_secs(10)), start);
        assert!(state.fresh(start + Duration::from_secs(4)).is_some());
        assert!(state.fresh(start + Duration::from_secs(5)).is_none());
        state.store("t3", None, start);
        state.invalidate("Bearer t3");
        assert_eq!(state.fresh(start), None);
    }
}
