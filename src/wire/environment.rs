//! What the container's environment says about connections to the platform
//! and the intake, read as the Python SDK's `requests` reads it, so that a
//! module that ran behind a proxy or a TLS-inspecting gateway keeps working
//! when ported.
//!
//! - **Certificate authorities**: the PEM bundle (a file, or a directory of
//!   files) named by `REQUESTS_CA_BUNDLE`, else `CURL_CA_BUNDLE` (what
//!   `requests` reads), else `SSL_CERT_FILE` (what Python's `ssl`, `aiohttp`
//!   and OpenSSL read; `requests` itself does not), replaces the built-in
//!   roots, as a bundle given to `requests` replaces `certifi`'s. An empty
//!   variable counts as unset. A bundle that cannot be read, or holds no
//!   certificate, fails every request at once with its variable and path.
//! - **Proxies**, per URL scheme: `https_proxy` for `https://` URLs,
//!   `http_proxy` for `http://` ones, `all_proxy` when that one is not set;
//!   the lower-case variable wins over the upper-case one, and a lower-case
//!   variable set empty turns the proxy off (`urllib.request.getproxies`).
//!   HTTPS goes through the proxy with `CONNECT`; a proxy URL without a
//!   scheme is `http://`. `no_proxy` (else `NO_PROXY`) lists the hosts
//!   reached directly: `*` for all; a host name matching an entry or ending
//!   with `.entry` (a leading dot is ignored), with or without its port;
//!   an IPv4 address equal to an entry or inside an entry's CIDR range.
//! - **A refused certificate** is an error that says so and why, and is not
//!   retried: the next attempt would be refused the same way.

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use ureq::Proxy;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// The variables naming a certificate authority bundle, first set wins.
pub(crate) const BUNDLE_VARIABLES: [&str; 3] =
    ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"];

/// The connection settings of the process's environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    /// The bundle's certificates, or why they cannot be used.
    roots: Option<Result<Arc<Vec<Certificate<'static>>>, BundleError>>,
    http_proxy: Option<Result<Proxy, String>>,
    https_proxy: Option<Result<Proxy, String>>,
    no_proxy: Option<String>,
}

/// A certificate authority bundle that cannot be used.
#[derive(Debug, Clone)]
pub(crate) struct BundleError(String);

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BundleError {}

impl Environment {
    /// The process's environment, read once.
    pub(crate) fn process() -> &'static Environment {
        static PROCESS: OnceLock<Environment> = OnceLock::new();
        PROCESS.get_or_init(|| Environment::read(|name| std::env::var(name).ok()))
    }

    /// The settings `variable` gives (`None` for an unset variable).
    pub(crate) fn read(variable: impl Fn(&str) -> Option<String>) -> Environment {
        let set = |name: &str| variable(name).filter(|value| !value.is_empty());
        let roots = BUNDLE_VARIABLES
            .iter()
            .find_map(|name| set(name).map(|path| (*name, path)))
            .map(|(name, path)| load_bundle(name, Path::new(&path)).map(Arc::new));
        // urllib: the lower-case variable wins, and set empty removes the proxy.
        let proxy_variable = |scheme: &str| match variable(&format!("{scheme}_proxy")) {
            Some(value) => Some(value).filter(|value| !value.is_empty()),
            None => set(&format!("{}_PROXY", scheme.to_ascii_uppercase())),
        };
        let all = proxy_variable("all");
        let proxy = |scheme: &str| {
            proxy_variable(scheme).or_else(|| all.clone()).map(|url| {
                Proxy::new(&url).map_err(|_| {
                    format!(
                        "the proxy URL in `{scheme}_proxy` (or `all_proxy`) cannot be used: \
                         give it as http://host:port, with user:password@ if the proxy asks for it"
                    )
                })
            })
        };
        Environment {
            roots,
            http_proxy: proxy("http"),
            https_proxy: proxy("https"),
            no_proxy: set("no_proxy").or_else(|| set("NO_PROXY")),
        }
    }

    /// The TLS configuration of the platform's agent: the bundle's
    /// certificate authorities, or `None` for the built-in roots.
    pub(crate) fn tls_config(&self) -> Option<TlsConfig> {
        let certificates = self.roots.as_ref()?.as_ref().ok()?;
        Some(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(certificates))
                .build(),
        )
    }

    /// The proxy a request to `url` goes through (`None`: directly), or
    /// why it cannot be sent.
    pub(crate) fn route(&self, url: &str) -> Result<Option<Proxy>, ureq::Error> {
        if let Some(Err(error)) = &self.roots {
            return Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                error.clone(),
            )));
        }
        let Ok(uri) = url.parse::<ureq::http::Uri>() else {
            return Ok(None);
        };
        let proxy = match uri.scheme_str() {
            Some(scheme) if scheme.eq_ignore_ascii_case("https") => &self.https_proxy,
            Some(scheme) if scheme.eq_ignore_ascii_case("http") => &self.http_proxy,
            _ => return Ok(None),
        };
        let Some(proxy) = proxy else { return Ok(None) };
        let host = uri.host().unwrap_or_default();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if self.bypasses(host, uri.port_u16()) {
            return Ok(None);
        }
        match proxy {
            Ok(proxy) => Ok(Some(proxy.clone())),
            Err(_) => Err(ureq::Error::InvalidProxyUrl),
        }
    }

    /// Whether `no_proxy` sends requests to `host` directly.
    fn bypasses(&self, host: &str, port: Option<u16>) -> bool {
        let Some(list) = &self.no_proxy else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        let with_port = port.map(|port| format!("{host}:{port}"));
        let ip: Option<Ipv4Addr> = host.parse().ok();
        list.split(',')
            .map(|entry| entry.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|entry| !entry.is_empty())
            .any(|entry| {
                if entry == "*" {
                    return true;
                }
                if let (Some(ip), Some(range)) = (ip, cidr(&entry)) {
                    return range.contains(ip);
                }
                let suffix = format!(".{entry}");
                [Some(&host), with_port.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|candidate| *candidate == entry || candidate.ends_with(&suffix))
            })
    }
}

/// An IPv4 range `a.b.c.d/n`.
struct Cidr {
    network: u32,
    mask: u32,
}

impl Cidr {
    fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask == self.network & self.mask
    }
}

fn cidr(entry: &str) -> Option<Cidr> {
    let (address, bits) = entry.split_once('/')?;
    let address: Ipv4Addr = address.parse().ok()?;
    let bits: u32 = bits.parse().ok().filter(|bits| (1..=32).contains(bits))?;
    Some(Cidr {
        network: address.into(),
        mask: u32::MAX << (32 - bits),
    })
}

/// The certificates of the bundle at `path` (a PEM file, or a directory of
/// them) named by `variable`.
fn load_bundle(variable: &str, path: &Path) -> Result<Vec<Certificate<'static>>, BundleError> {
    let unusable = |detail: String| {
        BundleError(format!(
            "the certificate authority bundle `{}` named by {variable} cannot be used: {detail}. \
             Give the path of a PEM file (or a directory of them) that exists in the container, \
             or unset {variable} to trust the built-in roots",
            path.display()
        ))
    };
    let files = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|error| unusable(error.to_string()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| file.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut certificates = Vec::new();
    for file in files {
        let pem = std::fs::read(&file).map_err(|error| unusable(error.to_string()))?;
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(PemItem::Certificate(certificate)) = item {
                certificates.push(certificate.to_owned());
            }
        }
    }
    if certificates.is_empty() {
        return Err(unusable("it holds no PEM certificate".into()));
    }
    Ok(certificates)
}

/// Whether `error` is one the next attempt would meet the same way: a
/// refused certificate, an unusable bundle or proxy URL.
pub(crate) fn is_final(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Io(error) => {
            refused_certificate(error).is_some()
                || error
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<BundleError>().is_some())
        }
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(_)) => true,
        _ => false,
    }
}

/// Why the platform's certificate was refused, if that is what `error` is.
pub(crate) fn refusal(error: &ureq::Error) -> Option<String> {
    let reason = match error {
        ureq::Error::Io(error) => refused_certificate(error)?,
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(reason)) => reason,
        _ => return None,
    };
    let why = match reason {
        rustls::CertificateError::UnknownIssuer => {
            "it is not signed by a trusted certificate authority".to_owned()
        }
        rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
            "it has expired".to_owned()
        }
        rustls::CertificateError::NotValidForName
        | rustls::CertificateError::NotValidForNameContext { .. } => {
            "it is not valid for this host name".to_owned()
        }
        other => format!("{other:?}"),
    };
    Some(format!(
        "the platform's certificate was refused: {why}. If a gateway or proxy presents its own \
         certificate, name its certificate authority's PEM bundle in REQUESTS_CA_BUNDLE"
    ))
}

fn refused_certificate(error: &io::Error) -> Option<&rustls::CertificateError> {
    match error.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(reason) => Some(reason),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(variables: &[(&str, &str)]) -> Environment {
        let variables: Vec<(String, String)> = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Environment::read(move |name| {
            variables
                .iter()
                .find(|(variable, _)| variable == name)
                .map(|(_, value)| value.clone())
        })
    }

    fn proxy_of(environment: &Environment, url: &str) -> Option<String> {
        environment
            .route(url)
            .unwrap()
            .map(|proxy| format!("{}:{}", proxy.host(), proxy.port()))
    }

    #[test]
    fn each_scheme_has_its_proxy_and_all_proxy_fills_in() {
        let env = environment(&[
            ("HTTPS_PROXY", "http://secure:3128"),
            ("ALL_PROXY", "http://every:8080"),
        ]);
        assert_eq!(
            proxy_of(&env, "https://app.sekoia.io/x").as_deref(),
            Some("secure:3128")
        );
        assert_eq!(
            proxy_of(&env, "http://app.sekoia.io/x").as_deref(),
            Some("every:8080")
        );
        assert_eq!(proxy_of(&environment(&[]), "https://app.sekoia.io/x"), None);
    }

    #[test]
    fn the_lower_case_variable_wins_and_set_empty_turns_the_proxy_off() {
        let env = environment(&[("https_proxy", "lower:1"), ("HTTPS_PROXY", "upper:2")]);
        assert_eq!(proxy_of(&env, "https://a.b/").as_deref(), Some("lower:1"));
        let off = environment(&[("https_proxy", ""), ("HTTPS_PROXY", "upper:2")]);
        assert_eq!(proxy_of(&off, "https://a.b/"), None);
        let upper_empty = environment(&[("HTTPS_PROXY", ""), ("ALL_PROXY", "all:3")]);
        assert_eq!(
            proxy_of(&upper_empty, "https://a.b/").as_deref(),
            Some("all:3")
        );
    }

    #[test]
    fn no_proxy_matches_as_requests_does() {
        let env = environment(&[
            ("HTTPS_PROXY", "proxy:3128"),
            (
                "NO_PROXY",
                " .internal.example, intake.sekoia.io:8443,10.0.0.0/8,127.0.0.1",
            ),
        ]);
        for direct in [
            "https://api.internal.example/",
            "https://internal.example/",
            "https://intake.sekoia.io:8443/batch",
            "https://10.20.30.40/",
            "https://127.0.0.1:9/",
        ] {
            assert_eq!(proxy_of(&env, direct), None, "{direct}");
        }
        for proxied in [
            "https://notinternal.example/",
            "https://intake.sekoia.io/batch",
            "https://11.0.0.1/",
            "https://127.0.0.2/",
        ] {
            assert!(proxy_of(&env, proxied).is_some(), "{proxied}");
        }
        let all = environment(&[("HTTPS_PROXY", "proxy:3128"), ("no_proxy", "*")]);
        assert_eq!(proxy_of(&all, "https://app.sekoia.io/"), None);
    }

    #[test]
    fn the_first_bundle_variable_set_wins_and_an_unusable_bundle_fails_at_once() {
        let directory = std::env::temp_dir().join(format!("bundle-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let empty = directory.join("empty.pem");
        std::fs::write(&empty, "no certificate here").unwrap();
        let env = environment(&[
            ("REQUESTS_CA_BUNDLE", ""),
            ("CURL_CA_BUNDLE", empty.to_str().unwrap()),
            ("SSL_CERT_FILE", "/nonexistent"),
        ]);
        let error = env.route("https://app.sekoia.io/").unwrap_err();
        assert!(is_final(&error));
        let message = error.to_string();
        assert!(message.contains("CURL_CA_BUNDLE"), "{message}");
        assert!(message.contains("holds no PEM certificate"), "{message}");
        let missing = environment(&[("SSL_CERT_FILE", "/nonexistent/ca.pem")]);
        let message = missing.route("http://a/").unwrap_err().to_string();
        assert!(
            message.contains("`/nonexistent/ca.pem` named by SSL_CERT_FILE"),
            "{message}"
        );
        assert!(environment(&[]).tls_config().is_none());
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
