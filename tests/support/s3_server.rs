//! A real S3 server for the tests: moto's, from PyPI, which verifies SigV4
//! signatures once IAM authentication is on (`INITIAL_NO_AUTH_ACTION_COUNT`).
//!
//! The server runs in a Python with `moto[server]` installed: the one
//! `SEKOIA_S3_PYTHON` names, else `target/s3-venv/bin/python` when it
//! exists (`.ci/run` makes it). Without one, the tests that need it say once
//! that they were skipped and how to run them. One server per test binary,
//! on 127.0.0.1 on a free port; it stops when the test binary exits (its
//! launcher waits on its standard input, which closes then).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sekoia_automation::Secret;
use sekoia_automation::unversioned::s3::{S3Client, S3Config};

/// Starts moto's threaded server with IAM authentication on, makes a user
/// allowed everything and its access key (the three actions before
/// authentication starts), then prints `port key_id secret` and waits for
/// its standard input to close.
const LAUNCHER: &str = r#"
import json, os, sys
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
import boto3
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://127.0.0.1:{port}"
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="crate")
iam.put_user_policy(UserName="crate", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="crate")["AccessKey"]
print(port, key["AccessKeyId"], key["SecretAccessKey"], flush=True)
sys.stdin.read()
server.stop()
"#;

/// The running server.
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The access key id the server accepts.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// The Python that runs the server (it has boto3).
    #[allow(dead_code)]
    pub python: PathBuf,
    _child: Child,
    _stdin: ChildStdin,
}

/// The Python with moto, if there is one.
fn moto_python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("SEKOIA_S3_PYTHON").filter(|v| !v.is_empty()) {
        return Some(python.into());
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/s3-venv/bin/python");
    venv.is_file().then_some(venv)
}

/// The shared server, started on first use; `None` (said once on stderr)
/// when no Python with moto is installed.
pub fn server() -> Option<&'static S3Server> {
    static SERVER: OnceLock<Option<S3Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let Some(python) = moto_python() else {
                // Past the test harness's capture: said once per test binary.
                let _ = writeln!(
                    std::io::stderr(),
                    "S3 tests skipped: no S3 server. Install one with \
                     `python3 -m venv target/s3-venv && target/s3-venv/bin/pip install 'moto[server]'` \
                     (or set SEKOIA_S3_PYTHON to a Python that has moto[server]); .ci/run does this."
                );
                return None;
            };
            Some(start(python))
        })
        .as_ref()
}

fn start(python: PathBuf) -> S3Server {
    let mut child = Command::new(&python)
        .args(["-c", LAUNCHER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", python.display()));
    let stdin = child.stdin.take().unwrap();
    // The first line, within a bound: a launcher that hangs fails the test.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (sent, first_line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = sent.send(line);
    });
    let Ok(line) = first_line.recv_timeout(Duration::from_secs(120)) else {
        let _ = child.kill();
        panic!(
            "the moto launcher in {} printed nothing within 120 s",
            python.display()
        );
    };
    let mut parts = line.split_whitespace();
    let (Some(port), Some(key), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        panic!(
            "the moto launcher in {} printed {line:?}: is moto[server] installed there?",
            python.display()
        );
    };
    S3Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        access_key_id: key.to_string(),
        secret_access_key: secret.to_string(),
        python,
        _child: child,
        _stdin: stdin,
    }
}

impl S3Server {
    /// The configuration of `bucket` on this server, at `endpoint` (the
    /// server's own, or a proxy's in front of it).
    pub fn config_at(&self, endpoint: &str, bucket: &str) -> S3Config {
        S3Config::new(
            endpoint,
            "us-east-1",
            bucket,
            self.access_key_id.clone(),
            Secret::new(self.secret_access_key.clone()),
        )
    }

    /// A fresh bucket for one test, and a client for it (no waits between
    /// attempts).
    #[allow(dead_code)]
    pub fn bucket(&self, name: &str) -> (String, S3Client) {
        static COUNT: Mutex<u32> = Mutex::new(0);
        let mut count = COUNT.lock().unwrap_or_else(|p| p.into_inner());
        *count += 1;
        let bucket = format!("{name}-{}", *count);
        let client = S3Client::new(self.config_at(&self.endpoint, &bucket))
            .unwrap()
            .with_retry(std::time::Duration::ZERO, 10);
        client.create_bucket().unwrap();
        (bucket, client)
    }
}
