//! The send path of a trigger: `cargo bench --bench trigger`.
//!
//! - `event_body`: a typed event and a fresh UUIDv4 `request_id` turned into
//!   the request body, byte-identical to the Python SDK's; baseline:
//!   `serde_json::to_vec` of the same body (compact, not Python's spacing).
//! - `post_loopback`: that body posted to the embedded platform over a
//!   keep-alive connection by the trigger's [`EventSender`] (request id,
//!   bearer, the one retry loop, the per-attempt deadline), and by the
//!   [`PlatformClient`] it goes through; baseline: a bare `ureq` POST of the
//!   same bytes (no deadline).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use schemars::JsonSchema;
use sekoia_automation::Secret;
use sekoia_automation::testing::LocalPlatform;
use sekoia_automation::unversioned::wire::EventSender;
use sekoia_automation::unversioned::wire::PlatformClient;
use sekoia_automation::unversioned::wire::event_body;
use sekoia_automation::unversioned::wire::{Method, Request};
use serde::Serialize;

#[derive(Serialize, JsonSchema)]
struct Alert {
    id: u64,
    severity: u64,
    source: String,
    tags: Vec<&'static str>,
    observables: Observables,
}

#[derive(Serialize, JsonSchema)]
struct Observables {
    ip: &'static str,
    domain: &'static str,
    port: u16,
}

fn alert(id: u64) -> Alert {
    Alert {
        id,
        severity: id * 37 % 101,
        source: "https://feed.example/alerts".into(),
        tags: vec!["malware", "c2", "déjà vu"],
        observables: Observables {
            ip: "10.0.0.1",
            domain: "evil.example",
            port: 443,
        },
    }
}

#[derive(Serialize)]
struct CompactBody<'a> {
    name: &'a str,
    event: &'a Alert,
    request_id: &'a str,
}

fn bodies(c: &mut Criterion) {
    let event = alert(42);
    let mut group = c.benchmark_group("event_body");
    group.throughput(Throughput::Elements(1));
    group.bench_function("python_body_with_request_id", |b| {
        b.iter(|| {
            let request_id = uuid::Uuid::new_v4().hyphenated().to_string();
            event_body("alert", black_box(&event), &request_id, None).unwrap()
        })
    });
    group.bench_function("baseline_serde_json_to_vec", |b| {
        b.iter(|| {
            let request_id = uuid::Uuid::new_v4().hyphenated().to_string();
            serde_json::to_vec(&CompactBody {
                name: "alert",
                event: black_box(&event),
                request_id: &request_id,
            })
            .unwrap()
        })
    });
    group.finish();
}

fn loopback(c: &mut Criterion) {
    let platform = LocalPlatform::start().unwrap();
    let url = platform.callback_url();
    let body = event_body("alert", &alert(1), &uuid::Uuid::new_v4().to_string(), None).unwrap();
    let token = Secret::new(platform.token().to_string());
    let client = PlatformClient::new(token.clone());
    let sender = EventSender::new(&url, client.clone());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let authorization = format!("Bearer {}", platform.token());
    let mut group = c.benchmark_group("post_loopback");
    group.throughput(Throughput::Elements(1));
    // The platform records every request: keep the runs (and its memory) short.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("event_sender_send", |b| {
        b.iter(|| sender.send(&body).unwrap())
    });
    platform.clear();
    group.bench_function("platform_client_send", |b| {
        b.iter(|| {
            client
                .send(&Request::new(Method::Post, &url).body(&body))
                .unwrap()
        })
    });
    platform.clear();
    group.bench_function("baseline_bare_ureq", |b| {
        b.iter(|| {
            let mut response = agent
                .post(&url)
                .header("Authorization", &authorization)
                .header("Content-Type", "application/json")
                .send(&body[..])
                .unwrap();
            response.body_mut().read_to_vec().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bodies, loopback);
criterion_main!(benches);
