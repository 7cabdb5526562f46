//! The S3 file backend against the Python SDK 1.27's on the same S3 server
//! (moto's, `tests/support/s3_server.rs`): a `PersistentJSON` and a
//! `write(...)` result file written by Python are read by the crate, the
//! crate's writes are read back by Python, the objects are byte for byte
//! the same, at the same keys (`S3Path`'s, `sub_folder` included).
//!
//! Run when both are installed (skipped with one line otherwise):
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python SEKOIA_S3_PYTHON=target/s3-venv/bin/python cargo test --test s3_python
//! ```

#[path = "support/s3_server.rs"]
mod s3_server;

#[path = "support/child.rs"]
mod child;

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use child::Bounded;
use sekoia_automation::connector::{CheckpointCursor, CheckpointDatetime, Timestamp};
use sekoia_automation::storage::DataDirectory;
use sekoia_automation::unversioned::s3::Condition;
use serde_json::Value;

/// `write <relative> <json>`: `PersistentJSON(relative)` updated with the
/// JSON object, then `write("result.json", <json>)`, whose relative path it
/// prints. `read <relative>`: prints `PersistentJSON(relative)`'s data as
/// its `dump` would write it (orjson). `checkpoints <cursor|read> [<date>]`:
/// sets the cursor and the datetime checkpoints of the data directory's
/// `context.json` (unless `read`), then prints both.
const SCRIPT: &str = r#"
import json, sys
import orjson
from datetime import timedelta
from dateutil.parser import isoparse
from sekoia_automation.storage import PersistentJSON, get_data_path, write
from sekoia_automation.checkpoint import CheckpointCursor, CheckpointDatetime
op, relative = sys.argv[1], sys.argv[2]
if op == "checkpoints":
    if relative != "read":
        CheckpointCursor(get_data_path()).offset = relative
        CheckpointDatetime(get_data_path(), start_at=timedelta(days=3650), ignore_older_than=None).offset = isoparse(sys.argv[3])
    print(CheckpointCursor(get_data_path()).offset, CheckpointDatetime(get_data_path(), start_at=timedelta(days=3650), ignore_older_than=None).offset.isoformat())
elif op == "write":
    value = json.loads(sys.argv[3])
    with PersistentJSON(relative) as data:
        data.update(value)
    print(write("result.json", value))
else:
    state = PersistentJSON(relative)
    state.load()
    print(orjson.dumps(state._data).decode())
"#;

fn sdk_python() -> Option<String> {
    let python = std::env::var("SEKOIA_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    if python.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "S3 interoperability tests skipped: set SEKOIA_PYTHON to the Python SDK 1.27's Python"
        );
    }
    python
}

fn python(
    sdk: &str,
    server: &s3_server::S3Server,
    bucket: &str,
    sub_folder: &str,
    args: &[&str],
) -> String {
    let output = Command::new(sdk)
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .env("FILE_BACKEND", "S3")
        .env("AWS_BUCKET_NAME", bucket)
        .env("AWS_ACCESS_KEY_ID", &server.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &server.secret_access_key)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_S3_ENDPOINT_URL", &server.endpoint)
        .env("SUB_FOLDER", sub_folder)
        .output_bounded();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn python_and_the_crate_read_each_others_objects_byte_for_byte() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let Some(sdk) = sdk_python() else {
        return;
    };
    let (bucket, client) = server.bucket("interop");
    let sub_folder = "tenant//module/";
    let value = r#"{"most_recent_date_seen":"2026-01-02T03:04:05.123456+00:00","x":0.1,"tiny":1e-7,"astral":"😀","q":"a\"b'c","n":-9007199254740993}"#;

    // Python writes; the crate reads.
    let result = python(
        &sdk,
        server,
        &bucket,
        sub_folder,
        &["write", "state/./py.json", value],
    );
    let data = DataDirectory::s3(client.clone())
        .with_sub_folder(sub_folder)
        .unwrap();
    let mut keys = client.list("").unwrap();
    keys.sort();
    let mut expected = vec![
        "tenant/module/state/py.json".to_string(),
        format!("tenant/module/{result}"),
    ];
    expected.sort();
    assert_eq!(keys, expected, "the keys S3Path gives the files");
    let python_bytes = client
        .get("tenant/module/state/py.json")
        .unwrap()
        .unwrap()
        .body;
    assert_eq!(python_bytes, value.as_bytes());
    assert_eq!(data.read(&result).unwrap().unwrap(), value.as_bytes());
    let state = data.persistent_json::<Value>("state/py.json").unwrap();
    assert_eq!(state["n"].to_string(), "-9007199254740993");

    // The crate writes the same value; the same bytes; Python reads it back.
    {
        let mut ours = data.persistent_json::<Value>("state/rust.json").unwrap();
        *ours = state.discard();
    }
    let rust_bytes = client
        .get("tenant/module/state/rust.json")
        .unwrap()
        .unwrap()
        .body;
    assert_eq!(rust_bytes, python_bytes);
    let read_back = python(
        &sdk,
        server,
        &bucket,
        sub_folder,
        &["read", "state/rust.json"],
    );
    assert_eq!(read_back, value);

    // A conditional write by the crate over Python's object.
    let etag = client.head("tenant/module/state/py.json").unwrap().unwrap();
    client
        .put(
            "tenant/module/state/py.json",
            b"{\"a\":1}",
            &Condition::IfMatch(etag),
        )
        .unwrap();
    let read_back = python(
        &sdk,
        server,
        &bucket,
        sub_folder,
        &["read", "state/py.json"],
    );
    assert_eq!(read_back, "{\"a\":1}");
}

#[test]
fn checkpoints_written_by_python_are_resumed_by_the_crate_and_back() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let Some(sdk) = sdk_python() else {
        return;
    };
    let (bucket, client) = server.bucket("checkpoints");
    let printed = python(
        &sdk,
        server,
        &bucket,
        "connector",
        &["checkpoints", "page-7", "2026-01-02T03:04:05.123456+00:00"],
    );
    assert_eq!(printed, "page-7 2026-01-02T03:04:05.123456+00:00");
    let python_bytes = client.get("connector/context.json").unwrap().unwrap().body;

    let data = DataDirectory::s3(client.clone())
        .with_sub_folder("connector")
        .unwrap();
    let mut cursor = CheckpointCursor::<String>::new(data.root());
    assert_eq!(cursor.offset().unwrap().as_deref(), Some("page-7"));
    // A fresh checkpoint keeps no date before `now − start_at` (Python's
    // rule too): 10 years back on both sides.
    let mut datetime = CheckpointDatetime::new(data.root())
        .start_at(Duration::from_secs(3650 * 24 * 3600))
        .ignore_older_than(None);
    assert_eq!(
        datetime.offset().unwrap().to_iso8601(),
        "2026-01-02T03:04:05.123456"
    );
    // The same writes from the crate give the same bytes.
    client.delete("connector/context.json").unwrap();
    cursor.advance_unacknowledged("page-7".into()).unwrap();
    // 2026-01-02T03:04:05.123456+00:00
    let at = Timestamp::from(UNIX_EPOCH + Duration::from_micros(1_767_323_045_123_456));
    // A fresh checkpoint (the one above keeps the value it read).
    let mut datetime = CheckpointDatetime::new(data.root())
        .start_at(Duration::from_secs(3650 * 24 * 3600))
        .ignore_older_than(None);
    assert!(datetime.advance_unacknowledged(at).unwrap());
    assert_eq!(
        client.get("connector/context.json").unwrap().unwrap().body,
        python_bytes
    );
    cursor.advance_unacknowledged("page-8".into()).unwrap();
    let printed = python(&sdk, server, &bucket, "connector", &["checkpoints", "read"]);
    assert_eq!(printed, "page-8 2026-01-02T03:04:05.123456+00:00");
}
