//! The HTTP/1.1 server behind [`LocalPlatform`]: listener, connection
//! threads and the routes of the module protocol; requests are read and
//! answers written by the crate's one server codec (`wire::server`), shared
//! with the trigger's liveness and metrics endpoints.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::assets::{self, AssetAnswer, AssetTasks};
use super::batch;
use super::fault::{self, Effect, Fault, Rng, splitmix64};
use super::recorded::{RecordedRequest, last_segment};
use crate::wire::server::{AcceptLoop, Head, HttpConnection, Limits, Refused, Response};

/// The largest request head (request line and header fields) the platform
/// reads; a larger one is answered `431` and the connection closed.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The largest request body the platform reads; a larger one is answered
/// `413` and the connection closed.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The largest intake batch body accepted; a larger one is answered `413`
/// (as the intake does).
pub const MAX_BATCH_BYTES: usize = 10 * 1024 * 1024;

const API_PREFIX: &str = "/api/v1/symphony";
const INTAKE_PREFIX: &str = "/intake";
/// How long dropping the platform waits for connection threads to end.
const STOP_GRACE: Duration = Duration::from_secs(2);
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// An embedded Sekoia.io platform on `127.0.0.1`: it answers a module's
/// requests as the real platform does (see the [module docs](super)) and
/// records them.
///
/// The server runs on its own threads (one accepting, one per connection) from
/// [`start`](LocalPlatform::start) until the value is dropped. Dropping it
/// closes the listener and every connection, idle keep-alive ones included,
/// and waits briefly (at most about two seconds) for the threads to end.
///
/// All methods take `&self`: share the platform between threads with a
/// reference or an `Arc`.
pub struct LocalPlatform {
    shared: Arc<Shared>,
    address: SocketAddr,
    accept: AcceptLoop,
}

impl std::fmt::Debug for LocalPlatform {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LocalPlatform")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl LocalPlatform {
    /// Binds `127.0.0.1` on an ephemeral port and starts serving.
    ///
    /// The platform starts with a random bearer [`token`](Self::token), empty
    /// module secrets (`{}`), no node secrets, no faults and a random
    /// [`seed`](Self::seed).
    ///
    /// # Errors
    ///
    /// The I/O error of binding the port or starting the server thread.
    pub fn start() -> io::Result<LocalPlatform> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        let address = listener.local_addr()?;
        let (seed, _) = Uuid::new_v4().as_u64_pair();
        let shared = Arc::new(Shared {
            token: Uuid::new_v4().to_string(),
            state: Mutex::new(State {
                secrets: RawValue::from_string("{}".into()).expect("`{}` is JSON"),
                node_secrets: None,
                requests: Vec::new(),
                faults: Vec::new(),
                rng: Rng::new(seed),
                waiters: 0,
                asset_tasks: AssetTasks::default(),
            }),
            recorded: Condvar::new(),
            life: Mutex::new(Life {
                stopped: false,
                next_id: 0,
                connections: HashMap::new(),
                handles: Vec::new(),
            }),
            life_changed: Condvar::new(),
        });
        let accept = AcceptLoop::spawn(
            "local-platform-accept",
            listener,
            {
                let shared = Arc::clone(&shared);
                move || shared.life().stopped
            },
            {
                let shared = Arc::clone(&shared);
                move |stream| accept_connection(&shared, stream)
            },
        )?;
        Ok(LocalPlatform {
            shared,
            address,
            accept,
        })
    }

    /// The address the platform listens on (`127.0.0.1:PORT`).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The module's `url_callback`: `<base>/api/v1/symphony/callback`. It ends
    /// with `/callback`, so the defaults of `url_logs` and `url_secrets`
    /// derived from it are [`logs_url`](Self::logs_url) and
    /// [`secrets_url`](Self::secrets_url).
    pub fn callback_url(&self) -> String {
        format!("{}{API_PREFIX}/callback", self.base_url())
    }

    /// The module's `url_logs`: `<base>/api/v1/symphony/logs`.
    pub fn logs_url(&self) -> String {
        format!("{}{API_PREFIX}/logs", self.base_url())
    }

    /// The module's `url_secrets`: `<base>/api/v1/symphony/secrets`.
    pub fn secrets_url(&self) -> String {
        format!("{}{API_PREFIX}/secrets", self.base_url())
    }

    /// A connector's `intake_url`: `<base>/intake`; events are posted to
    /// `<intake_url>/batch`.
    pub fn intake_url(&self) -> String {
        format!("{}{INTAKE_PREFIX}", self.base_url())
    }

    /// A Sentry DSN whose envelope endpoint is this platform's:
    /// `http://sekoia-local@127.0.0.1:PORT/1` (events are posted to
    /// `<base>/api/1/envelope/`). Give it to a module as `sentry_dsn` to see
    /// what it would report to Sentry ([`sentry_events`](Self::sentry_events)).
    pub fn sentry_dsn(&self) -> String {
        format!("http://{SENTRY_KEY}@{}/{SENTRY_PROJECT}", self.address)
    }

    /// The events of the Sentry envelopes received
    /// (`POST /api/<project>/envelope/`), in arrival order: each the JSON
    /// object a Sentry server would store (`level`, `message` or
    /// `exception`, `tags`, `contexts`, `environment`...).
    ///
    /// ```
    /// # use sekoia_automation::testing::LocalPlatform;
    /// let platform = LocalPlatform::start()?;
    /// let address = platform.address();
    /// assert_eq!(platform.sentry_dsn(), format!("http://sekoia-local@{address}/1"));
    /// ureq::post(format!("http://{address}/api/1/envelope/"))
    ///     .header("X-Sentry-Auth", "Sentry sentry_key=sekoia-local, sentry_version=7")
    ///     .send("{\"event_id\":\"0\"}\n{\"type\":\"event\",\"length\":17}\n{\"level\":\"error\"}\n")?;
    /// assert_eq!(platform.sentry_events()[0]["level"], "error");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sentry_events(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .filter(|request| request.method == "POST" && request.route() == "envelope")
            .filter_map(|request| crate::wire::sentry::envelope::events_of(&request.body))
            .flatten()
            .collect()
    }

    /// The bearer token the platform expects on callback, logs and secrets
    /// requests (a random UUIDv4 string).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Sets the module secrets, answered by `GET …/secrets` (`value`) and by
    /// `PATCH …/callback` with `"need_secrets": true` or
    /// `"status": "running"` (`module_configuration.value`). The default is `{}`.
    pub fn set_secrets(&self, value: Value) {
        let text = RawValue::from_string(value.to_string()).expect("a JSON value serializes");
        self.shared.state().secrets = text;
    }

    /// As [`set_secrets`](Self::set_secrets), with the answer's value given
    /// as JSON text and answered byte for byte: an integer beyond 64 bits
    /// or a float as written stays exact (a [`Value`] rounds them without
    /// the `exact-numbers` feature).
    ///
    /// ```
    /// use sekoia_automation::testing::LocalPlatform;
    /// use serde_json::value::RawValue;
    ///
    /// let platform = LocalPlatform::start()?;
    /// let secrets = RawValue::from_string(r#"{"pin": 123456789012345678901234567890}"#.into())?;
    /// platform.set_secrets_raw(secrets);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_secrets_raw(&self, value: Box<RawValue>) {
        self.shared.state().secrets = value;
    }

    /// Sets the trigger's node secrets, answered by `GET …/secrets` as
    /// `node_value`; `None` (the default) leaves the key out.
    pub fn set_node_secrets(&self, value: Option<Value>) {
        self.shared.state().node_secrets = value;
    }

    /// What `GET /api/v1/tasks/<id>` answers from now on (asset connectors'
    /// push tasks, see [`AssetTasks`]).
    pub fn set_asset_tasks(&self, tasks: AssetTasks) {
        self.shared.state().asset_tasks = tasks;
    }

    /// Every request received since the start (or the last
    /// [`clear`](Self::clear)), in arrival order, faulted and refused ones
    /// included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Forgets the recorded requests (faults and secrets are kept).
    pub fn clear(&self) {
        self.shared.state().requests.clear();
    }

    /// Waits until `predicate` holds for the recorded requests, or `timeout`
    /// passes; returns whether it held.
    ///
    /// The predicate is checked at once, then each time requests are recorded
    /// (no polling). It runs with the platform's state locked: keep it quick,
    /// and do not call the platform from it.
    ///
    /// ```
    /// # use sekoia_automation::testing::LocalPlatform;
    /// # use std::time::Duration;
    /// let platform = LocalPlatform::start()?;
    /// let url = platform.logs_url();
    /// let token = platform.token().to_owned();
    /// std::thread::spawn(move || {
    ///     ureq::post(url)
    ///         .header("Authorization", format!("Bearer {token}"))
    ///         .send(r#"{"logs": []}"#)
    /// });
    /// assert!(platform.wait_for(Duration::from_secs(10), |requests| {
    ///     requests.iter().any(|request| request.path.ends_with("/logs"))
    /// }));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_for(
        &self,
        timeout: Duration,
        predicate: impl Fn(&[RecordedRequest]) -> bool,
    ) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.shared.state();
        loop {
            if predicate(&state.requests) {
                return true;
            }
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if remaining.is_zero() {
                return false;
            }
            state.waiters += 1;
            state = self
                .shared
                .recorded
                .wait_timeout(state, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.waiters -= 1;
        }
    }

    /// Adds a fault rule, checked after the rules already injected (see
    /// [`Fault`]). A rule with no budget (`times(0)`) is ignored.
    pub fn inject(&self, fault: Fault) {
        if !fault.is_spent() {
            self.shared.state().faults.push(fault);
        }
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.state().faults.clear();
    }

    /// Reseeds the generator behind [`Fault::with_probability`]: with the same
    /// seed and the same requests in the same order, the same requests are
    /// faulted.
    pub fn seed(&self, seed: u64) {
        self.shared.state().rng = Rng::new(seed);
    }
}

impl Drop for LocalPlatform {
    fn drop(&mut self) {
        {
            let mut life = self.shared.life();
            life.stopped = true;
            for connection in life.connections.values() {
                let _ = connection.shutdown(Shutdown::Both);
            }
        }
        self.shared.life_changed.notify_all();
        // Wake the accept loop, which then sees `stopped` and returns,
        // closing the listener.
        if let Err(error) = self.accept.stop(Duration::from_secs(1)) {
            log::debug!("local platform: accept thread left running: {error}");
        }
        let deadline = Instant::now() + STOP_GRACE;
        let mut life = self.shared.life();
        while !life.connections.is_empty() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            life = self
                .shared
                .life_changed
                .wait_timeout(life, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let all_closed = life.connections.is_empty();
        let handles = std::mem::take(&mut life.handles);
        drop(life);
        for handle in handles {
            if all_closed || handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}

/// What the server threads share with the [`LocalPlatform`] handle.
struct Shared {
    token: String,
    state: Mutex<State>,
    /// Notified each time a request is recorded, when `State::waiters > 0`.
    recorded: Condvar,
    life: Mutex<Life>,
    /// Notified when the platform stops and when a connection ends.
    life_changed: Condvar,
}

/// Configuration and records, under one lock.
struct State {
    /// The module secrets, as answered.
    secrets: Box<RawValue>,
    node_secrets: Option<Value>,
    requests: Vec<RecordedRequest>,
    faults: Vec<Fault>,
    rng: Rng,
    /// Threads in [`LocalPlatform::wait_for`]: `recorded` is only notified
    /// when there are some (a notification costs a system call).
    waiters: usize,
    /// What the asset tasks answer.
    asset_tasks: AssetTasks,
}

/// The connections alive, to close them when the platform stops.
struct Life {
    stopped: bool,
    next_id: u64,
    /// A handle on each open connection's socket, to shut it down.
    connections: HashMap<u64, TcpStream>,
    handles: Vec<JoinHandle<()>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn life(&self) -> MutexGuard<'_, Life> {
        self.life.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `duration` unless the platform stops first; true when it stopped.
    fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        let mut life = self.life();
        while !life.stopped {
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if remaining.is_zero() {
                return false;
            }
            life = self
                .life_changed
                .wait_timeout(life, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    fn connection_ended(&self, id: u64) {
        self.life().connections.remove(&id);
        self.life_changed.notify_all();
    }

    fn record(&self, request: RecordedRequest) {
        let mut state = self.state();
        state.requests.push(request);
        let notify = state.waiters > 0;
        drop(state);
        if notify {
            self.recorded.notify_all();
        }
    }
}

impl State {
    /// The effect of the first rule that applies to this request, consuming
    /// one unit of its budget.
    fn take_fault(
        &mut self,
        method: &str,
        path: &str,
        body: &mut ParsedBody<'_>,
    ) -> Option<(Effect, Vec<(String, String)>)> {
        let mut index = 0;
        while index < self.faults.len() {
            let rule = &self.faults[index];
            let matches = !rule.is_spent()
                && rule.matches_target(method, path)
                && (!rule.has_json_conditions() || rule.matches_json(body.json()));
            let probability = rule.probability();
            if matches && probability.is_none_or(|p| self.rng.next_f64() < p) {
                let effect = self.faults[index].effect();
                let headers = self.faults[index].headers().to_vec();
                if self.faults[index].consume() {
                    let _spent = self.faults.remove(index);
                }
                return Some((effect, headers));
            }
            index += 1;
        }
        None
    }
}

/// Registers an accepted connection and starts its thread (the accept loop
/// is the shared one of `wire::server`).
fn accept_connection(shared: &Arc<Shared>, stream: TcpStream) {
    let mut life = shared.life();
    if life.stopped {
        return;
    }
    let registered = match stream.try_clone() {
        Ok(registered) => registered,
        Err(error) => {
            log::warn!("local platform: cannot clone a connection: {error}");
            return;
        }
    };
    let id = life.next_id;
    life.next_id += 1;
    life.handles.retain(|handle| !handle.is_finished());
    let worker = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name("local-platform-connection".to_owned())
        .spawn(move || {
            serve(&worker, stream);
            worker.connection_ended(id);
        });
    match spawned {
        Ok(handle) => {
            life.connections.insert(id, registered);
            life.handles.push(handle);
        }
        Err(error) => log::warn!("local platform: cannot start a connection thread: {error}"),
    }
}

fn serve(shared: &Shared, stream: TcpStream) {
    let result = HttpConnection::new(stream, LIMITS).and_then(|http| {
        Connection {
            shared,
            http,
            body_out: Vec::with_capacity(1024),
            ids: IdGenerator::new(),
        }
        .run()
    });
    if let Err(error) = result {
        log::debug!("local platform: connection ended: {error}");
    }
}

/// The platform's limits on the shared codec: no timeouts (a test holds a
/// connection as long as it likes; dropping the platform closes them all).
const LIMITS: Limits = Limits {
    max_head: MAX_HEAD_BYTES,
    max_body: MAX_BODY_BYTES,
    read_buffer: READ_BUFFER_BYTES,
    timeout: None,
    head_too_large: "request head larger than 64 KiB",
    body_too_large: "request body larger than 64 MiB",
};

/// One client connection: requests are read and answered in turn.
struct Connection<'a> {
    shared: &'a Shared,
    http: HttpConnection,
    /// Reused response body buffer.
    body_out: Vec<u8>,
    ids: IdGenerator,
}

impl Connection<'_> {
    fn run(&mut self) -> io::Result<()> {
        loop {
            let (head, body) = match self.http.read_request() {
                Ok(Some(request)) => request,
                Ok(None) => return Ok(()),
                Err(refused) => return self.refuse(refused),
            };
            if !self.handle(head, body)? {
                return Ok(());
            }
        }
    }

    /// Routes, applies faults, records and answers one request; false when
    /// the connection must close.
    fn handle(&mut self, head: Head, body: Vec<u8>) -> io::Result<bool> {
        let received_at = Instant::now();
        let shared = self.shared;
        let keep_alive = head.keep_alive();
        let http10 = head.http10;
        let head_only = head.method == "HEAD";
        let mut parsed = ParsedBody::new(&body);
        let planned = plan(&head, &mut parsed, &shared.token);
        let effect;
        let extra_headers: Vec<(String, String)>;
        let status;
        let notify;
        {
            let mut state = shared.state();
            (effect, extra_headers) = match state.take_fault(&head.method, &head.path, &mut parsed)
            {
                Some((effect, headers)) => (Some(effect), headers),
                None => (None, Vec::new()),
            };
            self.body_out.clear();
            status = match effect {
                Some(Effect::Status(code)) => {
                    self.body_out.extend_from_slice(fault::INJECTED_BODY);
                    code
                }
                Some(Effect::DropConnection) => 0,
                Some(Effect::Delay(_)) | None => {
                    write_answer(&planned.answer, &state, &mut self.body_out);
                    planned.status
                }
            };
            state.requests.push(RecordedRequest {
                method: head.method,
                path: head.path,
                query: head.query,
                headers: head.headers,
                body,
                status,
                peer: self.http.peer(),
                received_at,
            });
            notify = state.waiters > 0;
        }
        if notify {
            shared.recorded.notify_all();
        }
        match effect {
            Some(Effect::DropConnection) => {
                self.http.abort();
                return Ok(false);
            }
            Some(Effect::Delay(duration)) => {
                if shared.sleep(duration) {
                    self.http.abort();
                    return Ok(false);
                }
            }
            Some(Effect::Status(_)) | None => {}
        }
        let response = Response {
            status,
            content_type: JSON,
            body: &self.body_out,
            keep_alive,
            http10,
            head_only,
            headers: if matches!(effect, Some(Effect::Status(_))) {
                &extra_headers
            } else {
                &[]
            },
        };
        if let (Answer::EventIds(count), None | Some(Effect::Delay(_))) = (&planned.answer, effect)
        {
            // Written as it is made, a part at a time.
            let mut answer = EventIds::new(*count, &mut self.ids);
            self.http
                .write_streamed(&response, answer.len(), |out| answer.part(out))?;
        } else {
            self.http.write_response(&response)?;
        }
        Ok(keep_alive)
    }

    /// Answers an unreadable request with an error and closes the connection.
    fn refuse(&mut self, refused: Refused) -> io::Result<()> {
        let (status, message) = self.http.refusal(refused.error)?;
        if let Some(head) = refused.head {
            self.shared.record(RecordedRequest {
                method: head.method,
                path: head.path,
                query: head.query,
                headers: head.headers,
                body: Vec::new(),
                status,
                peer: self.http.peer(),
                received_at: Instant::now(),
            });
        }
        self.body_out.clear();
        write_message(&mut self.body_out, message);
        self.http.write_response(&Response {
            status,
            content_type: JSON,
            body: &self.body_out,
            keep_alive: false,
            http10: false,
            head_only: false,
            headers: &[],
        })?;
        self.http.linger_close();
        Ok(())
    }
}

const JSON: &str = "application/json";

/// Whether `head` carries `Authorization: Bearer <token>`.
fn authorized(head: &Head, token: &str) -> bool {
    head.header("authorization")
        .and_then(|value| value.trim().split_once(' '))
        .is_some_and(|(scheme, value)| {
            scheme.eq_ignore_ascii_case("bearer") && value.trim() == token
        })
}

/// The request body, parsed as JSON on first use.
struct ParsedBody<'a> {
    bytes: &'a [u8],
    json: Option<Option<Value>>,
}

impl<'a> ParsedBody<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        ParsedBody { bytes, json: None }
    }

    fn json(&mut self) -> Option<&Value> {
        let bytes = self.bytes;
        self.json
            .get_or_insert_with(|| serde_json::from_slice(bytes).ok())
            .as_ref()
    }

    /// The number of elements of the `jsons` list of an intake batch, without
    /// building the events.
    fn event_count(&mut self) -> Option<usize> {
        if let Some(parsed) = &self.json {
            return parsed.as_ref()?.get("jsons")?.as_array().map(Vec::len);
        }
        batch::jsons_len(self.bytes)
    }
}

/// A response decided from the request alone, before faults.
struct Planned {
    status: u16,
    answer: Answer,
}

/// The body of a routed response.
enum Answer {
    /// `{}`
    Empty,
    /// `{"message": ...}`
    Message(Cow<'static, str>),
    /// `{"module_configuration": {"value": <secrets>}}`
    ModuleConfiguration,
    /// `{"value": <secrets>, "node_value"?: <node secrets>}`
    Secrets,
    /// `{"event_ids": [<n UUIDv4>]}`
    EventIds(usize),
    /// An asset push or task (`testing/assets.rs`).
    Asset(AssetAnswer),
}

impl Planned {
    fn ok(answer: Answer) -> Planned {
        Planned {
            status: 200,
            answer,
        }
    }

    fn message(status: u16, message: impl Into<Cow<'static, str>>) -> Planned {
        Planned {
            status,
            answer: Answer::Message(message.into()),
        }
    }
}

/// The public key of [`LocalPlatform::sentry_dsn`].
const SENTRY_KEY: &str = "sekoia-local";
/// The project id of [`LocalPlatform::sentry_dsn`].
const SENTRY_PROJECT: &str = "1";

/// Whether `head` carries the `X-Sentry-Auth` of [`LocalPlatform::sentry_dsn`].
fn sentry_authorized(head: &Head) -> bool {
    head.header("x-sentry-auth").is_some_and(|value| {
        value
            .split([',', ' '])
            .any(|part| part == format!("sentry_key={SENTRY_KEY}"))
    })
}

/// The routes: the path's last segment and the method decide.
fn plan(head: &Head, body: &mut ParsedBody<'_>, token: &str) -> Planned {
    const NOT_AN_OBJECT: &str = "the body must be a JSON object";
    let method = head.method.as_str();
    let route = last_segment(&head.path);
    let authenticated = matches!(
        (method, route),
        ("PATCH" | "POST", "callback") | ("POST", "logs") | ("GET", "secrets")
    ) || assets::is_asset_route(&head.path);
    if authenticated && !authorized(head, token) {
        return Planned::message(401, "missing or invalid bearer token");
    }
    if let Some(routed) = assets::plan(method, &head.path, body.bytes) {
        return match routed {
            Ok(answer) => Planned::ok(Answer::Asset(answer)),
            Err((status, message)) => Planned::message(status, message),
        };
    }
    match (method, route) {
        ("PATCH", "callback") => match body.json() {
            Some(Value::Object(fields)) => {
                // The running PATCH answers the secrets: with `need_secrets`
                // for actions, and without it for the account validator,
                // which (in the Python SDK) reads them all the same.
                if fields.get("need_secrets") == Some(&Value::Bool(true))
                    || fields.get("status") == Some(&Value::String("running".into()))
                {
                    Planned::ok(Answer::ModuleConfiguration)
                } else {
                    Planned::ok(Answer::Empty)
                }
            }
            _ => Planned::message(400, NOT_AN_OBJECT),
        },
        ("POST", "callback" | "logs") => match body.json() {
            Some(Value::Object(_)) => Planned::ok(Answer::Empty),
            _ => Planned::message(400, NOT_AN_OBJECT),
        },
        ("GET", "secrets") => Planned::ok(Answer::Secrets),
        // Sentry's envelope endpoint (`/api/<project>/envelope/`).
        ("POST", "envelope") if !sentry_authorized(head) => {
            Planned::message(401, "missing or invalid X-Sentry-Auth")
        }
        ("POST", "envelope") => match crate::wire::sentry::envelope::events_of(body.bytes) {
            Some(_) => Planned::ok(Answer::Empty),
            None => Planned::message(400, "the body must be a Sentry envelope"),
        },
        ("POST", "batch") if body.bytes.len() > MAX_BATCH_BYTES => Planned::message(
            413,
            "the batch body is larger than 10 MiB: send fewer events per request",
        ),
        ("POST", "batch") => match body.event_count() {
            Some(count) => Planned::ok(Answer::EventIds(count)),
            None => Planned::message(400, "the body must be a JSON object with a \"jsons\" list"),
        },
        _ => Planned::message(404, format!("no route for {method} {}", head.path)),
    }
}

/// Writes the answers that read the state (all but event ids).
fn write_answer(answer: &Answer, state: &State, out: &mut Vec<u8>) {
    fn json(out: &mut Vec<u8>, value: &Value) {
        serde_json::to_writer(out, value).expect("a JSON value serializes");
    }
    match answer {
        Answer::Empty => out.extend_from_slice(b"{}"),
        Answer::Message(message) => write_message(out, message),
        Answer::ModuleConfiguration => {
            out.extend_from_slice(br#"{"module_configuration":{"value":"#);
            out.extend_from_slice(state.secrets.get().as_bytes());
            out.extend_from_slice(b"}}");
        }
        Answer::Secrets => {
            out.extend_from_slice(br#"{"value":"#);
            out.extend_from_slice(state.secrets.get().as_bytes());
            if let Some(node_secrets) = &state.node_secrets {
                out.extend_from_slice(br#","node_value":"#);
                json(out, node_secrets);
            }
            out.push(b'}');
        }
        Answer::EventIds(_) => {}
        Answer::Asset(answer) => {
            let rank = assets::pushes(&state.requests);
            assets::write(answer, &state.asset_tasks, rank, out);
        }
    }
}

fn write_message(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(br#"{"message":"#);
    serde_json::to_writer(&mut *out, message).expect("a string serializes");
    out.push(b'}');
}

/// The intake's answer `{"event_ids":["<uuid>",...]}`, made a part at a
/// time.
struct EventIds<'a> {
    count: usize,
    written: usize,
    ids: &'a mut IdGenerator,
}

/// The ids written per part of the answer (256 KiB, a write each): the
/// answer to a batch of millions of tiny events is never held whole.
const IDS_PER_PART: usize = 6720;

impl<'a> EventIds<'a> {
    fn new(count: usize, ids: &'a mut IdGenerator) -> Self {
        EventIds {
            count,
            written: 0,
            ids,
        }
    }

    /// The answer's length in bytes.
    fn len(&self) -> usize {
        16 + self.count * 39 - usize::from(self.count > 0)
    }

    /// Appends the next part to `out`; false once the answer is complete.
    fn part(&mut self, out: &mut Vec<u8>) -> bool {
        if self.written == 0 {
            out.extend_from_slice(br#"{"event_ids":["#);
        }
        let end = self.count.min(self.written + IDS_PER_PART);
        // Each id's record `"<uuid>",` written in place (the last comma
        // taken back below).
        let start = out.len();
        out.resize(start + (end - self.written) * 39, 0);
        let (records, _) = out[start..].as_chunks_mut::<39>();
        for record in records {
            record[0] = b'"';
            let id = (&mut record[1..37]).try_into().expect("36 bytes");
            self.ids.write_next(id);
            record[37..].copy_from_slice(b"\",");
        }
        self.written = end;
        if end == self.count {
            if end > 0 {
                out.pop();
            }
            out.extend_from_slice(b"]}");
            return false;
        }
        true
    }
}

/// UUIDv4 event ids without a system call each: 128 bits of splitmix64
/// (two outputs), seeded from the system's random source once per
/// connection, of which 122 are the id's random bits; over one period
/// splitmix64's outputs are a permutation of the 64-bit values, so ids
/// repeat no more than random v4 UUIDs do.
struct IdGenerator(u64);

impl IdGenerator {
    fn new() -> Self {
        let (high, low) = Uuid::new_v4().as_u64_pair();
        IdGenerator(high ^ low.rotate_left(29))
    }

    /// Writes the next id, lower-case hyphenated, into `out`.
    fn write_next(&mut self, out: &mut [u8; 36]) {
        let (first, second) = (splitmix64(&mut self.0), splitmix64(&mut self.0));
        let mut random = [0u8; 16];
        random[..8].copy_from_slice(&first.to_le_bytes());
        random[8..].copy_from_slice(&second.to_le_bytes());
        uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .hyphenated()
            .encode_lower(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_count() {
        assert_eq!(
            ParsedBody::new(br#"{"jsons": ["a", "b"]}"#).event_count(),
            Some(2)
        );
        assert_eq!(
            ParsedBody::new(br#" {"intake_key": "k", "jsons": []}"#).event_count(),
            Some(0)
        );
        assert_eq!(
            ParsedBody::new(br#"{"intake_key": "k"}"#).event_count(),
            None
        );
        assert_eq!(ParsedBody::new(br#"[["a"]]"#).event_count(), None);
        assert_eq!(ParsedBody::new(b"nope").event_count(), None);
    }

    /// Whether `text` is a lower-case hyphenated v4 UUID with the RFC 9562
    /// variant, as `uuid` reads and writes it.
    fn is_v4(text: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(text) else {
            return false;
        };
        Uuid::parse_str(text).is_ok_and(|uuid| {
            uuid.get_version() == Some(uuid::Version::Random)
                && uuid.get_variant() == uuid::Variant::RFC4122
                && uuid.hyphenated().to_string() == text
        })
    }

    /// 100,000 ids of one generator: all v4 UUIDs, distinct, each random
    /// digit taking each of its values (16, or 4 for the variant's).
    #[test]
    fn event_ids_are_distinct_v4() {
        let mut ids = IdGenerator::new();
        let mut unique = std::collections::HashSet::new();
        let mut seen = [0u16; 36];
        for _ in 0..100_000 {
            let mut text = [0; 36];
            ids.write_next(&mut text);
            assert!(is_v4(&text), "{}", String::from_utf8_lossy(&text));
            for (seen, digit) in seen.iter_mut().zip(text) {
                if let Some(value) = char::from(digit).to_digit(16) {
                    *seen |= 1 << value;
                }
            }
            assert!(unique.insert(text));
        }
        for (at, seen) in seen.into_iter().enumerate() {
            let expected = match at {
                8 | 13 | 18 | 23 => 0,
                14 => 1 << 4,
                19 => 0xf00,
                _ => 0xffff,
            };
            assert_eq!(seen, expected, "digit {at}");
        }
        // Another connection's generator makes other ids.
        let mut other = IdGenerator::new();
        for _ in 0..1000 {
            let mut text = [0; 36];
            other.write_next(&mut text);
            assert!(!unique.contains(&text));
        }
    }

    /// The answer for 0, 1 and around the parts' boundaries: its announced
    /// length, the expected number of parts, compact JSON holding exactly
    /// `count` distinct v4 ids.
    #[test]
    fn event_ids_answers_of_every_size() {
        let mut ids = IdGenerator::new();
        let part = IDS_PER_PART;
        for count in [
            0,
            1,
            2,
            part - 1,
            part,
            part + 1,
            2 * part - 1,
            2 * part,
            2 * part + 1,
        ] {
            let mut answer = EventIds::new(count, &mut ids);
            let length = answer.len();
            let mut out = Vec::new();
            let mut parts = 1;
            while answer.part(&mut out) {
                parts += 1;
            }
            assert_eq!(out.len(), length, "{count}");
            assert_eq!(parts, count.div_ceil(part).max(1), "{count}");
            let value: Value = serde_json::from_slice(&out).unwrap();
            // The bytes serde_json writes for it: no space, nothing else.
            assert_eq!(serde_json::to_vec(&value).unwrap(), out, "{count}");
            let list = value.as_object().unwrap();
            assert_eq!(list.len(), 1);
            let list = list["event_ids"].as_array().unwrap();
            assert_eq!(list.len(), count);
            let unique: std::collections::HashSet<_> = list
                .iter()
                .map(|id| id.as_str().unwrap())
                .inspect(|id| assert!(is_v4(id.as_bytes()), "{id}"))
                .collect();
            assert_eq!(unique.len(), count);
        }
        let mut out = Vec::new();
        assert!(!EventIds::new(0, &mut ids).part(&mut out));
        assert_eq!(out, br#"{"event_ids":[]}"#);
    }
}
