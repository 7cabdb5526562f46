//! The vendor client toward an on-premise appliance with its own
//! certificate authority: a real TLS server on 127.0.0.1
//! (tests/fixtures/tls), trusted through `root_certificates_pem`, refused
//! by default, and reached unverified only with
//! `danger_accept_invalid_certificates`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use sekoia_automation::vendor::{RetryPolicy, VendorClient, VendorClientBuilder, VendorError};

const CA: &str = include_str!("fixtures/tls/ca.pem");
const SERVER_CERTIFICATE: &str = include_str!("fixtures/tls/server.pem");
const SERVER_KEY: &str = include_str!("fixtures/tls/server.key");

/// An HTTPS server answering `{"ok": true}` to each connection, for as long
/// as the test runs; `https://127.0.0.1:<port>`.
fn appliance() -> String {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let certificates: Vec<CertificateDer<'static>> =
        ureq::tls::parse_pem(SERVER_CERTIFICATE.as_bytes())
            .filter_map(|item| match item.unwrap() {
                ureq::tls::PemItem::Certificate(certificate) => {
                    Some(CertificateDer::from(certificate.der().to_vec()))
                }
                _ => None,
            })
            .collect();
    let key = ureq::tls::PrivateKey::from_pem(SERVER_KEY.as_bytes()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.der().to_vec()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let connection = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut tls = rustls::StreamOwned::new(connection, stream);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            // Bounded by the request head (or a refused handshake).
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
                match tls.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            if head.ends_with(b"\r\n\r\n") {
                let body = r#"{"ok": true}"#;
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    format!("https://127.0.0.1:{port}")
}

fn client(url: &str) -> VendorClientBuilder {
    VendorClient::builder()
        .base_url(url)
        .retry(RetryPolicy::default().retries(0))
}

#[test]
fn the_appliances_ca_is_trusted_when_given_and_only_then() {
    let url = appliance();
    let trusted: serde_json::Value = client(&url)
        .root_certificates_pem(CA)
        .build()
        .unwrap()
        .get("status")
        .send_json()
        .unwrap();
    assert_eq!(trusted, serde_json::json!({"ok": true}));

    let refused = client(&url).build().unwrap().get("status").send();
    match refused {
        Err(error @ VendorError::Transport { .. }) => {
            let text = error.to_string();
            assert!(
                text.contains("certificate") || text.contains("Certificate"),
                "{text}"
            );
        }
        other => panic!("the web roots do not know the appliance's CA: {other:?}"),
    }

    // Another CA (the server's own certificate is no authority) is refused too.
    let other = client(&url)
        .root_certificates_pem(SERVER_CERTIFICATE)
        .build()
        .unwrap()
        .get("status")
        .send();
    assert!(other.is_err(), "{other:?}");
}

#[test]
fn verification_is_skipped_only_on_explicit_opt_in() {
    let url = appliance();
    let unverified: serde_json::Value = client(&url)
        .danger_accept_invalid_certificates()
        .build()
        .unwrap()
        .get("status")
        .send_json()
        .unwrap();
    assert_eq!(unverified, serde_json::json!({"ok": true}));
}

#[test]
fn a_pem_without_a_certificate_is_refused_when_built() {
    let error = client("https://127.0.0.1:1")
        .root_certificates_pem(SERVER_KEY)
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("no PEM certificate in it"),
        "{error}"
    );
}

/// An action reaching the appliance unverified: its run's logs say so.
struct Unverified;

impl sekoia_automation::Action for Unverified {
    type ModuleConfiguration = serde_json::Value;
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Unverified";
    const DESCRIPTION: &'static str = "test";

    fn run(
        &self,
        ctx: &sekoia_automation::ActionContext<'_, serde_json::Value>,
        _: serde_json::Value,
    ) -> sekoia_automation::action::ActionResult<serde_json::Value> {
        let url = ctx.configuration()["base_url"].as_str().unwrap_or_default();
        let client = ctx
            .vendor_client()
            .base_url(url)
            .danger_accept_invalid_certificates()
            .build()?;
        let answer: serde_json::Value = client.get("status").send_json()?;
        Ok(sekoia_automation::Outcome::success(answer))
    }
}

#[test]
fn skipping_verification_is_logged_as_a_warning() {
    use sekoia_automation::testing::{LocalPlatform, Sandbox};
    let url = appliance();
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&serde_json::json!({"slug": "appliance", "version": "1.0.0"}))
        .unwrap();
    sandbox
        .set_json(
            "module_configuration",
            &serde_json::json!({"base_url": url}),
        )
        .unwrap();
    sandbox.set("arguments", "{}").unwrap();
    sekoia_automation::Module::<serde_json::Value>::with_settings(sandbox.settings())
        .register("unverified", Unverified)
        .run_command("unverified");
    let finished = platform
        .requests()
        .into_iter()
        .rev()
        .find(|request| request.method == "PATCH")
        .and_then(|request| request.json())
        .unwrap();
    assert_eq!(finished["results"], serde_json::json!({"ok": true}));
    let logs = finished["logs"].as_str().unwrap_or_default();
    assert!(
        logs.contains(&format!(
            ": warning: the vendor client of {url} does not verify TLS certificates"
        )),
        "{logs}"
    );
}
