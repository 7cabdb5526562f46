//! `run-local --file-backend s3`: the connector example runs against moto's
//! S3 server (see `tests/support/s3_server.rs`); its checkpoints are an
//! object of the bucket, which `run-local` makes, lists and reads back.
//!
//! Skipped, with one line on stderr saying how to run them, when no Python
//! with `moto[server]` is installed; `.ci/run` installs one.

#[path = "support/s3_server.rs"]
mod s3_server;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use sekoia_automation::unversioned::s3::S3Client;
use serde_json::Value;
use support::child::Bounded as _;

fn module_directory() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("manifest.json"),
        r#"{"name": "Feed", "slug": "feed", "version": "1.0.0", "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "configuration": {"type": "object", "properties": {}, "required": []}}"#,
    )
    .unwrap();
    directory
}

/// `run-local collect_feed` of the connector example with `options`, the
/// secret key in `secret` (`AWS_SECRET_ACCESS_KEY`, else unset).
fn run_local(directory: &Path, options: &[&str], secret: Option<&str>) -> Output {
    let mut command = Command::new(support::example("connector"));
    command
        .args(["run-local", "collect_feed", "total=300", "page_size=100"])
        .args(options)
        .current_dir(directory)
        .env("RUST_LOG", "off");
    for variable in [
        "FILE_BACKEND",
        "AWS_S3_ENDPOINT_URL",
        "AWS_BUCKET_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "SUB_FOLDER",
    ] {
        command.env_remove(variable);
    }
    if let Some(secret) = secret {
        command.env("AWS_SECRET_ACCESS_KEY", secret);
    }
    command.output_bounded()
}

#[test]
fn a_connectors_checkpoints_are_objects_of_the_bucket() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let directory = module_directory();
    // A bucket that does not exist yet: run-local makes it.
    let bucket = format!("run-local-{}", std::process::id());
    let flags = [
        "--file-backend",
        "s3",
        "--s3-endpoint",
        server.endpoint.as_str(),
        "--s3-bucket",
        bucket.as_str(),
        "--s3-access-key-id",
        server.access_key_id.as_str(),
        "--sub-folder",
        "tenant/feed",
        "--timeout",
        "60",
    ];
    let output = run_local(
        directory.path(),
        &[&flags[..], &["--json"]].concat(),
        Some(&server.secret_access_key),
    );
    support::assert_success(&output);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["batches"].as_array().unwrap().len(), 3);
    assert_eq!(document["context"]["feed"]["cursor"], 300, "{document}");
    assert_eq!(document["objects"], serde_json::json!(["context.json"]));
    let client = S3Client::new(
        server
            .config_at(&server.endpoint, &bucket)
            .with_sub_folder("tenant/feed"),
    )
    .unwrap();
    assert!(
        client.get("context.json").unwrap().is_none(),
        "in the sub-folder"
    );
    let object = client.get("tenant/feed/context.json").unwrap().unwrap();
    let stored: Value = serde_json::from_slice(&object.body).unwrap();
    assert_eq!(stored, document["context"]);
    let everything = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!everything.contains(&server.secret_access_key));

    // Again, in text: the checkpoint resumed from the bucket, and listed.
    let output = run_local(directory.path(), &flags, Some(&server.secret_access_key));
    support::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "  data directory     s3://{bucket}/tenant/feed at {}",
            server.endpoint
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "objects in s3://{bucket}/tenant/feed: 1\n  context.json\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("batches sent: 0"),
        "resumed at 300: {stdout}"
    );
    assert!(!stdout.contains(&server.secret_access_key));
}

#[test]
fn the_secret_key_comes_from_the_environment_only() {
    let directory = module_directory();
    let output = run_local(
        directory.path(),
        &[
            "--file-backend",
            "s3",
            "--s3-endpoint",
            "http://127.0.0.1:9",
            "--s3-bucket",
            "b",
            "--s3-access-key-id",
            "AKID",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWS_SECRET_ACCESS_KEY") && stderr.contains("never on the command line"),
        "{stderr}"
    );
    let output = run_local(directory.path(), &["--file-backend", "s3"], Some("x"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--s3-endpoint URL") && stderr.contains("AWS_S3_ENDPOINT_URL"),
        "{stderr}"
    );
}
