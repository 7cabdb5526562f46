//! Figures: a `PersistentJson` save of 1 KB and 1 MB to the local S3 server,
//! the crate against the Python SDK 1.27's `PersistentJSON` in the same run
//! (time per save, requests per save counted by a proxy in front of the
//! server). Ignored by default; prints its table:
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python SEKOIA_S3_PYTHON=target/s3-venv/bin/python \
//!   cargo test --release --test s3_figures -- --ignored --nocapture
//! ```

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/s3_server.rs"]
mod s3_server;

#[path = "support/child.rs"]
mod child;

use std::process::Command;
use std::time::Instant;

use child::Bounded;
use fault_proxy::FaultProxy;
use sekoia_automation::storage::DataDirectory;
use sekoia_automation::unversioned::s3::S3Client;
use serde_json::{Value, json};

const SAVES: usize = 20;
/// Saves of the runs whose requests are counted.
const COUNTED_SAVES: usize = 5;

/// Saves `PersistentJSON("figures.json")` SAVES times, each with a changed
/// value of about `size` bytes; prints the seconds spent in the saves.
const SCRIPT: &str = r#"
import sys, time
from sekoia_automation.storage import PersistentJSON
size, saves = int(sys.argv[1]), int(sys.argv[2])
state = PersistentJSON("figures.json")
state.load()
spent = 0.0
for i in range(saves):
    state._data["payload"] = "x" * size
    state._data["i"] = i
    start = time.perf_counter()
    state.dump()
    spent += time.perf_counter() - start
print(spent)
"#;

#[test]
#[ignore = "figures: run explicitly, see the module documentation"]
fn persistent_json_saves_crate_against_python() {
    let server = s3_server::server().expect("SEKOIA_S3_PYTHON: a Python with moto[server]");
    let sdk = std::env::var("SEKOIA_PYTHON").expect("SEKOIA_PYTHON: the Python SDK's Python");
    // Requests are counted through a proxy, in runs of their own; times are
    // taken straight against the server.
    let proxy = FaultProxy::start(&server.endpoint, &[]);
    println!(
        "| size | crate ms/save | crate requests/save | Python ms/save | Python requests/save |"
    );
    println!("|---|---|---|---|---|");
    for size in [1024usize, 1024 * 1024] {
        let (bucket, _) = server.bucket("figures");
        let crate_run = |endpoint: &str, saves: usize| {
            let client = S3Client::new(server.config_at(endpoint, &bucket)).unwrap();
            let data = DataDirectory::s3(client);
            let mut state = data.persistent_json::<Value>("figures.json").unwrap();
            let mut spent = std::time::Duration::ZERO;
            for i in 0..saves {
                *state = json!({"payload": "x".repeat(size), "i": i, "run": endpoint});
                let start = Instant::now();
                state.save().unwrap();
                spent += start.elapsed();
            }
            state.discard();
            spent.as_secs_f64()
        };
        let python_run = |endpoint: &str, saves: usize| {
            let output = Command::new(&sdk)
                .args(["-c", SCRIPT, &size.to_string(), &saves.to_string()])
                .env("FILE_BACKEND", "s3")
                .env("AWS_BUCKET_NAME", &bucket)
                .env("AWS_ACCESS_KEY_ID", &server.access_key_id)
                .env("AWS_SECRET_ACCESS_KEY", &server.secret_access_key)
                .env("AWS_DEFAULT_REGION", "us-east-1")
                .env("AWS_S3_ENDPOINT_URL", endpoint)
                .output_bounded();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse::<f64>()
                .unwrap()
        };
        let counted = |run: &dyn Fn(&str, usize) -> f64| {
            let before = proxy.requests();
            run(&proxy.endpoint, 0);
            let start = proxy.requests() - before;
            let before = proxy.requests();
            run(&proxy.endpoint, COUNTED_SAVES);
            (proxy.requests() - before - start) as f64 / COUNTED_SAVES as f64
        };
        let crate_ms = crate_run(&server.endpoint, SAVES) * 1000.0 / SAVES as f64;
        let python_ms = python_run(&server.endpoint, SAVES) * 1000.0 / SAVES as f64;
        let crate_requests = counted(&crate_run);
        let python_requests = counted(&python_run);
        println!(
            "| {size} B | {crate_ms:.2} | {crate_requests:.2} | {python_ms:.2} | {python_requests:.2} |"
        );
    }
}
