//! What the vendor client trusts, tried as a hostile vendor would: waits a
//! `Retry-After` asks for, redirects and next links to another origin,
//! and answers that echo the credentials they were sent. Every server is a
//! real one on 127.0.0.1; two listeners on two ports are two origins.

#[path = "support/fake_vendor.rs"]
mod fake_vendor;

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use fake_vendor::{FakeVendor, Recorded, Reply};
use sekoia_automation::Secret;
use sekoia_automation::vendor::{
    Auth, Method, OAuth2ClientCredentials, Pagination, RetryPolicy, VendorClient,
    VendorClientBuilder, VendorError,
};

fn builder(vendor_url: &str) -> VendorClientBuilder {
    VendorClient::builder()
        .base_url(format!("{vendor_url}/api/v1"))
        .retry(RetryPolicy::default().backoff_factor(Duration::from_millis(1)))
        .timeout(Duration::from_secs(10))
        .deadline(Duration::from_secs(60))
}

fn ok(_: &Recorded) -> Reply {
    Reply::json(200, r#"{"ok": true}"#)
}

// ---------------------------------------------------------------------------
// 2. `Retry-After` never shortens a wait below the backoff.

#[test]
fn a_retry_after_shorter_than_the_backoff_does_not_shorten_the_wait() {
    // Waits of the backoff: none after the first failure, 4 s after the
    // second. The vendor asks for 1 s each time: honoured after the first
    // failure (longer than no wait), not after the second (shorter than
    // 4 s). 4 s more would pass the 3 s deadline: the request ends after
    // exactly 2 attempts. Waiting 1 s instead would make a third attempt
    // at about 2 s.
    let vendor = FakeVendor::start(|_| Reply::status(503).header("Retry-After", "1"));
    let client = builder(&vendor.url)
        .retry(RetryPolicy::default().backoff_factor(Duration::from_secs(2)))
        .deadline(Duration::from_secs(3))
        .build()
        .unwrap();
    let error = client.get("busy").send().unwrap_err();
    assert!(
        matches!(error, VendorError::DeadlineExceeded { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(vendor.requests().len(), 2);
}

#[test]
fn a_retry_after_of_zero_or_in_the_past_waits_the_backoff() {
    let long_ago = "Sun, 06 Nov 1994 08:49:37 GMT";
    for (status, asked) in [(429, "0"), (503, "0"), (429, long_ago), (503, long_ago)] {
        let vendor = FakeVendor::start(move |_| Reply::status(status).header("Retry-After", asked));
        // The backoff's first wait (10 s) passes the deadline (5 s): the
        // request ends after one attempt, without a second at once.
        let client = builder(&vendor.url)
            .retry(
                RetryPolicy::default()
                    .backoff_factor(Duration::from_secs(10))
                    .wait_after_first_failure(true),
            )
            .deadline(Duration::from_secs(5))
            .build()
            .unwrap();
        let error = client.get("busy").send().unwrap_err();
        assert!(
            matches!(error, VendorError::DeadlineExceeded { attempts: 1, .. }),
            "{status} {asked}: {error:?}"
        );
        assert_eq!(vendor.requests().len(), 1, "{status} {asked}");
    }
}

// ---------------------------------------------------------------------------
// 3. Credentials stay with their origin.

const HEADER_KEY: &str = r#"hk"e\y%2B+'k3y"#;
const QUERY_KEY: &str = "qk\"e\\y%2B+ 💥é";
const BEARER: &str = r#"be"a\r%2B+er"#;
const PASSWORD: &str = "pa\"s\\s%2B+ 💥é";
const CLIENT_SECRET: &str = "cs\"e\\c%2B+ 💥é";
const TOKEN: &str = r#"to"k\e%2B+n"#;

/// One client per credential kind, the OAuth2 token endpoint on `vendor`.
fn authentications(vendor: &FakeVendor) -> Vec<(&'static str, Auth)> {
    let secret = |value: &str| Secret::new(value.to_string());
    vec![
        (
            "api key header",
            Auth::api_key_header("X-Api-Key", secret(HEADER_KEY)),
        ),
        (
            "api key query",
            Auth::api_key_query("apikey", secret(QUERY_KEY)),
        ),
        ("bearer", Auth::bearer(secret(BEARER))),
        ("basic", Auth::basic("user", secret(PASSWORD))),
        (
            "oauth2",
            Auth::oauth2(OAuth2ClientCredentials::new(
                format!("{}/oauth2/token", vendor.url),
                "my-client",
                secret(CLIENT_SECRET),
            )),
        ),
    ]
}

fn token_reply() -> Reply {
    Reply::json(
        200,
        serde_json::json!({"access_token": TOKEN, "expires_in": 3600}).to_string(),
    )
}

/// Whether a request carries a credential of any kind.
fn carries_a_credential(request: &Recorded) -> bool {
    request.header("authorization").is_some()
        || request.header("x-api-key").is_some()
        || request.url.contains("apikey")
}

#[test]
fn no_credential_follows_a_redirect_to_another_origin() {
    let other = FakeVendor::start(ok);
    let other_url = other.url.clone();
    // The vendor forwards the query to the other origin, as many do.
    let vendor = FakeVendor::start(move |request| {
        if request.path() == "/oauth2/token" {
            return token_reply();
        }
        let status: u16 = request.path().rsplit('/').next().unwrap().parse().unwrap();
        let query = request.url.split_once('?').map_or("", |(_, query)| query);
        Reply::status(status).header("Location", &format!("{other_url}/landing?{query}"))
    });
    let mut hops = 0;
    for (kind, auth) in authentications(&vendor) {
        for status in [301, 302, 303, 307, 308] {
            let client = builder(&vendor.url).auth(auth.clone()).build().unwrap();
            let response = client.get(format!("moved/{status}")).send().unwrap();
            assert_eq!(response.status(), 200, "{kind} {status}");
            assert!(
                response
                    .url()
                    .starts_with(&format!("{}/landing", other.url)),
                "{kind} {status}"
            );
            hops += 1;
        }
    }
    let sent = vendor.requests();
    let first_hops: Vec<&Recorded> = sent
        .iter()
        .filter(|request| request.path().starts_with("/api/v1/moved/"))
        .collect();
    assert_eq!(first_hops.len(), hops);
    assert!(
        first_hops
            .iter()
            .all(|request| carries_a_credential(request)),
        "the vendor's own origin gets the credentials"
    );
    let landed = other.requests();
    assert_eq!(landed.len(), hops);
    for request in &landed {
        assert!(
            !carries_a_credential(request),
            "a credential went to another origin: {request:?}"
        );
    }
}

#[test]
fn credentials_are_kept_on_a_redirect_to_the_same_origin() {
    // `/new` answers 401 to a request without its credential: an OAuth2
    // client would loop 401 → new token → 401 if the redirect dropped it.
    let vendor = FakeVendor::start(|request| match request.path() {
        "/oauth2/token" => token_reply(),
        "/api/v1/old" => Reply::status(307).header("Location", "/api/v1/new"),
        _ if carries_a_credential(request) => Reply::json(200, r#"{"landed": true}"#),
        _ => Reply::status(401),
    });
    for (kind, auth) in authentications(&vendor) {
        let client = builder(&vendor.url).auth(auth).build().unwrap();
        let answer: serde_json::Value = client
            .get("old")
            .send_json()
            .unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(answer["landed"], true, "{kind}");
    }
    let landed: Vec<Recorded> = vendor
        .requests()
        .into_iter()
        .filter(|request| request.path() == "/api/v1/new")
        .collect();
    assert_eq!(landed.len(), 5, "one landing per credential kind");
    assert_eq!(
        landed[0].header("x-api-key"),
        Some(HEADER_KEY),
        "the key itself"
    );
    assert!(landed[1].url.contains("apikey="), "{:?}", landed[1]);
    assert_eq!(
        landed[4].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn no_credential_follows_a_next_link_to_another_origin() {
    let other = FakeVendor::start(|_| Reply::json(200, r#"{"items": [2], "next": null}"#));
    let other_url = other.url.clone();
    // The next link carries the query of the page, the key included.
    let vendor = FakeVendor::start(move |request| {
        if request.path() == "/oauth2/token" {
            return token_reply();
        }
        let query = request.url.split_once('?').map_or("", |(_, query)| query);
        let next = format!("{other_url}/page/2?{query}");
        Reply::json(
            200,
            serde_json::json!({"items": [1], "next": next}).to_string(),
        )
    });
    for (kind, auth) in authentications(&vendor) {
        let client = builder(&vendor.url).auth(auth).build().unwrap();
        let pages: Vec<_> = client
            .pages("alerts", Pagination::next_link("/next"))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(pages.len(), 2, "{kind}");
    }
    let first_pages: Vec<Recorded> = vendor
        .requests()
        .into_iter()
        .filter(|request| request.path() == "/api/v1/alerts")
        .collect();
    assert_eq!(first_pages.len(), 5);
    assert!(first_pages.iter().all(carries_a_credential));
    let second_pages = other.requests();
    assert_eq!(second_pages.len(), 5);
    for request in &second_pages {
        assert!(!carries_a_credential(request), "{request:?}");
    }
}

#[test]
fn a_request_header_credential_stays_with_the_request_url_origin() {
    // No base URL: a request's own `Authorization` goes to its URL's
    // origin, not to where it is redirected.
    let other = FakeVendor::start(ok);
    let landing = format!("{}/landing", other.url);
    let vendor = FakeVendor::start(move |_| Reply::status(302).header("Location", &landing));
    let client = VendorClient::builder().build().unwrap();
    client
        .get(format!("{}/x", vendor.url))
        .header("Authorization", format!("Bearer {BEARER}"))
        .header("Cookie", "session=s3cr3t-cookie")
        .header("X-Trace", "kept")
        .send()
        .unwrap();
    let first = &vendor.requests()[0];
    assert_eq!(
        first.header("authorization"),
        Some(format!("Bearer {BEARER}").as_str())
    );
    let landed = &other.requests()[0];
    assert_eq!(landed.header("authorization"), None);
    assert_eq!(landed.header("cookie"), None);
    assert_eq!(landed.header("x-trace"), Some("kept"));
}

#[test]
fn the_token_request_keeps_the_client_secret_from_another_origin() {
    let other = FakeVendor::start(|_| token_reply());
    let other_token = format!("{}/token", other.url);
    let vendor = FakeVendor::start(move |request| {
        if request.path() == "/oauth2/token" {
            Reply::status(307).header("Location", &other_token)
        } else {
            ok(request)
        }
    });
    let credentials = OAuth2ClientCredentials::new(
        format!("{}/oauth2/token", vendor.url),
        "my-client",
        Secret::new(CLIENT_SECRET.into()),
    );
    // In the `Authorization` header: followed without it.
    let client = builder(&vendor.url)
        .auth(Auth::oauth2(credentials.clone()))
        .build()
        .unwrap();
    client.get("x").send().unwrap();
    let asked = other.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].header("authorization"), None);
    assert_eq!(asked[0].text(), "grant_type=client_credentials");
    assert_eq!(
        vendor.requests()[0]
            .header("authorization")
            .map(|basic| basic.starts_with("Basic ")),
        Some(true)
    );
    // In the body: not followed.
    let client = builder(&vendor.url)
        .auth(Auth::oauth2(credentials.credentials_in_body()))
        .build()
        .unwrap();
    let error = client.get("x").send().unwrap_err();
    assert!(matches!(error, VendorError::Token { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not sent to another origin"),
        "{error}"
    );
    assert_eq!(other.requests().len(), 1);
}

#[test]
fn a_relative_path_whose_query_holds_a_scheme_is_a_path() {
    let vendor = FakeVendor::start(ok);
    let client = builder(&vendor.url).build().unwrap();
    client.get("search?url=http://x/").send().unwrap();
    assert_eq!(vendor.requests()[0].url, "/api/v1/search?url=http://x/");
    // A next link too.
    let vendor = FakeVendor::start(|request| {
        if request.url.contains("url=") {
            Reply::json(200, r#"{"next": null}"#)
        } else {
            Reply::json(200, r#"{"next": "search?url=http://x/"}"#)
        }
    });
    let client = builder(&vendor.url).build().unwrap();
    let pages = client
        .pages("start", Pagination::next_link("/next"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(vendor.requests()[1].url, "/api/v1/search?url=http://x/");
}

#[test]
fn redirects_change_the_method_as_requests_does_and_are_bounded() {
    let vendor = FakeVendor::start(|request| match request.path() {
        "/see-other" => Reply::status(303).header("Location", "/landing"),
        "/found" => Reply::status(302).header("Location", "/landing"),
        "/temporary" => Reply::status(307).header("Location", "/landing"),
        "/permanent" => Reply::status(301).header("Location", "/landing"),
        "/loop" => Reply::status(302).header("Location", "/loop"),
        "/nowhere" => Reply::status(302).header("Location", "ftp://127.0.0.1/x"),
        _ => Reply::json(200, "{}"),
    });
    let client = VendorClient::builder().build().unwrap();
    let body = serde_json::json!({"a": 1});
    for (path, method, expected, body_kept) in [
        ("see-other", Method::Post, "GET", false),
        ("found", Method::Put, "GET", false),
        ("found", Method::Head, "HEAD", false),
        ("temporary", Method::Post, "POST", true),
        ("permanent", Method::Post, "GET", false),
        ("permanent", Method::Put, "PUT", false),
    ] {
        let answer = client
            .request(method, format!("{}/{path}", vendor.url))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200);
        let landed = vendor.requests().pop().unwrap();
        assert_eq!(landed.path(), "/landing");
        assert_eq!(landed.method, expected, "{path} {method}");
        assert_eq!(
            (
                !landed.body.is_empty(),
                landed.header("content-type").is_some()
            ),
            (body_kept, body_kept),
            "{path} {method}"
        );
    }

    let before = vendor.requests().len();
    let error = client
        .get(format!("{}/loop", vendor.url))
        .send()
        .unwrap_err();
    assert!(
        matches!(error, VendorError::Redirect { status: 302, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("more than 30 redirects"),
        "{error}"
    );
    assert_eq!(
        vendor.requests().len() - before,
        31,
        "the first and 30 hops"
    );

    let error = client
        .get(format!("{}/nowhere", vendor.url))
        .send()
        .unwrap_err();
    assert!(
        error.to_string().contains("`Location: ftp://127.0.0.1/x`"),
        "{error}"
    );

    // With no redirect followed, the 3xx is the answer.
    let client = VendorClient::builder().max_redirects(0).build().unwrap();
    let answer = client.get(format!("{}/found", vendor.url)).send().unwrap();
    assert_eq!(
        (answer.status(), answer.header("location")),
        (302, Some("/landing"))
    );
}

// ---------------------------------------------------------------------------
// 4. No secret in any text.

/// Every log line of this crate in this test binary (ureq's own trace
/// records, a hex dump of the bytes sent, are the dependency's: the
/// runtime's logger keeps them from the platform).
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if !record.target().starts_with("sekoia_automation") {
            return;
        }
        LOGS.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(format!("{} {}", record.level(), record.args()));
    }

    fn flush(&self) {}
}

/// `text` percent-encoded as `quote_plus` does (`space` as `+` or `%20`).
fn percent_encoded(text: &str, space: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            b' ' => space.to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// JSON as Python's `ensure_ascii` writes it (`\u00e9`, surrogate pairs).
fn ascii_json(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// A secret in every form it may take in a text.
fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap();
    vec![
        secret.to_string(),
        json.trim_matches('"').to_string(),
        ascii_json(secret),
        format!("{secret:?}").trim_matches('"').to_string(),
        percent_encoded(secret, "+"),
        percent_encoded(secret, "%20"),
    ]
}

/// Every secret of the clients below, and the encodings they travel in.
fn every_secret_form() -> Vec<(String, String)> {
    let base64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut secrets: Vec<(&str, String)> = vec![
        ("api key header", HEADER_KEY.into()),
        ("api key query", QUERY_KEY.into()),
        ("bearer", BEARER.into()),
        ("basic password", PASSWORD.into()),
        ("basic base64", base64(&format!("user:{PASSWORD}"))),
        ("oauth2 client secret", CLIENT_SECRET.into()),
        (
            "oauth2 base64 id:secret",
            base64(&format!("my-client:{CLIENT_SECRET}")),
        ),
        ("oauth2 token", TOKEN.into()),
    ];
    secrets.push(("cookie", "s3cr3t-cookie".into()));
    secrets
        .into_iter()
        .flat_map(|(kind, secret)| {
            forms(&secret)
                .into_iter()
                .map(move |form| (kind.to_string(), form))
        })
        .collect()
}

fn assert_no_secret(what: &str, text: &str) {
    for (kind, form) in every_secret_form() {
        assert!(
            !text.contains(&form),
            "{what} shows the {kind} as `{form}`:\n{text}"
        );
    }
}

/// A vendor that echoes what it was sent: the `Authorization` and
/// `X-Api-Key` headers, the request target and the body, as is (`/raw`)
/// or JSON-escaped (`/json`), with the status the path ends with. Its
/// token endpoint (`/oauth2/token`) echoes too, unless the form asks for
/// the scope `ok`.
fn echo(request: &Recorded) -> Reply {
    let echoed = format!(
        "{} {} {} {}",
        request.header("authorization").unwrap_or(""),
        request.header("x-api-key").unwrap_or(""),
        request.url,
        request.text()
    );
    if request.path() == "/oauth2/token" && request.text().contains("scope=ok") {
        return token_reply();
    }
    let status = request
        .path()
        .rsplit('/')
        .next()
        .and_then(|last| last.parse().ok())
        .unwrap_or(500);
    let body = if request.path().contains("/json/") {
        // Cut short: not JSON, so that reading it fails with an excerpt.
        format!(r#"{{"echo": {}"#, serde_json::to_string(&echoed).unwrap())
    } else {
        echoed
    };
    // The request target is ASCII: it can go back in a header.
    Reply::Answer {
        status,
        headers: vec![
            ("X-Echo-Url".into(), request.url.clone()),
            ("Retry-After".into(), "0".into()),
        ],
        body,
    }
}

#[test]
fn no_credential_shows_in_any_text_of_the_client() {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Trace);
    let vendor = FakeVendor::start(echo);
    let mut texts: Vec<(String, String)> = Vec::new();
    let oauth2 = |scope: &str, in_body: bool| {
        let credentials = OAuth2ClientCredentials::new(
            format!("{}/oauth2/token", vendor.url),
            "my-client",
            Secret::new(CLIENT_SECRET.to_string()),
        )
        .scope(scope);
        Auth::oauth2(if in_body {
            credentials.credentials_in_body()
        } else {
            credentials
        })
    };
    let mut auths = authentications(&vendor);
    auths.push(("oauth2 token", oauth2("ok", false)));
    auths.push(("oauth2 failing token request", oauth2("echo", false)));
    auths.push(("oauth2 failing token request in body", oauth2("echo", true)));
    for (kind, auth) in auths {
        let client = builder(&vendor.url).auth(auth.clone()).build().unwrap();
        texts.push((format!("{kind}: client Debug"), format!("{client:?}")));
        for encoding in ["raw", "json"] {
            // An error status, retried (a log line per retry).
            let request = client
                .get(format!("{encoding}/500"))
                .header("Cookie", "session=s3cr3t-cookie")
                .query("q", "v");
            texts.push((format!("{kind}: request Debug"), format!("{request:?}")));
            let error = request.send().unwrap_err();
            texts.push((
                format!("{kind}: {encoding} status error"),
                error.to_string(),
            ));
            texts.push((
                format!("{kind}: {encoding} status Debug"),
                format!("{error:?}"),
            ));
            // A 200 that is not JSON.
            match client.get(format!("{encoding}/200")).send() {
                Ok(response) => {
                    texts.push((format!("{kind}: response Debug"), format!("{response:?}")));
                    let error = response.json::<serde_json::Value>().unwrap_err();
                    texts.push((format!("{kind}: JSON error"), error.to_string()));
                    texts.push((format!("{kind}: JSON error Debug"), format!("{error:?}")));
                }
                Err(error) => {
                    texts.push((format!("{kind}: token error"), error.to_string()));
                    texts.push((format!("{kind}: token error Debug"), format!("{error:?}")));
                }
            }
        }
        // A transport failure: nothing answers on this port.
        let closed = VendorClient::builder()
            .base_url(fake_vendor::closed_port_url())
            .auth(auth.clone())
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
        let error = closed.get("x").send().unwrap_err();
        texts.push((format!("{kind}: transport error"), error.to_string()));
        texts.push((format!("{kind}: transport Debug"), format!("{error:?}")));
        // A deadline passed after a failure.
        let short = builder(&vendor.url)
            .auth(auth)
            .retry(RetryPolicy::default().backoff_factor(Duration::from_secs(60)))
            .deadline(Duration::from_secs(5))
            .build()
            .unwrap();
        let error = short.get("raw/503").send().unwrap_err();
        texts.push((format!("{kind}: deadline error"), error.to_string()));
        texts.push((format!("{kind}: deadline Debug"), format!("{error:?}")));
    }
    // A redirect not followed, its `Location` echoing the key.
    let client = builder(&vendor.url)
        .auth(Auth::api_key_query("apikey", Secret::new(QUERY_KEY.into())))
        .max_redirects(0)
        .build()
        .unwrap();
    let looping = FakeVendor::start(|request| {
        Reply::status(302).header("Location", &format!("/again{}", &request.url[1..]))
    });
    let looping_client = VendorClient::builder()
        .base_url(&looping.url)
        .auth(Auth::api_key_query("apikey", Secret::new(QUERY_KEY.into())))
        .max_redirects(2)
        .build()
        .unwrap();
    let error = looping_client.get("x").send().unwrap_err();
    texts.push(("redirect error".into(), error.to_string()));
    texts.push(("redirect Debug".into(), format!("{error:?}")));
    let response = client.get("raw/200").send().unwrap();
    texts.push(("answer Debug".into(), format!("{response:?}")));

    assert!(texts.len() > 80, "{}", texts.len());
    for (what, text) in &texts {
        assert_no_secret(what, text);
    }
    let logs = LOGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    assert!(
        logs.iter().any(|line| line.contains("retrying")),
        "the retries were logged"
    );
    for line in &logs {
        assert_no_secret("a log line", line);
    }
}
