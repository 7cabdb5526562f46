//! `context.json` as it is found on disk and shared between processes: a
//! checkpoint file of the wrong shape is an error that names the file and
//! the key, leaves the file as it is and pushes nothing (never a reset to
//! the default position); an empty (0-byte) file is no checkpoint; two
//! processes advancing their own subkeys of one file lose none of each
//! other's writes; a writer killed with SIGKILL leaves temporary files that
//! the next process to open the file removes.
//!
//! The processes are this test binary run again, its child branch selected
//! by an environment variable.

#[path = "support/child.rs"]
mod child;

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use child::Bounded;
use sekoia_automation::connector::CheckpointCursor;
use sekoia_automation::connector::ContextFile;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::{Connector, ConnectorContext, Module, TriggerError};
use serde_json::{Value, json};

/// Reads its checkpoint, pushes what follows it, advances it, then stops.
struct Feed {
    subkey: Option<&'static str>,
}

impl Connector for Feed {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = String;
    const NAME: &'static str = "Feed";
    const DESCRIPTION: &'static str = "Collect from the checkpoint on";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let result = (|| {
            let mut checkpoint = ctx.checkpoint_datetime();
            if let Some(subkey) = self.subkey {
                checkpoint = checkpoint.subkey(subkey);
            }
            let from = checkpoint.offset()?;
            let acknowledged = ctx.push_events([format!("since {}", from.to_iso8601())])?;
            checkpoint.advance(
                sekoia_automation::connector::Timestamp::now(),
                &acknowledged,
            )?;
            Ok(())
        })();
        ctx.stop();
        result
    }
}

/// Runs `Feed` once on a `context.json` holding `content`: the file
/// after the run, the events pushed and the messages logged.
fn run_feed(content: &[u8], subkey: Option<&'static str>) -> (Vec<u8>, usize, Vec<String>) {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    sandbox
        .set_json("connector_configuration", &json!({"intake_key": "FEED"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    let path = sandbox.data_directory().join("context.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    let code = Module::<Value>::with_settings(sandbox.settings())
        .register("feed", Feed { subkey })
        .run_command("feed");
    assert_eq!(code, ExitCode::SUCCESS);
    let events = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "batch")
        .count();
    let messages = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs")
        .flat_map(|request| {
            request.json().unwrap()["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|log| log["message"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    (std::fs::read(&path).unwrap(), events, messages)
}

#[test]
fn a_checkpoint_of_the_wrong_shape_is_an_error_naming_the_file_and_the_key_and_nothing_is_pushed() {
    let cases: [(&[u8], Option<&'static str>, &str); 6] = [
        (br#"{"feed": "x"}"#, Some("feed"), "`feed`"),
        (br#"{"feed": 500}"#, Some("feed"), "`feed`"),
        (br#"{"feed": [1000]}"#, Some("feed"), "`feed`"),
        (br#"{"feed": null}"#, Some("feed"), "`feed`"),
        (b"  \n\t ", None, "only whitespace"),
        (b"\n", Some("feed"), "only whitespace"),
    ];
    for (content, subkey, named) in cases {
        let (after, events, messages) = run_feed(content, subkey);
        let shown = String::from_utf8_lossy(content);
        assert_eq!(after, content, "{shown:?}: the file was changed");
        assert_eq!(events, 0, "{shown:?}: events were pushed");
        assert!(
            messages
                .iter()
                .any(|message| message.contains("context.json") && message.contains(named)),
            "{shown:?}: no error naming the file and {named}: {messages:?}"
        );
    }
}

#[test]
fn an_empty_file_is_no_checkpoint() {
    let (after, events, _) = run_feed(b"", Some("feed"));
    assert_eq!(events, 1);
    let after: Value = serde_json::from_slice(&after).unwrap();
    assert!(
        after["feed"]["most_recent_date_seen"].is_string(),
        "{after}"
    );
}

#[test]
fn advancing_a_subkey_that_holds_no_object_is_an_error_and_writes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("context.json");
    for content in [r#"{"s": "x"}"#, r#"{"s": 500}"#, r#"{"s": [1000]}"#] {
        std::fs::write(&path, content).unwrap();
        let mut cursor = CheckpointCursor::<u64>::new(directory.path()).subkey("s");
        let error = cursor.advance_unacknowledged(7).unwrap_err().to_string();
        assert!(
            error.contains("context.json") && error.contains("`s`"),
            "{content}: {error}"
        );
        assert!(cursor.offset().is_err(), "{content}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
    }
}

/// Set in a child: what it does (`advance:<subkey>:<times>`, `write`,
/// `open`), the data directory in [`DIRECTORY_VARIABLE`].
const ROLE_VARIABLE: &str = "CONTEXT_FILE_CHILD_ROLE";
const DIRECTORY_VARIABLE: &str = "CONTEXT_FILE_CHILD_DIRECTORY";
/// What a writer prints once it has saved the file once.
const WRITING: &str = "context_file: writing";
/// How many times each of two processes advances its own subkey.
const ADVANCES: u64 = 300;

/// The child's side: never returns.
fn child(role: &str, directory: &Path) -> ! {
    if let Some(rest) = role.strip_prefix("advance:") {
        let (subkey, times) = rest.split_once(':').unwrap();
        let times: u64 = times.parse().unwrap();
        let mut cursor = CheckpointCursor::<u64>::new(directory).subkey(subkey);
        let mut lost = 0;
        for position in 1..=times {
            // What this process wrote last is there, unless the other
            // process wrote over it with an older file.
            let expected = (position > 1).then_some(position - 1);
            if cursor.offset().unwrap() != expected {
                lost += 1;
            }
            cursor.advance_unacknowledged(position).unwrap();
        }
        println!("lost {lost}");
        std::process::exit(0);
    }
    if role == "write" {
        // Large saves, so that a kill lands in the middle of one.
        let file = ContextFile::open(directory.join("context.json"));
        let payload = "x".repeat(4 << 20);
        for count in 0u64.. {
            file.update(|map| {
                map.insert("count".into(), json!(count));
                map.insert("payload".into(), json!(payload));
            })
            .unwrap();
            if count == 0 {
                println!("{WRITING}");
            }
        }
    }
    if role == "open" {
        let file = ContextFile::open(directory.join("context.json"));
        file.read().unwrap();
        std::process::exit(0);
    }
    panic!("unknown child role {role}");
}

fn child_command(test: &str, role: &str, directory: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE_VARIABLE, role)
        .env(DIRECTORY_VARIABLE, directory)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

fn run_child_branch() {
    if let (Some(role), Some(directory)) = (
        std::env::var_os(ROLE_VARIABLE),
        std::env::var_os(DIRECTORY_VARIABLE),
    ) {
        child(&role.to_string_lossy(), Path::new(&directory));
    }
}

#[test]
fn two_processes_advancing_their_own_subkeys_lose_none_of_each_other_s_writes() {
    const TEST: &str = "two_processes_advancing_their_own_subkeys_lose_none_of_each_other_s_writes";
    run_child_branch();
    let directory = tempfile::tempdir().unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|subkey| {
            child_command(
                TEST,
                &format!("advance:{subkey}:{ADVANCES}"),
                directory.path(),
            )
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let output = child::finish(child, TEST, child::DEADLINE);
        assert!(output.status.success(), "{:?}", output.status);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.lines().any(|line| line.ends_with("lost 0")),
            "a process found its own subkey gone back: {stdout}"
        );
    }
    let context: Value =
        serde_json::from_slice(&std::fs::read(directory.path().join("context.json")).unwrap())
            .unwrap();
    assert_eq!(
        context,
        json!({"a": {"cursor": ADVANCES}, "b": {"cursor": ADVANCES}})
    );
}

fn temporary_files(directory: &Path) -> Vec<String> {
    std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".context.json.") && name.ends_with(".tmp"))
        .collect()
}

#[test]
fn the_temporary_files_of_a_killed_writer_are_removed_by_the_next_process_to_open_the_file() {
    const TEST: &str =
        "the_temporary_files_of_a_killed_writer_are_removed_by_the_next_process_to_open_the_file";
    run_child_branch();
    let directory = tempfile::tempdir().unwrap();
    // Bounded: writers killed until one leaves a temporary file.
    for kill in 0..40u64 {
        let mut writer = child_command(TEST, "write", directory.path())
            .spawn()
            .unwrap();
        let stdout = writer.stdout.take().unwrap();
        let started = child::line_within(stdout, child::DEADLINE, |line| line.ends_with(WRITING));
        if started.is_none() {
            let _ = writer.kill();
        }
        assert!(started.is_some(), "the writer did not start");
        std::thread::sleep(Duration::from_millis(kill % 7));
        writer.kill().unwrap(); // SIGKILL
        assert_eq!(writer.wait().unwrap().signal(), Some(9));
        if !temporary_files(directory.path()).is_empty() {
            break;
        }
    }
    // One more, as a killed writer leaves it: nobody holds its lock.
    std::fs::write(
        directory
            .path()
            .join(format!(".context.json.{}.tmp", uuid::Uuid::new_v4())),
        b"{\"count\":",
    )
    .unwrap();
    let left = temporary_files(directory.path());
    assert!(!left.is_empty());

    let status = child_command(TEST, "open", directory.path())
        .output_bounded()
        .status;
    assert!(status.success());
    assert_eq!(
        temporary_files(directory.path()),
        Vec::<String>::new(),
        "left before the open: {left:?}"
    );
    let context: Value =
        serde_json::from_slice(&std::fs::read(directory.path().join("context.json")).unwrap())
            .unwrap();
    assert!(context["count"].is_u64(), "the file is complete");
}
