//! The vendor client against a fake vendor API on 127.0.0.1, with faults.

#[path = "support/fake_vendor.rs"]
mod fake_vendor;
mod support;

use std::sync::Arc;
use std::time::Duration;

use fake_vendor::{DroppingVendor, FakeVendor, Reply, closed_port_url};
use sekoia_automation::Secret;
use sekoia_automation::trigger::StopSignal;
use sekoia_automation::vendor::{
    Auth, Json, Method, OAuth2ClientCredentials, Pagination, RateLimit, RetryPolicy, TransportKind,
    VendorClient, VendorClientBuilder, VendorError,
};
use support::child::Bounded;

/// The default policy with millisecond waits, so that tests stay short.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().backoff_factor(Duration::from_millis(1))
}

fn builder(vendor_url: &str) -> VendorClientBuilder {
    VendorClient::builder()
        .base_url(format!("{vendor_url}/api/v1"))
        .retry(fast_retries())
        .timeout(Duration::from_secs(10))
        .deadline(Duration::from_secs(60))
}

fn ok(_: &fake_vendor::Recorded) -> Reply {
    Reply::json(200, r#"{"ok": true}"#)
}

#[test]
fn five_hundreds_are_retried_then_the_answer_is_returned() {
    let vendor = FakeVendor::start(ok);
    vendor.script([Reply::status(503), Reply::json(502, "{}")]);
    let client = builder(&vendor.url).build().unwrap();
    let response = client
        .get("alerts")
        .query("status", "open now")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.attempts(), 3);
    let requests = vendor.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.url == "/api/v1/alerts?status=open+now")
    );
}

#[test]
fn post_and_patch_are_not_retried_on_statuses() {
    let vendor = FakeVendor::start(|_| Reply::json(503, r#"{"error": "busy"}"#));
    let client = builder(&vendor.url).build().unwrap();
    for method in [Method::Post, Method::Patch] {
        let error = client
            .request(method, "alerts")
            .json(&serde_json::json!({"a": 1}))
            .send()
            .unwrap_err();
        assert_eq!(error.status(), Some(503));
        assert_eq!(error.attempts(), Some(1));
    }
    assert_eq!(vendor.requests().len(), 2);
}

#[test]
fn exhausted_retries_report_status_method_url_and_a_scrubbed_excerpt() {
    let key = "k3y-\"quoted\"-s3cr3t";
    let vendor = FakeVendor::start(move |request| {
        Reply::json(
            500,
            format!(
                r#"{{"error": "bad key {}", "url": "{}"}}"#,
                "k3y-\\\"quoted\\\"-s3cr3t", request.url
            ),
        )
    });
    let client = builder(&vendor.url)
        .auth(Auth::api_key_query("apikey", Secret::new(key.to_string())))
        .build()
        .unwrap();
    let error = client.get("hosts/1").send().unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            VendorError::Status {
                status: 500,
                attempts: 6,
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.starts_with(&format!(
            "GET {}/api/v1/hosts/1?apikey=[REDACTED] answered HTTP 500 after 6 attempt(s): ",
            vendor.url
        )),
        "{message}"
    );
    assert!(!message.contains("s3cr3t"), "{message}");
    assert_eq!(vendor.requests().len(), 6, "5 retries");
    // Debug shows the body's length, not its bytes.
    let debug = format!("{error:?}");
    assert!(
        debug.contains("AnswerBody(") && !debug.contains("s3cr3t"),
        "{debug}"
    );
    // The raw body stays available to the caller.
    assert!(String::from_utf8_lossy(error.body().unwrap()).contains("bad key"));
}

#[test]
fn retry_after_is_honoured_in_seconds_and_as_a_date_and_capped() {
    let vendor = FakeVendor::start(ok);
    // An HTTP date one hour ahead: the cap (200 ms) applies.
    let in_an_hour = support::http_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600,
    );
    vendor.script([
        Reply::status(429).header("Retry-After", "3600"),
        Reply::status(503).header("Retry-After", &in_an_hour),
    ]);
    let cap = Duration::from_millis(200);
    let client = builder(&vendor.url)
        .retry(fast_retries().retry_after_max(cap))
        .build()
        .unwrap();
    assert_eq!(client.get("x").send().unwrap().status(), 200);
    let requests = vendor.requests();
    assert_eq!(requests.len(), 3);
    // Without the header, the first retry would wait 0 ms and the second 2 ms.
    assert!(requests[1].at - requests[0].at >= cap);
    assert!(requests[2].at - requests[1].at >= cap);
}

#[test]
fn a_413_with_retry_after_is_retried_without_being_in_the_force_list() {
    let vendor = FakeVendor::start(ok);
    vendor.script([
        Reply::status(413).header("Retry-After", "0"),
        Reply::status(413),
    ]);
    let client = builder(&vendor.url)
        .retry(fast_retries().status_forcelist([]))
        .build()
        .unwrap();
    let error = client.get("x").send().unwrap_err();
    assert_eq!(error.status(), Some(413));
    assert_eq!(
        error.attempts(),
        Some(2),
        "the second 413 has no Retry-After"
    );
}

#[test]
fn rate_limits_hold_requests_per_host_and_a_429_fills_the_window() {
    let vendor = FakeVendor::start(ok);
    let client = builder(&vendor.url)
        .rate_limit(RateLimit::per_second(2))
        .rate_limit(RateLimit::per_hour(100))
        .build()
        .unwrap();
    for _ in 0..3 {
        client.get("x").send().unwrap();
    }
    let requests = vendor.requests();
    // The limiter spaces the sends by 1 s; the first arrival is a little
    // after its send.
    assert!(requests[2].at - requests[0].at >= Duration::from_millis(900));

    let other = FakeVendor::start(ok);
    other.script([Reply::status(429)]);
    let client = builder(&other.url)
        .rate_limit(RateLimit::per_second(50))
        .build()
        .unwrap();
    assert_eq!(client.get("x").send().unwrap().status(), 200);
    let requests = other.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].at - requests[0].at >= Duration::from_secs(1),
        "the 429 filled the per-second window"
    );
}

#[test]
fn dropped_connections_are_retried_for_get_not_for_post() {
    let dropping = DroppingVendor::start(2, r#"{"after": "drops"}"#);
    let client = VendorClient::builder()
        .retry(fast_retries())
        .build()
        .unwrap();
    let answer: serde_json::Value = client
        .get(format!("{}/x", dropping.url))
        .send_json()
        .unwrap();
    assert_eq!(answer["after"], "drops");
    assert_eq!(dropping.connections(), 3);

    let dropping = DroppingVendor::start(1, "{}");
    let error = client
        .post(format!("{}/x", dropping.url))
        .json(&serde_json::json!({}))
        .send()
        .unwrap_err();
    match &error {
        VendorError::Transport {
            attempts, cause, ..
        } => {
            assert_eq!(*attempts, 1);
            assert_eq!(cause.kind(), TransportKind::AfterSend);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dropping.connections(), 1);
}

#[test]
fn refused_connections_are_retried_for_every_method() {
    let url = closed_port_url();
    let client = VendorClient::builder()
        .retry(fast_retries())
        .build()
        .unwrap();
    let error = client.post(format!("{url}/x")).send().unwrap_err();
    match &error {
        VendorError::Transport {
            attempts,
            cause,
            method,
            ..
        } => {
            assert_eq!((*attempts, *method), (6, Method::Post));
            assert_eq!(cause.kind(), TransportKind::Connect);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("Check that the vendor's API is reachable")
    );
}

#[test]
fn slow_answers_time_out_and_the_deadline_ends_the_request() {
    let vendor = FakeVendor::start(|_| ok_reply().after(Duration::from_millis(1500)));
    let client = builder(&vendor.url)
        .timeout(Duration::from_millis(100))
        .deadline(Duration::from_millis(400))
        .build()
        .unwrap();
    let error = client.get("slow").send().unwrap_err();
    assert!(
        matches!(error, VendorError::DeadlineExceeded { .. }),
        "{error:?}"
    );
    assert!(error.attempts().unwrap() >= 1);
    assert!(
        error.to_string().contains("within its deadline of 400ms"),
        "{error}"
    );

    // A slow first answer, a fast second: a GET recovers.
    let vendor = FakeVendor::start(ok);
    vendor.script([ok_reply().after(Duration::from_millis(1500))]);
    let client = builder(&vendor.url)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    assert_eq!(client.get("slow").send().unwrap().attempts(), 2);
}

fn ok_reply() -> Reply {
    Reply::json(200, "{}")
}

#[test]
fn the_stop_signal_wakes_a_retry_wait() {
    let vendor = FakeVendor::start(|_| Reply::status(503));
    let stop = Arc::new(StopSignal::new());
    let client = builder(&vendor.url)
        .retry(RetryPolicy::default().backoff_factor(Duration::from_secs(60)))
        .deadline(Duration::from_secs(600))
        .stop_signal(Arc::clone(&stop))
        .build()
        .unwrap();
    let raiser = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            // Raised once the backoff (2 s, then 4 s...) is under way.
            std::thread::sleep(Duration::from_millis(50));
            stop.stop();
        })
    };
    let error = client.get("x").send().unwrap_err();
    raiser.join().unwrap();
    assert!(
        matches!(error, VendorError::Interrupted { .. }),
        "{error:?}"
    );
    assert!(vendor.requests().len() <= 2);
}

#[test]
fn authentication_headers_and_the_manifest_user_agent() {
    let vendor = FakeVendor::start(ok);
    let manifest =
        std::env::temp_dir().join(format!("vendor-manifest-{}.json", std::process::id()));
    std::fs::write(
        &manifest,
        r#"{"slug": "acme", "version": "2.1.0", "name": "Acme"}"#,
    )
    .unwrap();
    let secret = || Secret::new("p\"ss w0rd".to_string());
    let auths = [
        Auth::bearer(secret()),
        Auth::basic("user", secret()),
        Auth::api_key_header("X-Api-Key", secret()),
    ];
    for auth in auths {
        builder(&vendor.url)
            .user_agent_from_manifest(&manifest)
            .auth(auth)
            .build()
            .unwrap()
            .get("me")
            .send()
            .unwrap();
    }
    let requests = vendor.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer p\"ss w0rd")
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some("Basic dXNlcjpwInNzIHcwcmQ=")
    );
    assert_eq!(requests[2].header("x-api-key"), Some("p\"ss w0rd"));
    // A value ureq cannot send is refused before any request.
    let error = builder(&vendor.url)
        .auth(Auth::api_key_header(
            "X-Api-Key",
            Secret::new("wörd".into()),
        ))
        .build()
        .unwrap_err();
    assert!(
        matches!(error, VendorError::InvalidHeader { .. }),
        "{error:?}"
    );
    assert_eq!(vendor.requests().len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.header("user-agent") == Some("sekoiaio-connector/acme-2.1.0"))
    );
    std::fs::remove_file(&manifest).unwrap();
}

#[test]
fn oauth2_tokens_are_reused_refreshed_before_expiry_and_after_a_401() {
    let vendor = FakeVendor::start(|request| {
        if request.path() == "/oauth2/token" {
            let expires_in = if request.text().contains("scope=short") {
                0
            } else {
                3600
            };
            let count = TOKENS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Reply::json(
                200,
                format!(
                    r#"{{"access_token": "tok-{count}", "token_type": "Bearer", "expires_in": {expires_in}}}"#
                ),
            )
        } else {
            Reply::json(200, "{}")
        }
    });
    static TOKENS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let credentials = |scope: &str| {
        OAuth2ClientCredentials::new(
            format!("{}/oauth2/token", vendor.url),
            "my-client",
            Secret::new("cl!ent secret".into()),
        )
        .scope(scope)
    };
    let long = builder(&vendor.url)
        .auth(Auth::oauth2(credentials("read all")))
        .build()
        .unwrap();
    long.get("a").send().unwrap();
    long.get("b").send().unwrap();
    let requests = vendor.requests();
    assert_eq!(requests.len(), 3, "one token for two calls");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].text(),
        "grant_type=client_credentials&scope=read+all"
    );
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // base64("my-client:cl!ent secret")
    assert_eq!(
        requests[0].header("authorization"),
        Some("Basic bXktY2xpZW50OmNsIWVudCBzZWNyZXQ=")
    );
    assert_eq!(requests[1].header("authorization"), Some("Bearer tok-0"));
    assert_eq!(requests[2].header("authorization"), Some("Bearer tok-0"));

    // A token that expires at once is never reused.
    let short = builder(&vendor.url)
        .auth(Auth::oauth2(credentials("short")))
        .build()
        .unwrap();
    short.get("c").send().unwrap();
    short.get("d").send().unwrap();
    let paths: Vec<String> = vendor.requests()[3..]
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        paths,
        ["/oauth2/token", "/api/v1/c", "/oauth2/token", "/api/v1/d"]
    );

    // A 401 drops the token; the request goes once more with a new one.
    vendor.script([Reply::status(401)]);
    long.get("e").send().unwrap();
    let tail: Vec<(String, Option<String>)> = vendor.requests()[7..]
        .iter()
        .map(|r| {
            (
                r.path().to_string(),
                r.header("authorization").map(String::from),
            )
        })
        .collect();
    assert_eq!(
        tail[0],
        ("/api/v1/e".to_string(), Some("Bearer tok-0".to_string()))
    );
    assert_eq!(tail[1].0, "/oauth2/token");
    assert_eq!(
        tail[2],
        ("/api/v1/e".to_string(), Some("Bearer tok-3".to_string()))
    );
}

#[test]
fn json_bodies_are_written_as_python_and_answers_read_exactly() {
    let vendor = FakeVendor::start(|_| {
        Reply::json(
            200,
            r#"{"id": 123456789012345678901234567890, "score": 1E2, "name": "\ud83d\ude00"}"#,
        )
    });
    let client = builder(&vendor.url).build().unwrap();
    let answer: Json = client
        .put("items/1")
        .json(&serde_json::json!({"name": "é 😀", "n": 1.5e-5, "ok": true}))
        .send_exact_json()
        .unwrap();
    assert_eq!(answer["id"].to_string(), "123456789012345678901234567890");
    assert_eq!(
        answer.to_python_json(),
        r#"{"id": 123456789012345678901234567890, "score": 100.0, "name": "\ud83d\ude00"}"#
    );
    let request = &vendor.requests()[0];
    assert_eq!(
        request.text(),
        r#"{"name": "\u00e9 \ud83d\ude00", "n": 1.5e-05, "ok": true}"#
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[test]
fn pages_follow_cursors_and_next_links() {
    let vendor = FakeVendor::start(|request| {
        let url = request.url.as_str();
        match url {
            "/api/v1/events?limit=2" => Reply::json(200, r#"{"items": [1, 2], "next": "c 1"}"#),
            "/api/v1/events?limit=2&cursor=c+1" => {
                Reply::json(200, r#"{"items": [3], "next": null}"#)
            }
            "/api/v1/alerts" => Reply::json(
                200,
                r#"{"data": ["a"], "links": {"next": "/api/v1/alerts?page=2"}}"#,
            ),
            "/api/v1/alerts?page=2" => Reply::json(200, r#"{"data": ["b"], "links": {}}"#),
            other => Reply::json(404, format!(r#"{{"unexpected": "{other}"}}"#)),
        }
    });
    let client = builder(&vendor.url).build().unwrap();
    let items: Vec<String> = client
        .get("events")
        .query("limit", "2")
        .pages(Pagination::cursor("/next", "cursor"))
        .map(|page| page.unwrap())
        .flat_map(|page| page["items"].as_array().unwrap().to_vec())
        .map(|item| item.to_string())
        .collect();
    assert_eq!(items, ["1", "2", "3"]);
    let pages: Vec<Json> = client
        .pages("alerts", Pagination::next_link("/links/next"))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["data"][0].as_str(), Some("b"));

    // A listing that never ends stops at the bound.
    let endless = FakeVendor::start(|_| Reply::json(200, r#"{"next": "again"}"#));
    let client = builder(&endless.url).build().unwrap();
    let results: Vec<_> = client
        .pages("x", Pagination::cursor("/next", "c"))
        .max_pages(3)
        .collect();
    assert_eq!(results.len(), 4);
    assert!(matches!(
        results[3],
        Err(VendorError::TooManyPages { pages: 3, .. })
    ));
}

#[test]
fn the_vendor_api_example_runs_end_to_end() {
    let output = std::process::Command::new(support::example("vendor_api")).output_bounded();
    support::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("5 events sent"), "{stdout}");
    assert!(
        stdout.contains(
            "GET /v1/alerts?limit=2&cursor=p2 (user-agent: sekoiaio-connector/acme-1.2.0)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#""results":{"id":"A-2","severity":46,"title":"alert number 2"}"#),
        "{stdout}"
    );
}
