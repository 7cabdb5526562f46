//! The scenario file of `sekoia-automation compare`: what both sides run
//! on, written by hand as JSON (docs/migrating.md §10 documents it).
//!
//! A file holds one scenario (an object) or several (`{"scenarios":
//! [...]}`). Values handed to the module (configurations, arguments, the
//! vendor's answers) are kept as the author wrote them, byte for byte: an
//! integer beyond 64 bits or a float such as `0.30000000000000004` reaches
//! both sides as written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::testing::{Fault, Reply};

/// The configuration values a scenario may give the item, each written to
/// `/symphony/<name>` (the Rust side) and to the upper-cased environment
/// variable (the Python side, which reads it when `/symphony` is absent).
pub const VALUE_KEYS: [&str; 4] = [
    "module_configuration",
    "arguments",
    "trigger_configuration",
    "connector_configuration",
];

/// How long an item may run when the scenario states no `stop.seconds`.
pub const DEFAULT_SECONDS: f64 = 60.0;

/// One scenario: the item, its inputs, the platform's and the vendor's
/// behaviour, when to stop it.
///
/// ```
/// use sekoia_automation::unversioned::compare::Scenario;
///
/// let text = r#"{"command": "get-lamp", "arguments": {"id": 123456789012345678901234567890}}"#;
/// let scenarios = Scenario::parse(text, "lamp.json".as_ref())?;
/// assert_eq!(scenarios[0].command, "get-lamp");
/// assert_eq!(scenarios[0].values[0].1, r#"{"id": 123456789012345678901234567890}"#);
/// # Ok::<(), sekoia_automation::unversioned::compare::ScenarioError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its `name`, else `scenarios[<index>]`.
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// Where it is in its file (`scenarios[2]`, or `(the file)`).
    pub location: String,
    /// The item's command (`docker_parameters`).
    pub command: String,
    /// The configuration values (`arguments`, `module_configuration`...),
    /// each as the JSON text written in the file.
    pub values: Vec<(String, String)>,
    /// What the platform answers for the module's secrets: a JSON object,
    /// as written in the file (answered byte for byte).
    pub secrets: Option<String>,
    /// The platform's faults, in order.
    pub platform_faults: Vec<FaultSpec>,
    /// The fake vendor's routes.
    pub vendor_routes: Vec<RouteSpec>,
    /// The fake vendor's scripted answers, before any route's.
    pub vendor_script: Vec<ReplySpec>,
    /// Stop (SIGTERM) once this many events reached the platform.
    pub stop_events: Option<usize>,
    /// Stop (SIGTERM) after this many seconds.
    pub stop_seconds: f64,
}

/// A platform fault of a scenario (`platform_faults[i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    effect: FaultEffect,
    method: Option<String>,
    path_suffix: Option<String>,
    when_json: Vec<(String, Value)>,
    times: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum FaultEffect {
    Status(u16),
    DropConnection,
    Delay(Duration),
}

impl FaultSpec {
    /// The [`Fault`] to inject.
    pub fn fault(&self) -> Fault {
        let mut fault = match self.effect {
            FaultEffect::Status(status) => Fault::status(status),
            FaultEffect::DropConnection => Fault::drop_connection(),
            FaultEffect::Delay(delay) => Fault::delay(delay),
        };
        if let Some(method) = &self.method {
            fault = fault.on_method(method);
        }
        if let Some(suffix) = &self.path_suffix {
            fault = fault.on_path_suffix(suffix);
        }
        for (key, value) in &self.when_json {
            fault = fault.when_json(key, value.clone());
        }
        match self.times {
            Some(times) => fault.times(times),
            None => fault.always(),
        }
    }
}

/// A route of the fake vendor (`vendor.routes[i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSpec {
    /// The method, upper-case.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The answer.
    pub reply: ReplySpec,
}

/// An answer of the fake vendor.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplySpec {
    status: u16,
    /// `true`: a JSON body (`json`), else text (`text`, or none).
    json: bool,
    body: String,
    headers: Vec<(String, String)>,
    delay: Duration,
    drop_connection: bool,
}

impl ReplySpec {
    /// The [`Reply`], with `substitute` applied to its body and headers
    /// (the `{vendor}` and `{platform}` placeholders).
    pub fn reply(&self, substitute: &dyn Fn(&str) -> String) -> Reply {
        if self.drop_connection {
            return Reply::drop_connection();
        }
        let body = substitute(&self.body);
        let mut reply = if self.json {
            Reply::json(self.status, body)
        } else {
            Reply::text(self.status, body)
        };
        for (name, value) in &self.headers {
            reply = reply.header(name, substitute(value));
        }
        reply.after(self.delay)
    }
}

/// A scenario file that cannot be used: the file, the key, what is wrong.
///
/// ```
/// use sekoia_automation::unversioned::compare::Scenario;
///
/// let text = r#"{"scenarios": [{"command": "get-lamp", "stop": {"events": -1}}]}"#;
/// let error = Scenario::parse(text, "lamp.json".as_ref()).unwrap_err();
/// assert_eq!(error.key, "scenarios[0].stop.events");
/// assert_eq!(
///     error.to_string(),
///     "lamp.json: `scenarios[0].stop.events`: must be a non-negative integer"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The scenario file.
    pub file: PathBuf,
    /// The key (`scenarios[0].vendor.routes[1].status`), empty for the
    /// whole file.
    pub key: String,
    /// What is wrong and what to write instead.
    pub problem: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.problem)
        } else {
            write!(
                f,
                "{}: `{}`: {}",
                self.file.display(),
                self.key,
                self.problem
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// An object's members, as written.
type Members = BTreeMap<String, Box<RawValue>>;

/// Reads the parts of a file, naming the file and the key of a problem.
struct Reader<'a> {
    file: &'a Path,
}

impl Reader<'_> {
    fn error(&self, key: &str, problem: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            problem: problem.into(),
        }
    }

    fn object(
        &self,
        key: &str,
        raw: &RawValue,
        allowed: &[&str],
    ) -> Result<Members, ScenarioError> {
        let members: Members = serde_json::from_str(raw.get())
            .map_err(|_| self.error(key, "must be a JSON object"))?;
        if let Some(unknown) = members
            .keys()
            .find(|name| !allowed.contains(&name.as_str()))
        {
            let path = join(key, unknown);
            return Err(self.error(
                &path,
                format!("unknown key: the keys here are {}", quoted(allowed)),
            ));
        }
        Ok(members)
    }

    fn array<'r>(&self, key: &str, raw: &'r RawValue) -> Result<Vec<&'r RawValue>, ScenarioError> {
        serde_json::from_str(raw.get()).map_err(|_| self.error(key, "must be a JSON array"))
    }

    fn string(&self, key: &str, raw: &RawValue) -> Result<String, ScenarioError> {
        serde_json::from_str(raw.get()).map_err(|_| self.error(key, "must be a string"))
    }

    fn unsigned(&self, key: &str, raw: &RawValue) -> Result<u64, ScenarioError> {
        serde_json::from_str(raw.get())
            .map_err(|_| self.error(key, "must be a non-negative integer"))
    }

    fn seconds(&self, key: &str, raw: &RawValue) -> Result<f64, ScenarioError> {
        match serde_json::from_str::<f64>(raw.get()) {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(seconds),
            _ => Err(self.error(key, "must be a non-negative number of seconds")),
        }
    }

    fn status(&self, key: &str, raw: &RawValue) -> Result<u16, ScenarioError> {
        match serde_json::from_str::<u16>(raw.get()) {
            Ok(status) if (200..=599).contains(&status) => Ok(status),
            _ => Err(self.error(key, "must be an HTTP status from 200 to 599")),
        }
    }

    fn scenario(&self, key: &str, index: usize, raw: &RawValue) -> Result<Scenario, ScenarioError> {
        let allowed = [
            "name",
            "command",
            "module_configuration",
            "arguments",
            "trigger_configuration",
            "connector_configuration",
            "secrets",
            "platform_faults",
            "vendor",
            "stop",
        ];
        let members = self.object(key, raw, &allowed)?;
        let location = if key.is_empty() {
            "(the file)".to_string()
        } else {
            key.to_string()
        };
        let name = match members.get("name") {
            Some(raw) => self.string(&join(key, "name"), raw)?,
            None if key.is_empty() => self.file.file_stem().map_or_else(
                || "scenario".into(),
                |stem| stem.to_string_lossy().into_owned(),
            ),
            None => format!("scenarios[{index}]"),
        };
        let command = match members.get("command") {
            Some(raw) => self.string(&join(key, "command"), raw)?,
            None => {
                return Err(self.error(
                    &join(key, "command"),
                    "missing: give the item's command (its manifest's `docker_parameters`)",
                ));
            }
        };
        let mut values = Vec::new();
        for name in VALUE_KEYS {
            if let Some(raw) = members.get(name) {
                values.push((name.to_string(), raw.get().to_string()));
            }
        }
        let secrets = match members.get("secrets") {
            Some(raw) => match serde_json::from_str::<Members>(raw.get()) {
                Ok(_) => Some(raw.get().to_string()),
                Err(_) => {
                    return Err(self.error(&join(key, "secrets"), "must be a JSON object"));
                }
            },
            None => None,
        };
        let mut platform_faults = Vec::new();
        if let Some(raw) = members.get("platform_faults") {
            let faults_key = join(key, "platform_faults");
            for (i, raw) in self.array(&faults_key, raw)?.into_iter().enumerate() {
                platform_faults.push(self.fault(&format!("{faults_key}[{i}]"), raw)?);
            }
        }
        let (mut vendor_routes, mut vendor_script) = (Vec::new(), Vec::new());
        if let Some(raw) = members.get("vendor") {
            let vendor_key = join(key, "vendor");
            let vendor = self.object(&vendor_key, raw, &["routes", "script"])?;
            if let Some(raw) = vendor.get("routes") {
                let routes_key = join(&vendor_key, "routes");
                for (i, raw) in self.array(&routes_key, raw)?.into_iter().enumerate() {
                    vendor_routes.push(self.route(&format!("{routes_key}[{i}]"), raw)?);
                }
            }
            if let Some(raw) = vendor.get("script") {
                let script_key = join(&vendor_key, "script");
                for (i, raw) in self.array(&script_key, raw)?.into_iter().enumerate() {
                    let key = format!("{script_key}[{i}]");
                    let members = self.object(&key, raw, &REPLY_KEYS)?;
                    vendor_script.push(self.reply(&key, &members)?);
                }
            }
        }
        let (mut stop_events, mut stop_seconds) = (None, DEFAULT_SECONDS);
        if let Some(raw) = members.get("stop") {
            let stop_key = join(key, "stop");
            let stop = self.object(&stop_key, raw, &["events", "seconds"])?;
            if let Some(raw) = stop.get("events") {
                let events = self.unsigned(&join(&stop_key, "events"), raw)?;
                stop_events = Some(usize::try_from(events).unwrap_or(usize::MAX));
            }
            if let Some(raw) = stop.get("seconds") {
                stop_seconds = self.seconds(&join(&stop_key, "seconds"), raw)?;
            }
        }
        Ok(Scenario {
            name,
            file: self.file.to_path_buf(),
            location,
            command,
            values,
            secrets,
            platform_faults,
            vendor_routes,
            vendor_script,
            stop_events,
            stop_seconds,
        })
    }

    fn fault(&self, key: &str, raw: &RawValue) -> Result<FaultSpec, ScenarioError> {
        let allowed = [
            "status",
            "drop_connection",
            "delay_ms",
            "method",
            "path_suffix",
            "when_json",
            "times",
        ];
        let members = self.object(key, raw, &allowed)?;
        let effects: Vec<&str> = ["status", "drop_connection", "delay_ms"]
            .into_iter()
            .filter(|effect| members.contains_key(*effect))
            .collect();
        let effect = match effects.as_slice() {
            ["status"] => {
                FaultEffect::Status(self.status(&join(key, "status"), &members["status"])?)
            }
            ["drop_connection"] => match members["drop_connection"].get() {
                "true" => FaultEffect::DropConnection,
                _ => return Err(self.error(&join(key, "drop_connection"), "must be `true`")),
            },
            ["delay_ms"] => FaultEffect::Delay(Duration::from_millis(
                self.unsigned(&join(key, "delay_ms"), &members["delay_ms"])?,
            )),
            _ => {
                return Err(self.error(
                    key,
                    "give exactly one of `status`, `drop_connection` (true) or `delay_ms`",
                ));
            }
        };
        let method = match members.get("method") {
            Some(raw) => Some(self.string(&join(key, "method"), raw)?),
            None => None,
        };
        let path_suffix = match members.get("path_suffix") {
            Some(raw) => Some(self.string(&join(key, "path_suffix"), raw)?),
            None => None,
        };
        let mut when_json = Vec::new();
        if let Some(raw) = members.get("when_json") {
            match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::Object(map)) => when_json.extend(map),
                _ => return Err(self.error(&join(key, "when_json"), "must be a JSON object")),
            }
        }
        let times = match members.get("times") {
            None => Some(1),
            Some(raw) if raw.get() == "\"always\"" => None,
            Some(raw) => match serde_json::from_str::<usize>(raw.get()) {
                Ok(times) => Some(times),
                Err(_) => {
                    return Err(self.error(
                        &join(key, "times"),
                        "must be a non-negative integer or \"always\"",
                    ));
                }
            },
        };
        Ok(FaultSpec {
            effect,
            method,
            path_suffix,
            when_json,
            times,
        })
    }

    fn route(&self, key: &str, raw: &RawValue) -> Result<RouteSpec, ScenarioError> {
        let mut allowed = vec!["method", "path"];
        allowed.extend(REPLY_KEYS);
        let members = self.object(key, raw, &allowed)?;
        let method = match members.get("method") {
            Some(raw) => self.string(&join(key, "method"), raw)?.to_ascii_uppercase(),
            None => return Err(self.error(&join(key, "method"), "missing: `GET`, `POST`...")),
        };
        let path = match members.get("path") {
            Some(raw) => self.string(&join(key, "path"), raw)?,
            None => {
                return Err(self.error(
                    &join(key, "path"),
                    "missing: the path the module calls, without the query (`/v2/host/1.2.3.4`)",
                ));
            }
        };
        if !path.starts_with('/') {
            return Err(self.error(&join(key, "path"), "must start with `/`"));
        }
        let reply = self.reply(key, &members)?;
        Ok(RouteSpec {
            method,
            path,
            reply,
        })
    }

    fn reply(&self, key: &str, members: &Members) -> Result<ReplySpec, ScenarioError> {
        let drop_connection = match members.get("drop_connection") {
            None => false,
            Some(raw) if raw.get() == "true" => true,
            Some(_) => return Err(self.error(&join(key, "drop_connection"), "must be `true`")),
        };
        let status = match members.get("status") {
            Some(raw) => self.status(&join(key, "status"), raw)?,
            None if drop_connection => 0,
            None => {
                return Err(self.error(&join(key, "status"), "missing: the answer's HTTP status"));
            }
        };
        let (json, body) = match (members.get("json"), members.get("text")) {
            (Some(_), Some(_)) => {
                return Err(self.error(key, "give `json` or `text`, not both"));
            }
            (Some(raw), None) => (true, raw.get().to_string()),
            (None, Some(raw)) => (false, self.string(&join(key, "text"), raw)?),
            (None, None) => (false, String::new()),
        };
        let mut headers = Vec::new();
        if let Some(raw) = members.get("headers") {
            let headers_key = join(key, "headers");
            let map: BTreeMap<String, String> = serde_json::from_str(raw.get()).map_err(|_| {
                self.error(
                    &headers_key,
                    "must be an object of strings (`{\"Retry-After\": \"1\"}`)",
                )
            })?;
            for (name, value) in map {
                if format!("{name}{value}").contains(['\r', '\n']) {
                    return Err(self.error(&join(&headers_key, &name), "holds a CR or LF"));
                }
                headers.push((name, value));
            }
        }
        let delay = match members.get("delay_ms") {
            Some(raw) => Duration::from_millis(self.unsigned(&join(key, "delay_ms"), raw)?),
            None => Duration::ZERO,
        };
        Ok(ReplySpec {
            status,
            json,
            body,
            headers,
            delay,
            drop_connection,
        })
    }
}

/// The keys of a vendor answer.
const REPLY_KEYS: [&str; 6] = [
    "status",
    "json",
    "text",
    "headers",
    "delay_ms",
    "drop_connection",
];

fn join(key: &str, member: &str) -> String {
    if key.is_empty() {
        member.to_string()
    } else {
        format!("{key}.{member}")
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Scenario {
    /// The scenarios of a file's text; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`ScenarioError`] naming the file, the key and what is wrong: not
    /// JSON, an unknown or missing key, a value of the wrong type.
    pub fn parse(text: &str, file: &Path) -> Result<Vec<Scenario>, ScenarioError> {
        let reader = Reader { file };
        let root: Box<RawValue> = serde_json::from_str(text).map_err(|error| {
            reader.error(
                "",
                format!("not JSON: {error} (a scenario file is a JSON object)"),
            )
        })?;
        let members: Members = serde_json::from_str(root.get()).map_err(|_| {
            reader.error(
                "",
                "must be a JSON object: one scenario, or {\"scenarios\": [...]}",
            )
        })?;
        match members.get("scenarios") {
            Some(list) => {
                if members.len() > 1 {
                    let other = members.keys().find(|key| *key != "scenarios");
                    return Err(reader.error(
                        other.map_or("", String::as_str),
                        "unknown key beside `scenarios`: put it in each scenario",
                    ));
                }
                let items = reader.array("scenarios", list)?;
                if items.is_empty() {
                    return Err(reader.error("scenarios", "is empty: give at least one scenario"));
                }
                items
                    .into_iter()
                    .enumerate()
                    .map(|(index, raw)| reader.scenario(&format!("scenarios[{index}]"), index, raw))
                    .collect()
            }
            None => Ok(vec![reader.scenario("", 0, &root)?]),
        }
    }

    /// The scenarios of the file at `path`.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), and when the file cannot be read.
    pub fn read(path: &Path) -> Result<Vec<Scenario>, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError {
            file: path.to_path_buf(),
            key: String::new(),
            problem: format!("cannot read it: {error}"),
        })?;
        Scenario::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Scenario>, ScenarioError> {
        Scenario::parse(text, Path::new("s.json"))
    }

    #[test]
    fn values_are_kept_as_written_big_integers_exact_floats_and_astral_characters() {
        let arguments = r#"{"id": 123456789012345678901234567890, "ratio": 0.30000000000000004, "name": "𝔏\"é\\"}"#;
        let answer = r#"{"n": -98765432109876543210987654321, "x": 1E400, "s": "\ud835\udd0f"}"#;
        let text = format!(
            r#"{{"command": "get", "arguments": {arguments}, "vendor": {{"routes": [{{"method": "get", "path": "/a", "status": 200, "json": {answer}}}]}}}}"#
        );
        let scenarios = parse(&text).unwrap();
        assert_eq!(scenarios.len(), 1);
        let scenario = &scenarios[0];
        assert_eq!(scenario.name, "s");
        assert_eq!(
            scenario.values,
            [("arguments".to_string(), arguments.to_string())]
        );
        let route = &scenario.vendor_routes[0];
        assert_eq!((route.method.as_str(), route.path.as_str()), ("GET", "/a"));
        assert_eq!(route.reply.body, answer);
        assert!(route.reply.json);
        assert_eq!(scenario.stop_seconds, DEFAULT_SECONDS);
    }

    #[test]
    fn a_list_names_its_scenarios_by_index_and_reads_faults_and_stops() {
        let text = r#"{"scenarios": [
            {"command": "a", "platform_faults": [{"status": 503, "method": "PATCH", "path_suffix": "/callback", "times": 2}]},
            {"name": "second", "command": "b", "stop": {"events": 3, "seconds": 2.5},
             "platform_faults": [{"drop_connection": true, "times": "always"}],
             "vendor": {"script": [{"status": 429, "headers": {"Retry-After": "1"}}, {"drop_connection": true}]}}
        ]}"#;
        let scenarios = parse(text).unwrap();
        assert_eq!(scenarios[0].name, "scenarios[0]");
        assert_eq!(scenarios[0].location, "scenarios[0]");
        assert_eq!(
            scenarios[0].platform_faults[0].fault(),
            Fault::status(503)
                .on_method("PATCH")
                .on_path_suffix("/callback")
                .times(2)
        );
        assert_eq!(scenarios[1].name, "second");
        assert_eq!(scenarios[1].stop_events, Some(3));
        assert_eq!(scenarios[1].stop_seconds, 2.5);
        assert_eq!(
            scenarios[1].platform_faults[0].fault(),
            Fault::drop_connection().always()
        );
        assert_eq!(scenarios[1].vendor_script.len(), 2);
        assert!(scenarios[1].vendor_script[1].drop_connection);
    }

    #[test]
    fn the_secrets_are_kept_as_written() {
        let text = r#"{"command": "a", "secrets": {"pin": 123456789012345678901234567890, "w": 0.30000000000000004, "k": "\"𝔏\""}}"#;
        assert_eq!(
            parse(text).unwrap()[0].secrets.as_deref(),
            Some(
                r#"{"pin": 123456789012345678901234567890, "w": 0.30000000000000004, "k": "\"𝔏\""}"#
            )
        );
        let error = parse(r#"{"command": "a", "secrets": [1]}"#).unwrap_err();
        assert_eq!(
            (error.key.as_str(), error.problem.as_str()),
            ("secrets", "must be a JSON object")
        );
    }

    #[test]
    fn an_error_names_the_file_and_the_key() {
        let cases = [
            ("[1]", "", "must be a JSON object"),
            ("{\"command\": \"a\"", "", "not JSON"),
            ("{}", "command", "missing"),
            ("{\"command\": 1}", "command", "must be a string"),
            (
                "{\"command\": \"a\", \"argument\": {}}",
                "argument",
                "unknown key",
            ),
            (
                r#"{"scenarios": [{"command": "a"}, {"command": "b", "vendor": {"routes": [{"method": "GET", "path": "/x", "status": 700}]}}]}"#,
                "scenarios[1].vendor.routes[0].status",
                "200 to 599",
            ),
            (
                r#"{"command": "a", "platform_faults": [{"status": 500, "delay_ms": 3}]}"#,
                "platform_faults[0]",
                "exactly one",
            ),
            (
                r#"{"command": "a", "vendor": {"routes": [{"method": "GET", "path": "x", "status": 200}]}}"#,
                "vendor.routes[0].path",
                "start with",
            ),
            (
                r#"{"command": "a", "stop": {"events": -1}}"#,
                "stop.events",
                "non-negative",
            ),
            (r#"{"scenarios": []}"#, "scenarios", "at least one"),
        ];
        for (text, key, problem) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.key, key, "{text}");
            assert!(error.problem.contains(problem), "{text}: {error}");
            assert!(error.to_string().starts_with("s.json"), "{error}");
        }
    }
}
