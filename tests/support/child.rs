//! Child processes waited on with a deadline: a child that never exits (a
//! trigger stuck after a configuration error, a read that never ends) fails
//! its test, naming the command and showing the tail of its output, instead
//! of hanging the whole test run.
//!
//! `command.output().unwrap()` becomes `command.output_bounded()` (with
//! [`Bounded`] in scope); a child spawned by the test is waited on with
//! [`finish`]. Shared by the tests through `mod support` or `#[path]`.

#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The default deadline: generous, as some children build or run long on a
/// loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The deadline of a child that runs cargo (a build of this crate takes
/// minutes on a loaded machine).
pub const BUILD_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// How much of the end of stdout and stderr a deadline panic shows.
const TAIL: usize = 4000;

/// How long the pipes of a killed child are read on, for the panic message.
const DRAIN: Duration = Duration::from_secs(1);

/// How often the child is polled.
const POLL: Duration = Duration::from_millis(10);

/// `Command::output` with a deadline.
pub trait Bounded {
    /// Runs the command to its end within [`DEADLINE`]: its status, stdout
    /// and stderr (stdin is `/dev/null`, as for `Command::output`).
    ///
    /// # Panics
    ///
    /// If it cannot start, or does not end within the deadline (it is then
    /// killed and reaped).
    fn output_bounded(&mut self) -> Output;

    /// [`Bounded::output_bounded`] with another deadline.
    fn output_within(&mut self, deadline: Duration) -> Output;
}

impl Bounded for Command {
    fn output_bounded(&mut self) -> Output {
        self.output_within(DEADLINE)
    }

    fn output_within(&mut self, deadline: Duration) -> Output {
        let what = describe(self);
        let child = self
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start `{what}`: {error}"));
        finish(child, &what, deadline)
    }
}

/// The program and its arguments, as a line.
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits for a spawned `child` (`what` names it in a panic) at most
/// `deadline` from now: its status and whatever its piped stdout and stderr
/// carried (empty for a stream not piped, or already taken).
///
/// # Panics
///
/// If the child does not end within the deadline (it is then killed with
/// SIGKILL and reaped), or ends but its stdout or stderr stays open (a
/// descendant holds it) until the deadline.
pub fn finish(mut child: Child, what: &str, deadline: Duration) -> Output {
    let started = Instant::now();
    let stdout = Stream::read(child.stdout.take());
    let stderr = Stream::read(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(error) => panic!("cannot wait for `{what}`: {error}"),
        }
        if started.elapsed() >= deadline {
            let _ = child.kill(); // SIGKILL: the wait below ends.
            let status = match child.wait() {
                Ok(status) => status.to_string(),
                Err(error) => format!("not reaped: {error}"),
            };
            // What it wrote before it was killed is still in the pipes.
            let drained = Instant::now();
            while !(stdout.done() && stderr.done()) && drained.elapsed() < DRAIN {
                std::thread::sleep(POLL);
            }
            panic!(
                "`{what}` did not exit within {deadline:?}: killed ({status}){}{}",
                stderr.tail("stderr"),
                stdout.tail("stdout")
            );
        }
        std::thread::sleep(POLL);
    };
    while !(stdout.done() && stderr.done()) {
        if started.elapsed() >= deadline {
            panic!(
                "`{what}` exited ({status}) but its stdout or stderr was still open {deadline:?} after it started (a process it started holds it?){}{}",
                stderr.tail("stderr"),
                stdout.tail("stdout")
            );
        }
        std::thread::sleep(POLL);
    }
    Output {
        status,
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
    }
}

/// A child's pipe, read to its end on a thread (so that it never fills):
/// the bytes so far are readable at any time.
struct Stream {
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Stream {
    fn read(pipe: Option<impl Read + Send + 'static>) -> Stream {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let reader = pipe.map(|mut pipe| {
            let bytes = Arc::clone(&bytes);
            std::thread::spawn(move || {
                let mut buffer = [0; 8192];
                loop {
                    match pipe.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(read) => lock(&bytes).extend_from_slice(&buffer[..read]),
                        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            })
        });
        Stream { bytes, reader }
    }

    /// Whether the pipe reached its end (or there was none).
    fn done(&self) -> bool {
        self.reader.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The last bytes read, for a panic message.
    fn tail(&self, name: &str) -> String {
        let bytes = lock(&self.bytes);
        let start = bytes.len().saturating_sub(TAIL);
        let skipped = if start > 0 { "...(cut)..." } else { "" };
        format!(
            "\n--- {name} (last {} of {} bytes) ---\n{skipped}{}",
            bytes.len() - start,
            bytes.len(),
            String::from_utf8_lossy(&bytes[start..])
        )
    }

    fn into_bytes(self) -> Vec<u8> {
        if let Some(reader) = self.reader {
            let _ = reader.join();
        }
        std::mem::take(&mut *lock(&self.bytes))
    }
}

fn lock(bytes: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    bytes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads a child's `pipe` line by line (on a thread) until a line
/// satisfies `wanted`, for at most `deadline`: that line, or `None` at the
/// end of the pipe or at the deadline. The pipe is closed once the line is
/// found (as when a `BufReader`'s lines are dropped).
pub fn line_within(
    pipe: impl Read + Send + 'static,
    deadline: Duration,
    wanted: impl Fn(&str) -> bool + Send + 'static,
) -> Option<String> {
    let (found, line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = std::io::BufRead::lines(std::io::BufReader::new(pipe))
            .map_while(Result::ok)
            .find(|line| wanted(line));
        let _ = found.send(line);
    });
    line.recv_timeout(deadline).ok().flatten()
}
