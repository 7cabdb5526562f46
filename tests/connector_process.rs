//! A connector killed with SIGKILL at random moments of its
//! push-and-checkpoint loop, 50 times, restarted each time
//! (`examples/connector.rs` as the module, the local platform as the
//! intake): the checkpoint never passes an event the intake has not
//! acknowledged (checked against the platform's record after every kill),
//! `context.json` always parses, and the run that follows the last kill
//! finishes the feed, so every event reaches the intake at least once.

mod support;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sekoia_automation::testing::{LocalPlatform, Sandbox};
use serde_json::{Value, json};
use support::child::Bounded;

const KILLS: u32 = 50;
const TOTAL: u64 = 120_000;
/// The module is killed this long after its start, at most.
const MAX_DELAY_MS: u64 = 250;
/// Bound on the whole test.
const TIME_LIMIT: Duration = Duration::from_secs(240);

/// splitmix64: deterministic pseudo-random delays without a crate.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The ids of the events the intake accepted (answered 200 for).
fn accepted(platform: &LocalPlatform) -> HashSet<u64> {
    let mut ids = HashSet::new();
    for request in platform.requests() {
        if request.route() != "batch" || request.status != 200 {
            continue;
        }
        let body = request.json().expect("a JSON batch");
        for json in body["jsons"].as_array().expect("a jsons list") {
            let event: Value = serde_json::from_str(json.as_str().expect("a string")).unwrap();
            ids.insert(event["id"].as_u64().expect("an id"));
        }
    }
    ids
}

/// The saved position, after checking that `context.json` parses.
fn saved_cursor(sandbox: &Sandbox) -> u64 {
    let path = sandbox.data_directory().join("context.json");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let context: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("context.json does not parse ({error}): {bytes:?}"));
            context["feed"]["cursor"].as_u64().unwrap_or(0)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => panic!("cannot read context.json: {error}"),
    }
}

fn command(sandbox: &Sandbox, binary: &std::path::Path) -> Command {
    let mut command = sandbox.command(binary);
    command
        .arg("collect_feed")
        .env("SEKOIA_AUTOMATION_BACKOFF_MS", "10")
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[test]
fn a_connector_killed_at_random_moments_never_checkpoints_past_unacknowledged_events() {
    let started = Instant::now();
    let binary = support::example("connector");
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    // As the platform gives every trigger (the Python SDK reads it at start).
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    // Every batch takes the intake 20 ms: the kills land mostly while a
    // push is in flight, and the feed (600 batches) outlasts the 50 kills
    // whatever the machine's speed.
    platform.inject(
        sekoia_automation::testing::Fault::delay(Duration::from_millis(20))
            .always()
            .on_path_suffix("/batch"),
    );
    sandbox
        .set_json(
            "connector_configuration",
            &json!({
                "intake_key": "KILLED",
                "intake_server": platform.intake_url(),
                "total": TOTAL,
                "page_size": 200,
            }),
        )
        .unwrap();
    let mut random = SplitMix(50);
    let mut moved = 0;
    let mut previous = 0;
    let mut kills = 0;
    for kill in 0..KILLS {
        assert!(started.elapsed() < TIME_LIMIT, "the test ran out of time");
        let mut child = command(&sandbox, &binary).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(5 + random.next() % MAX_DELAY_MS));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        kills += 1;
        let cursor = saved_cursor(&sandbox);
        let on_intake = accepted(&platform);
        // At-least-once: every event before the saved position is on the
        // intake.
        if let Some(missing) = (0..cursor).find(|id| !on_intake.contains(id)) {
            panic!(
                "kill {kill} ({status}): the checkpoint is at {cursor} but event {missing} never reached the intake"
            );
        }
        assert!(cursor >= previous, "the checkpoint went back");
        moved += u32::from(cursor > previous);
        previous = cursor;
        if cursor >= TOTAL {
            break;
        }
    }
    assert_eq!(
        kills, KILLS,
        "the feed ended before the 50th kill: make it longer"
    );
    // The last run, not killed, finishes the feed from the checkpoint.
    let output = command(&sandbox, &binary).output_bounded();
    assert!(output.status.success(), "the last run: {}", output.status);
    assert_eq!(saved_cursor(&sandbox), TOTAL);
    let on_intake = accepted(&platform);
    assert_eq!(
        on_intake.len() as u64,
        TOTAL,
        "every event reached the intake"
    );
    assert!(
        moved > 5,
        "the kills landed before any progress: {moved} runs moved the checkpoint"
    );
    eprintln!(
        "{kills} kills, {moved} of them after the checkpoint moved, checkpoint at {previous} before the last run"
    );
}

#[test]
fn run_local_runs_a_connector_and_shows_its_batches_and_checkpoint() {
    let binary = support::example("connector");
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("manifest.json"),
        r#"{"name": "Feed", "slug": "feed", "version": "1.0.0", "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "configuration": {"type": "object", "properties": {}, "required": []}}"#,
    )
    .unwrap();
    let output = Command::new(binary)
        .args([
            "run-local",
            "collect_feed",
            "total=300",
            "page_size=100",
            "--json",
            "--timeout",
            "60",
        ])
        .current_dir(directory.path())
        .env("RUST_LOG", "off")
        .output_bounded();
    support::assert_success(&output);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["kind"], "connector");
    let batches = document["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 3);
    assert!(batches.iter().all(|batch| batch["status"] == 200));
    let first: Value = serde_json::from_str(batches[0]["events"][0].as_str().unwrap()).unwrap();
    assert_eq!(first["id"], 0);
    assert_eq!(document["context"]["feed"]["cursor"], 300);
    assert_eq!(
        document["context"]["most_recent_date_seen"],
        "2026-11-28T00:04:59+00:00"
    );
}
