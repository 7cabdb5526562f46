//! The vendor client's overhead per request: `cargo bench --bench vendor`.
//!
//! A `GET` with a bearer token to a fake vendor API on 127.0.0.1 (`testing::FakeVendor`,
//! a 60-byte JSON answer), read whole, over a kept-alive connection:
//! - `bare_ureq`: a ureq agent configured as the client's (timeouts per
//!   phase, statuses as values), the header set by hand, the body read;
//! - `vendor_client`: `VendorClient::get(path).send()` with its default
//!   retry policy, a per-host rate limit far above the rate reached, URL
//!   normalization, secret-scrubbing setup and the answer's headers copied.
//!
//! Both in the same run against the same server; the figure is the ratio.
//! The machine is shared and its load drifts between criterion's two
//! measurement windows, so the bench first prints a paired figure: 3,000
//! pairs of one bare and one client request back to back, the median of
//! each and the median of the per-pair ratios (`paired overhead`).

#[path = "../tests/support/fake_vendor.rs"]
mod fake_vendor;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use fake_vendor::{FakeVendor, Reply};
use sekoia_automation::Secret;
use sekoia_automation::vendor::{Auth, RateLimit, VendorClient};

fn per_request(c: &mut Criterion) {
    let vendor = FakeVendor::start(|_| {
        Reply::json(
            200,
            r#"{"id": "alert-1", "score": 42, "tags": ["malware", "c2"]}"#,
        )
    });
    // Recording would grow a vector through the run and slow later windows.
    vendor.stop_recording();
    let url = format!("{}/api/v1/alerts/1", vendor.url);
    let timeout = Some(Duration::from_secs(30));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(timeout)
        .timeout_send_request(timeout)
        .timeout_send_body(timeout)
        .timeout_recv_response(timeout)
        .timeout_recv_body(timeout)
        .http_status_as_error(false)
        .build()
        .into();
    let client = VendorClient::builder()
        .base_url(format!("{}/api/v1", vendor.url))
        .auth(Auth::bearer(Secret::new("bench-token".into())))
        .rate_limit(RateLimit::per_second(1_000_000))
        .build()
        .unwrap();

    let bare = || {
        let mut response = agent
            .get(&url)
            .header("Authorization", "Bearer bench-token")
            .header("User-Agent", "sekoiaio-connector/bench-1.0.0")
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.body_mut().read_to_vec().unwrap()
    };
    let with_client = || {
        let response = client.get("alerts/1").send().unwrap();
        assert_eq!(response.status(), 200);
        response.into_body()
    };
    // Paired: both kinds under the same load, one right after the other.
    let mut bare_times = Vec::new();
    let mut client_times = Vec::new();
    let mut ratios = Vec::new();
    for pair in 0..3_200 {
        let started = Instant::now();
        std::hint::black_box(bare());
        let bare_time = started.elapsed();
        let started = Instant::now();
        std::hint::black_box(with_client());
        let client_time = started.elapsed();
        if pair >= 200 {
            bare_times.push(bare_time);
            client_times.push(client_time);
            ratios.push(client_time.as_secs_f64() / bare_time.as_secs_f64());
        }
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let mut bare_us: Vec<f64> = bare_times.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    let mut client_us: Vec<f64> = client_times.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    println!(
        "paired (3,000 pairs): bare ureq median {:.1} µs, vendor client median {:.1} µs, paired overhead (median ratio) {:+.1}%",
        median(&mut bare_us),
        median(&mut client_us),
        (median(&mut ratios) - 1.0) * 100.0
    );

    let mut group = c.benchmark_group("vendor_get");
    group.sample_size(50);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("bare_ureq", |b| {
        b.iter_custom(|iters| {
            let mut measured = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                std::hint::black_box(bare());
                measured += started.elapsed();
                std::hint::black_box(with_client());
            }
            measured
        })
    });
    group.bench_function("vendor_client", |b| {
        b.iter_custom(|iters| {
            let mut measured = Duration::ZERO;
            for _ in 0..iters {
                std::hint::black_box(bare());
                let started = Instant::now();
                std::hint::black_box(with_client());
                measured += started.elapsed();
            }
            measured
        })
    });
    group.finish();
}

criterion_group!(benches, per_request);
criterion_main!(benches);
