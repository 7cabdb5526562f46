//! Crash safety of `PersistentJson` on the S3 file backend (moto's server,
//! see `tests/support/s3_server.rs`): a writer saving in a loop, killed
//! with SIGKILL at pseudo-random instants (mid-upload among them), leaves
//! the old object or the new one, never a partial one.
//!
//! The test re-executes its own binary as the writer (the child branch is
//! selected by an environment variable). Skipped, with one line on stderr
//! saying how to run it, when no Python with `moto[server]` is installed.

#[path = "support/s3_server.rs"]
mod s3_server;

#[path = "support/crash_state.rs"]
mod crash_state;

use std::io::{self, BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crash_state::{SplitMix, State};
use sekoia_automation::Secret;
use sekoia_automation::storage::DataDirectory;
use sekoia_automation::unversioned::s3::{S3Client, S3Config};

/// Set in the child: `endpoint bucket access_key_id secret`.
const CHILD_VARIABLE: &str = "S3_CRASH_CHILD";
/// The name of the test, for `--exact`.
const TEST_NAME: &str = "a_killed_writer_leaves_the_old_or_the_new_object";
/// How many times the writer is started and killed.
const KILLS: u64 = 30;
/// The writer is killed this long after it starts writing, at most.
const MAX_DELAY: Duration = Duration::from_millis(400);
/// Size of the payload rewritten at each save: a PUT long enough to be cut.
const PAYLOAD_LEN: usize = 1_000_000;
/// What the writer prints when it starts writing.
const READY: &str = "s3_crash: the writer starts";
/// How long the writer may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(20);

fn payload(counter: u64) -> String {
    crash_state::payload(counter, PAYLOAD_LEN)
}

fn check(state: &State, context: &str) {
    crash_state::check(state, PAYLOAD_LEN, context);
}

fn data_directory(endpoint: &str, bucket: &str, key_id: &str, secret: &str) -> DataDirectory {
    let config = S3Config::new(
        endpoint,
        "us-east-1",
        bucket,
        key_id,
        Secret::new(secret.to_string()),
    );
    DataDirectory::s3(
        S3Client::new(config)
            .unwrap()
            .with_retry(Duration::ZERO, 10),
    )
}

/// The writer: opens the object, checks it, bumps the counter, rewrites the
/// payload, saves; forever, until it is killed.
fn child(arguments: &str) -> ! {
    let parts: Vec<&str> = arguments.split(' ').collect();
    let data = data_directory(parts[0], parts[1], parts[2], parts[3]);
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{READY}").unwrap();
    stdout.flush().unwrap();
    loop {
        let mut state = data
            .persistent_json::<State>("state/context.json")
            .unwrap_or_else(|error| panic!("the child found a broken object: {error}"));
        check(&state, "the child");
        state.counter += 1;
        state.payload = payload(state.counter);
        state
            .close()
            .unwrap_or_else(|error| panic!("the child could not save: {error}"));
    }
}

#[test]
fn a_killed_writer_leaves_the_old_or_the_new_object() {
    if let Ok(arguments) = std::env::var(CHILD_VARIABLE) {
        child(&arguments);
    }
    let Some(server) = s3_server::server() else {
        return;
    };
    let (bucket, client) = server.bucket("crash");
    let arguments = format!(
        "{} {bucket} {} {}",
        server.endpoint, server.access_key_id, server.secret_access_key
    );
    let executable = std::env::current_exe().unwrap();
    let mut random = SplitMix(0x53C0_FFEE_0000_0001);
    let mut last_counter = 0;
    let mut kills_after_progress = 0;
    for kill in 1..=KILLS {
        let mut writer = Command::new(&executable)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_VARIABLE, &arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(writer.stdout.take().unwrap());
        let (ready, started_writing) = mpsc::channel();
        std::thread::spawn(move || {
            let found = stdout
                .lines()
                .any(|line| line.is_ok_and(|line| line.ends_with(READY)));
            let _ = ready.send(found);
        });
        if started_writing.recv_timeout(START_TIMEOUT) != Ok(true) {
            let _ = writer.kill();
            panic!("kill {kill}: the writer did not start: {:?}", writer.wait());
        }
        let delay = random.next() % (MAX_DELAY.as_micros() as u64 + 1);
        std::thread::sleep(Duration::from_micros(delay));
        writer.kill().unwrap(); // SIGKILL
        let status = writer.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "kill {kill}: the writer must be killed, not stop by itself: {status}"
        );
        let context = format!("after kill {kill} ({delay} µs)");
        match client.get("state/context.json").unwrap() {
            None => assert_eq!(last_counter, 0, "{context}: the object disappeared"),
            Some(object) => {
                let state: State = serde_json::from_slice(&object.body).unwrap_or_else(|error| {
                    panic!(
                        "{context}: the object is not a complete state ({} bytes): {error}",
                        object.body.len()
                    )
                });
                check(&state, &context);
                assert!(
                    state.counter >= last_counter,
                    "{context}: the counter went back from {last_counter} to {}",
                    state.counter
                );
                if state.counter > last_counter {
                    kills_after_progress += 1;
                }
                last_counter = state.counter;
            }
        }
    }
    assert!(
        kills_after_progress > 0 && kills_after_progress < KILLS,
        "some kills after a save, some before the next one ended: {kills_after_progress} of {KILLS}"
    );
}
