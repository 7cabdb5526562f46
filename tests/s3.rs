//! The S3 client against a real S3 server that verifies signatures (moto's,
//! see `tests/support/s3_server.rs`), directly and through a fault proxy.
//!
//! Skipped, with one line on stderr saying how to run them, when no Python
//! with `moto[server]` is installed; `.ci/run` installs one.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/s3_server.rs"]
mod s3_server;

use std::sync::Arc;
use std::time::Duration;

use fault_proxy::{Fault, FaultProxy};
use sekoia_automation::Secret;
use sekoia_automation::trigger::{HttpError, StopSignal};
use sekoia_automation::unversioned::s3::{Condition, S3Client, S3Error};

macro_rules! server_or_skip {
    () => {
        match s3_server::server() {
            Some(server) => server,
            None => return,
        }
    };
}

#[test]
fn objects_round_trip_byte_exact() {
    let server = server_or_skip!();
    let (_, client) = server.bucket("round-trip");
    let body = "{\"big\": 123456789012345678901234567890, \"x\": 0.1, \"astral\": \"😀\", \"q\": \"a\\\"b\"}".as_bytes();
    let key = "sub folder/ሴ+&=?#.json";
    assert_eq!(client.get(key).unwrap(), None);
    assert_eq!(client.head(key).unwrap(), None);
    let etag = client.put(key, body, &Condition::None).unwrap();
    assert!(etag.starts_with('"'), "{etag}");
    let object = client.get(key).unwrap().unwrap();
    assert_eq!(object.body, body);
    assert_eq!(object.etag, etag);
    assert_eq!(client.head(key).unwrap(), Some(etag));
    assert_eq!(client.list("sub folder/").unwrap(), [key]);
    client.delete(key).unwrap();
    assert_eq!(client.get(key).unwrap(), None);
    client.delete(key).unwrap();
    let empty = client.put("empty", b"", &Condition::None).unwrap();
    assert_eq!(client.get("empty").unwrap().unwrap().etag, empty);
    assert!(client.get("empty").unwrap().unwrap().body.is_empty());
}

#[test]
fn the_bucket_check_tells_a_missing_bucket() {
    let server = server_or_skip!();
    let (_, client) = server.bucket("present");
    client.check_bucket().unwrap();
    let missing = S3Client::new(server.config_at(&server.endpoint, "absent-bucket")).unwrap();
    let error = missing.check_bucket().unwrap_err();
    assert!(matches!(error, S3Error::MissingBucket { .. }), "{error}");
    assert!(error.to_string().contains("aws_bucket_name"), "{error}");
}

#[test]
fn a_wrong_secret_is_refused_by_the_server_and_never_shown() {
    let server = server_or_skip!();
    let (bucket, client) = server.bucket("signed");
    client.put("k", b"v", &Condition::None).unwrap();
    let wrong = "wrong-\"secret'-value";
    let proxy = FaultProxy::start(&server.endpoint, &[]);
    let bad = S3Client::new(sekoia_automation::unversioned::s3::S3Config::new(
        proxy.endpoint.clone(),
        "us-east-1",
        bucket,
        server.access_key_id.clone(),
        Secret::new(wrong.to_string()),
    ))
    .unwrap()
    .with_retry(Duration::ZERO, 10);
    let error = bad.get("k").unwrap_err();
    assert_eq!(error.status(), Some(403), "{error}");
    assert!(!error.is_internal(), "a 4xx is the trigger's error");
    assert_eq!(proxy.requests(), 1, "a 4xx is not retried");
    let text = format!("{error} {error:?}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    assert!(!text.contains("wrong-"), "{text}");
    assert!(!text.contains("Signature="), "{text}");
    assert!(!text.contains("SignatureProvided"), "{text}");
}

#[test]
fn conditional_writes_refuse_a_stale_etag_and_an_existing_object() {
    let server = server_or_skip!();
    let (_, client) = server.bucket("conditional");
    let first = client
        .put("context.json", b"{\"a\":1}", &Condition::IfAbsent)
        .unwrap();
    let error = client
        .put("context.json", b"{\"b\":2}", &Condition::IfAbsent)
        .unwrap_err();
    assert!(
        matches!(error, S3Error::PreconditionFailed { .. }),
        "{error}"
    );
    let second = client
        .put(
            "context.json",
            b"{\"a\":2}",
            &Condition::IfMatch(first.clone()),
        )
        .unwrap();
    // A writer that read the first version loses, and erases nothing.
    let error = client
        .put("context.json", b"{\"a\":3}", &Condition::IfMatch(first))
        .unwrap_err();
    assert!(
        matches!(error, S3Error::PreconditionFailed { .. }),
        "{error}"
    );
    let object = client.get("context.json").unwrap().unwrap();
    assert_eq!(object.body, b"{\"a\":2}");
    assert_eq!(object.etag, second);
}

#[test]
fn listing_follows_continuation_tokens_across_pages() {
    let server = server_or_skip!();
    let (_, client) = server.bucket("listing");
    let mut keys: Vec<String> = (0..7).map(|i| format!("events/dir/{i}.json")).collect();
    keys.push("events/ሴ &amp.json".into());
    for key in &keys {
        client.put(key, b"{}", &Condition::None).unwrap();
    }
    client.put("other/x", b"{}", &Condition::None).unwrap();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(client.list_pages("events/", 3).unwrap(), expected);
    assert_eq!(client.list("events/").unwrap(), expected);
}

#[test]
fn a_large_object_goes_up_in_parts_and_reads_back_whole() {
    let server = server_or_skip!();
    let (_, client) = server.bucket("multipart");
    let client = client.with_multipart(6 * 1024 * 1024, 5 * 1024 * 1024);
    let body: Vec<u8> = (0..12 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let etag = client.put("big.bin", &body, &Condition::None).unwrap();
    assert!(
        etag.trim_matches('"').ends_with("-3"),
        "three parts: {etag}"
    );
    assert!(client.get("big.bin").unwrap().unwrap().body == body);
    // Below the threshold, one PUT: a plain MD5 ETag.
    let etag = client
        .put("small.bin", &body[..1024], &Condition::None)
        .unwrap();
    assert!(!etag.contains('-'), "{etag}");
}

#[test]
fn slow_down_and_dropped_connections_are_retried() {
    let server = server_or_skip!();
    let (bucket, _) = server.bucket("faults");
    let proxy = FaultProxy::start(
        &server.endpoint,
        &[Fault::SlowDown, Fault::Drop, Fault::SlowDown],
    );
    let client = S3Client::new(server.config_at(&proxy.endpoint, &bucket))
        .unwrap()
        .with_retry(Duration::from_millis(1), 10);
    client.put("k", b"saved", &Condition::None).unwrap();
    assert_eq!(proxy.requests(), 4, "three faults, then the write");
    assert_eq!(client.get("k").unwrap().unwrap().body, b"saved");
}

#[test]
fn the_last_slow_down_is_internal_and_a_403_is_not() {
    let server = server_or_skip!();
    let (bucket, _) = server.bucket("give-up");
    let proxy = FaultProxy::start(&server.endpoint, &[]);
    proxy.always(Fault::SlowDown);
    let client = S3Client::new(server.config_at(&proxy.endpoint, &bucket))
        .unwrap()
        .with_retry(Duration::ZERO, 3);
    let error = client.get("k").unwrap_err();
    assert_eq!(proxy.requests(), 3);
    assert_eq!(error.status(), Some(503));
    assert!(error.is_internal(), "{error}");
    assert!(error.to_string().contains("SlowDown"), "{error}");
    proxy.always(Fault::Forbidden);
    let error = client.get("k").unwrap_err();
    assert_eq!(proxy.requests(), 4, "a 403 is not retried");
    assert!(!error.is_internal(), "{error}");
}

#[test]
fn a_stop_during_a_retry_wait_abandons_the_request() {
    let server = server_or_skip!();
    let (bucket, _) = server.bucket("stop");
    let proxy = Arc::new(FaultProxy::start(&server.endpoint, &[]));
    proxy.always(Fault::SlowDown);
    let stop = Arc::new(StopSignal::new());
    // Waits of 6 s (the cap) after each attempt: only the stop ends them.
    let client = S3Client::new(server.config_at(&proxy.endpoint, &bucket))
        .unwrap()
        .with_retry(Duration::from_secs(60), 10)
        .with_stop_signal(Arc::clone(&stop));
    let stopper = {
        let proxy = Arc::clone(&proxy);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            assert!(proxy.wait_for_requests(1));
            stop.stop();
        })
    };
    let error = client.put("k", b"v", &Condition::None).unwrap_err();
    stopper.join().unwrap();
    assert!(
        matches!(&error, S3Error::Request { cause, .. } if matches!(**cause, HttpError::Interrupted { .. })),
        "{error}"
    );
    assert!(error.is_internal());
    assert!(proxy.requests() < 10, "{}", proxy.requests());
}

#[test]
fn refused_credentials_name_the_key_to_check_and_never_a_secret() {
    let server = server_or_skip!();
    let (bucket, client) = server.bucket("credentials");
    client.put("k", b"v", &Condition::None).unwrap();
    let secret = "unknown-\"secret'-value";
    // An access key the store does not know (revoked, or never made).
    let unknown = S3Client::new(sekoia_automation::unversioned::s3::S3Config::new(
        server.endpoint.clone(),
        "us-east-1",
        bucket.clone(),
        "AKIAREVOKED000000000",
        Secret::new(secret.to_string()),
    ))
    .unwrap()
    .with_retry(Duration::ZERO, 10);
    let error = unknown.get("k").unwrap_err();
    assert_eq!(error.status(), Some(403), "{error}");
    assert!(!error.is_internal());
    let text = format!("{error} {error:?}");
    assert!(text.contains("InvalidAccessKeyId"), "{text}");
    assert!(text.contains("Check `aws_access_key_id`"), "{text}");
    assert!(!text.contains("unknown-"), "{text}");
    // The bucket check is a HEAD: no body, all three keys named.
    let error = unknown.check_bucket().unwrap_err();
    assert_eq!(error.status(), Some(403), "{error}");
    let text = error.to_string();
    for key in [
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    ] {
        assert!(text.contains(key), "{text}");
    }
    // A session token the store refuses (expired temporary credentials;
    // moto refuses any token with a permanent key).
    let token = "expired-\"token'-value";
    let expired = S3Client::new(
        server
            .config_at(&server.endpoint, &bucket)
            .with_session_token(Secret::new(token.to_string())),
    )
    .unwrap()
    .with_retry(Duration::ZERO, 10);
    let error = expired.get("k").unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(!error.is_internal(), "the trigger's error: {error}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("InvalidToken"), "{text}");
    assert!(text.contains("Check `aws_session_token`"), "{text}");
    assert!(!text.contains("expired-"), "{text}");
    assert!(!text.contains(&server.secret_access_key), "{text}");
}
