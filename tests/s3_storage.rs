//! `DataDirectory` and `PersistentJson` on both backends: the same calls on
//! the local disk and in an S3 bucket (moto's server, see
//! `tests/support/s3_server.rs`; skipped with one line when it is not
//! installed) give the same files.

#[path = "support/s3_server.rs"]
mod s3_server;

use std::collections::BTreeMap;
use std::path::PathBuf;

use sekoia_automation::ActionContext;
use sekoia_automation::connector::CheckpointCursor;
use sekoia_automation::connector::ContextFile;
use sekoia_automation::storage::{DataDirectory, StorageError};
use sekoia_automation::unversioned::s3::{Condition, S3Client};
use serde_json::{Value, json};

/// Runs the same scenario on a data directory, and returns what it saw.
fn scenario(data: &DataDirectory) -> Vec<String> {
    let mut seen = Vec::new();
    assert_eq!(data.read("state/absent.json").unwrap(), None);
    assert!(!data.exists("state").unwrap());
    data.write_file("state/./a.json", "{\"q\":\"a\\\"b\"}")
        .unwrap();
    data.write_file("state/deeper/b.json", "😀").unwrap();
    assert!(data.exists("state").unwrap(), "a directory holding files");
    assert!(data.exists("state/a.json").unwrap());
    assert_eq!(
        data.read("state/a.json").unwrap().unwrap(),
        b"{\"q\":\"a\\\"b\"}"
    );
    let written = data.write_json("result.json", &json!({"x": 0.1})).unwrap();
    assert_eq!(written.components().count(), 2);
    assert_eq!(data.read(&written).unwrap().unwrap(), b"{\"x\":0.1}");
    {
        let mut state = data
            .persistent_json::<BTreeMap<String, Value>>("state/context.json")
            .unwrap();
        assert!(state.is_empty());
        state.insert(
            "most_recent_date_seen".into(),
            json!("2026-01-02T03:04:05Z"),
        );
        state.insert("big".into(), json!(u64::MAX));
    }
    let state = data
        .persistent_json::<BTreeMap<String, Value>>("state/context.json")
        .unwrap();
    assert_eq!(state["most_recent_date_seen"], "2026-01-02T03:04:05Z");
    assert_eq!(state["big"].to_string(), "18446744073709551615");
    state.close().unwrap();
    assert_eq!(
        data.read("state/context.json").unwrap().unwrap(),
        br#"{"big":18446744073709551615,"most_recent_date_seen":"2026-01-02T03:04:05Z"}"#
    );
    for file in data.list("state").unwrap() {
        seen.push(file.to_string_lossy().into_owned());
    }
    assert!(matches!(
        data.read("../outside"),
        Err(StorageError::Escape { .. })
    ));
    data.remove("state/deeper").unwrap();
    data.remove(&written).unwrap();
    data.remove("never/there").unwrap();
    assert_eq!(data.read(&written).unwrap(), None);
    seen.push("after removal".into());
    for file in data.list(".").unwrap() {
        seen.push(file.to_string_lossy().into_owned());
    }
    seen
}

#[test]
fn the_same_calls_give_the_same_files_on_disk_and_in_the_bucket() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let temporary = tempfile::tempdir().unwrap();
    let local = DataDirectory::new(temporary.path())
        .with_sub_folder("tenant/module")
        .unwrap();
    let (bucket, client) = server.bucket("backend");
    let bucket_data = DataDirectory::s3(client.clone())
        .with_sub_folder("tenant//module/")
        .unwrap();
    assert!(bucket_data.is_s3() && !local.is_s3());
    assert_eq!(
        bucket_data.root(),
        PathBuf::from(format!("/{bucket}/tenant/module"))
    );
    let on_disk = scenario(&local);
    let in_bucket = scenario(&bucket_data);
    assert_eq!(on_disk, in_bucket);
    assert_eq!(
        on_disk,
        [
            "state/a.json",
            "state/context.json",
            "state/deeper/b.json",
            "after removal",
            "state/a.json",
            "state/context.json"
        ]
    );
    // The objects are where the sub-folder puts them.
    let mut keys = client.list("").unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            "tenant/module/state/a.json",
            "tenant/module/state/context.json"
        ]
    );
}

#[test]
fn a_failing_store_is_an_error_naming_the_file_in_the_bucket() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let client = S3Client::new(server.config_at(&server.endpoint, "no-such-bucket")).unwrap();
    let data = DataDirectory::s3(client);
    let error = data.write_file("a.json", "{}").unwrap_err();
    assert!(matches!(error, StorageError::S3 { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("/no-such-bucket/a.json"), "{text}");
    assert!(text.contains("NoSuchBucket"), "{text}");
}

#[test]
fn context_json_in_the_bucket_keeps_both_writers_keys() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (_, client) = server.bucket("context");
    let data = DataDirectory::s3(client.clone())
        .with_sub_folder("module")
        .unwrap();
    let mut cursor = CheckpointCursor::<String>::new(data.root());
    assert_eq!(cursor.offset().unwrap(), None);
    cursor.advance_unacknowledged("page-1".into()).unwrap();
    assert_eq!(
        client.get("module/context.json").unwrap().unwrap().body,
        br#"{"cursor":"page-1"}"#
    );
    // Another process writes the object between this writer's read and its
    // conditional write: the write is refused, then made again on the
    // other's object with this writer's change only.
    let file = ContextFile::open(data.root().join("context.json"));
    file.update(|map| {
        client
            .put(
                "module/context.json",
                br#"{"cursor":"page-1","theirs":1}"#,
                &Condition::None,
            )
            .unwrap();
        map.insert("mine".into(), json!(2));
    })
    .unwrap();
    assert_eq!(
        client.get("module/context.json").unwrap().unwrap().body,
        br#"{"cursor":"page-1","theirs":1,"mine":2}"#
    );
    assert_eq!(cursor.offset().unwrap().as_deref(), Some("page-1"));
    assert_eq!(file.get("theirs").unwrap(), Some(json!(1)));
}

#[test]
fn an_actions_file_arguments_and_results_are_objects_of_the_bucket() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (_, client) = server.bucket("action");
    let data = DataDirectory::s3(client.clone())
        .with_sub_folder("playbook")
        .unwrap();
    // The platform put the argument in the bucket.
    client
        .put(
            "playbook/ips-in.json",
            br#"["1.2.3.4","::1"]"#,
            &Condition::None,
        )
        .unwrap();
    let arguments = json!({"ips_path": "ips-in.json"});
    let ctx = ActionContext::new(&(), &arguments, &data);
    let ips: Vec<String> = ctx.json_argument("ips").unwrap();
    assert_eq!(ips, ["1.2.3.4", "::1"]);
    let result = ctx.json_result("ips", &ips).unwrap();
    let relative = result["ips_path"].as_str().unwrap();
    assert!(relative.starts_with("ips-"), "{relative}");
    assert_eq!(
        client
            .get(&format!("playbook/{relative}"))
            .unwrap()
            .unwrap()
            .body,
        br#"["1.2.3.4","::1"]"#
    );
    let missing = json!({"ips_path": "absent.json"});
    let ctx = ActionContext::new(&(), &missing, &data);
    let error = ctx.json_argument::<Vec<String>>("ips").unwrap_err();
    assert!(error.to_string().contains("absent.json"), "{error}");
}
