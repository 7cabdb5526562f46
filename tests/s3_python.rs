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

use std::io::Write as _;
use std::process::Command;

use sekoia_automation::DataDirectory;
use sekoia_automation::s3::Condition;
use serde_json::Value;

/// `write <relative> <json>`: `PersistentJSON(relative)` updated with the
/// JSON object, then `write("result.json", <json>)`, whose relative path it
/// prints. `read <relative>`: prints `PersistentJSON(relative)`'s data as
/// its `dump` would write it (orjson).
const SCRIPT: &str = r#"
import json, sys
import orjson
from sekoia_automation.storage import PersistentJSON, write
op, relative = sys.argv[1], sys.argv[2]
if op == "write":
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
    let python = std::env::var("SEKOIA_PYTHON").ok().filter(|p| !p.is_empty());
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
        .output()
        .unwrap();
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
    let result = python(&sdk, server, &bucket, sub_folder, &["write", "state/./py.json", value]);
    let data = DataDirectory::s3(client.clone()).with_sub_folder(sub_folder).unwrap();
    let mut keys = client.list("").unwrap();
    keys.sort();
    let mut expected = vec![
        "tenant/module/state/py.json".to_string(),
        format!("tenant/module/{result}"),
    ];
    expected.sort();
    assert_eq!(keys, expected, "the keys S3Path gives the files");
    let python_bytes = client.get("tenant/module/state/py.json").unwrap().unwrap().body;
    assert_eq!(python_bytes, value.as_bytes());
    assert_eq!(data.read(&result).unwrap().unwrap(), value.as_bytes());
    let state = data.persistent_json::<Value>("state/py.json").unwrap();
    assert_eq!(state["n"].to_string(), "-9007199254740993");

    // The crate writes the same value; the same bytes; Python reads it back.
    {
        let mut ours = data.persistent_json::<Value>("state/rust.json").unwrap();
        *ours = state.discard();
    }
    let rust_bytes = client.get("tenant/module/state/rust.json").unwrap().unwrap().body;
    assert_eq!(rust_bytes, python_bytes);
    let read_back = python(&sdk, server, &bucket, sub_folder, &["read", "state/rust.json"]);
    assert_eq!(read_back, value);

    // A conditional write by the crate over Python's object.
    let etag = client.head("tenant/module/state/py.json").unwrap().unwrap();
    client
        .put("tenant/module/state/py.json", b"{\"a\":1}", &Condition::IfMatch(etag))
        .unwrap();
    let read_back = python(&sdk, server, &bucket, sub_folder, &["read", "state/py.json"]);
    assert_eq!(read_back, "{\"a\":1}");
}
