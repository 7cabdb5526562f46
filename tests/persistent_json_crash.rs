//! Crash safety of `PersistentJson` with real processes: a writer killed
//! with SIGKILL at any instant leaves the old content or the new one, never
//! an empty or partial file.
//!
//! The test re-executes its own binary as the writer (the child branch is
//! selected by an environment variable) and kills it at pseudo-random
//! instants.

#[path = "support/crash_state.rs"]
mod crash_state;

use std::fs;
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crash_state::{SplitMix, State};
use sekoia_automation::storage::PersistentJson;

/// Set in the child: the path of the file it keeps rewriting.
const CHILD_VARIABLE: &str = "PERSISTENT_JSON_CRASH_CHILD";
/// The name of the test, for `--exact`.
const TEST_NAME: &str = "a_killed_writer_leaves_a_complete_file";
/// How many times the writer is started and killed.
const KILLS: u64 = 250;
/// The writer is killed this long after its start, at most.
const MAX_DELAY: Duration = Duration::from_millis(20);
/// Size of the payload rewritten at each save.
const PAYLOAD_LEN: usize = 100_000;
/// What the writer prints when it starts writing.
const READY: &str = "persistent_json_crash: the writer starts";
/// How long the writer may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on the whole run.
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn payload(counter: u64) -> String {
    crash_state::payload(counter, PAYLOAD_LEN)
}

fn check(state: &State, context: &str) {
    crash_state::check(state, PAYLOAD_LEN, context);
}

/// The writer: opens the file, checks it, bumps the counter, rewrites the
/// payload, saves; forever, until it is killed.
fn child(path: &Path) -> ! {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{READY}").unwrap();
    stdout.flush().unwrap();
    loop {
        let mut state = PersistentJson::<State>::open(path)
            .unwrap_or_else(|error| panic!("the child found a broken file: {error}"));
        check(&state, "the child");
        state.counter += 1;
        state.payload = payload(state.counter);
        state
            .close()
            .unwrap_or_else(|error| panic!("the child could not save: {error}"));
    }
}

#[test]
fn a_killed_writer_leaves_a_complete_file() {
    if let Some(path) = std::env::var_os(CHILD_VARIABLE) {
        child(Path::new(&path));
    }

    let started = Instant::now();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let executable = std::env::current_exe().unwrap();
    let mut random = SplitMix(0x5EC0_1A00_C0FF_EE00);
    let mut last_counter = 0;
    let mut kills_after_progress = 0;

    for kill in 1..=KILLS {
        let mut writer = Command::new(&executable)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_VARIABLE, &path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Count from the start of the writer, not of the process: the test
        // harness takes a few milliseconds to get there. (The harness prints
        // `test <name> ... ` first, on the same line.)
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
        match fs::read(&path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                assert_eq!(last_counter, 0, "{context}: the file disappeared");
            }
            Err(error) => panic!("{context}: cannot read the file: {error}"),
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                    panic!(
                        "{context}: the file is not a complete state ({} bytes): {error}",
                        bytes.len()
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

    let elapsed = started.elapsed();
    let temporary_files = || {
        fs::read_dir(directory.path())
            .unwrap()
            .filter(|entry| {
                let name = entry.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(".tmp")
            })
            .count()
    };
    let interrupted_saves = temporary_files();
    // The next open removes what the killed writers left.
    PersistentJson::<State>::open(&path).unwrap().discard();
    assert_eq!(temporary_files(), 0, "temporary files left after an open");
    eprintln!(
        "{KILLS} kills in {elapsed:?}: {last_counter} saves, {kills_after_progress} kills after \
         progress, {interrupted_saves} saves interrupted between the temporary file and the rename"
    );
    // The writers really wrote: the test cannot pass vacuously. (A save
    // takes from well under a millisecond to tens of them, depending on how
    // fast the disk flushes: do not ask for much.)
    assert!(
        kills_after_progress >= KILLS / 25,
        "too little progress: {last_counter} saves, {kills_after_progress} kills after progress"
    );
    assert!(elapsed < TIME_LIMIT, "took {elapsed:?}");
}
