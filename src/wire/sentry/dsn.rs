//! A Sentry DSN: `<scheme>://<public key>[:<secret key>]@<host>[:<port>][/<path>]/<project id>`,
//! and what a client derives from it: the envelope endpoint and the
//! `X-Sentry-Auth` header.

use std::fmt;

/// What identifies this client in `X-Sentry-Auth`.
pub(crate) const CLIENT: &str = concat!("sekoia-automation.rust/", env!("CARGO_PKG_VERSION"));

/// A parsed DSN.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Dsn {
    scheme: String,
    public_key: String,
    secret_key: Option<String>,
    /// `host[:port]`, as written.
    authority: String,
    /// The path before the project id, with its leading and trailing `/`.
    path: String,
    project_id: String,
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dsn")
            .field("endpoint", &self.envelope_url())
            .finish_non_exhaustive()
    }
}

impl Dsn {
    /// Parses `text` (surrounding whitespace ignored). The error says what
    /// is wrong without repeating the keys.
    pub(crate) fn parse(text: &str) -> Result<Dsn, String> {
        let text = text.trim();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("it has no `<scheme>://` (expected `https://<key>@<host>/<project id>`)")?;
        if !matches!(scheme, "http" | "https") {
            return Err(format!(
                "its scheme `{scheme}` is neither `http` nor `https`"
            ));
        }
        let (keys, rest) = rest
            .split_once('@')
            .ok_or("it has no `<key>@` before the host")?;
        let (public_key, secret_key) = match keys.split_once(':') {
            Some((public, secret)) => (public, Some(secret.to_string())),
            None => (keys, None),
        };
        if public_key.is_empty() {
            return Err("its public key (before `@`) is empty".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err("it has no host".into());
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.trim_end_matches('/');
        let (prefix, project_id) = path.rsplit_once('/').unwrap_or(("", ""));
        if project_id.is_empty() || !project_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("its path does not end with a project id (`/<project id>`)".into());
        }
        Ok(Dsn {
            scheme: scheme.to_string(),
            public_key: public_key.to_string(),
            secret_key,
            authority: authority.to_string(),
            path: format!("{prefix}/"),
            project_id: project_id.to_string(),
        })
    }

    /// `<scheme>://<host>[:<port>][/<path>]/api/<project id>/envelope/`.
    pub(crate) fn envelope_url(&self) -> String {
        format!(
            "{}://{}{}api/{}/envelope/",
            self.scheme, self.authority, self.path, self.project_id
        )
    }

    /// The value of `X-Sentry-Auth`, as the Python SDK writes it.
    pub(crate) fn auth_header(&self) -> String {
        let mut header = format!(
            "Sentry sentry_key={}, sentry_version=7, sentry_client={CLIENT}",
            self.public_key
        );
        if let Some(secret) = &self.secret_key {
            header.push_str(", sentry_secret=");
            header.push_str(secret);
        }
        header
    }

    /// The secret key of an old-style DSN (`<public>:<secret>@`), to scrub.
    pub(crate) fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_and_header_of_a_dsn() {
        let dsn = Dsn::parse("https://abc123@o1.ingest.sentry.io/42\n").unwrap();
        assert_eq!(
            dsn.envelope_url(),
            "https://o1.ingest.sentry.io/api/42/envelope/"
        );
        assert_eq!(
            dsn.auth_header(),
            format!("Sentry sentry_key=abc123, sentry_version=7, sentry_client={CLIENT}")
        );
        let dsn = Dsn::parse("http://pub:sec@127.0.0.1:9000/sentry/7").unwrap();
        assert_eq!(
            dsn.envelope_url(),
            "http://127.0.0.1:9000/sentry/api/7/envelope/"
        );
        assert!(dsn.auth_header().ends_with(", sentry_secret=sec"));
        assert_eq!(dsn.secret_key(), Some("sec"));
        assert!(!format!("{dsn:?}").contains("pub"));
    }

    #[test]
    fn a_malformed_dsn_says_what_is_wrong_without_its_keys() {
        for (text, expected) in [
            ("not a dsn", "no `<scheme>://`"),
            ("ftp://k@h/1", "scheme `ftp`"),
            ("https://h/1", "no `<key>@`"),
            ("https://@h/1", "public key"),
            ("https://key-value@/1", "no host"),
            ("https://key-value@h", "project id"),
            ("https://key-value@h/", "project id"),
        ] {
            let error = Dsn::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("key-value"), "{error}");
        }
    }
}
