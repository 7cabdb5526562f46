//! The Tidewatch module, ported from Python: the worked example of
//! `docs/migrating.md`. The Python original is in
//! `tests/fixtures/tidewatch/python/`, its checked-in manifests in
//! `tests/fixtures/tidewatch/`; `tests/migrate.rs` proves that
//! `generate-files` leaves them unchanged, that `check-module` finds no
//! problem, and that the traffic toward the platform and the vendor is the
//! original's.
//!
//! ```sh
//! cargo run --example tidewatch -- check-module tests/fixtures/tidewatch
//! ```

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::typestate::Registered;
use sekoia_automation::{
    AccountValidator, Action, ActionContext, Documented, Identity, Module, NotValid, Outcome,
    Secret, ValidationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The module configuration. Its schema is the one `manifest.json`
/// documents by hand (`Documented`), kept as it is.
#[derive(Deserialize, JsonSchema)]
pub struct Config {
    /// Tidewatch API key.
    pub api_key: Secret<String>,
    /// Tidewatch API URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    "https://api.tidewatch.example/v2/".into()
}

/// The configuration as the module's items see it.
pub type Configuration = Documented<Config>;

/// `GenericAPIAction` of the Python module: a verb, an endpoint whose
/// `{placeholders}` come from the arguments, the declared query
/// parameters; the other arguments are the JSON body; the answer is the
/// results, as it came.
///
/// A stand-in until the vendor client's `GenericApiAction` is merged (see
/// docs/migrating.md, "GenericAPIAction"): it does the success path of the
/// reference (no retries), enough to compare the traffic.
fn generic_api_call(
    ctx: &ActionContext<'_, Configuration>,
    verb: &str,
    endpoint: &str,
    query_parameters: &[&str],
    arguments: Documented,
) -> Outcome<Documented> {
    match call_vendor(
        ctx,
        verb,
        endpoint,
        query_parameters,
        arguments.into_inner(),
        true,
    ) {
        Ok(Value::Null) => Outcome::none(),
        Ok(results) => Outcome::success(Documented(results)),
        Err(error) => Outcome::failure(error),
    }
}

/// The vendor's JSON answer (`null` for an empty one), or why there is none.
/// `generic`: as `GenericAPIAction` sends it (`Accept: application/json`, the
/// remaining arguments as the JSON body); else as a plain `requests.get`.
fn call_vendor(
    ctx: &ActionContext<'_, Configuration>,
    verb: &str,
    endpoint: &str,
    query_parameters: &[&str],
    arguments: Value,
    generic: bool,
) -> Result<Value, String> {
    let mut body: Map<String, Value> = match arguments {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut path = endpoint.trim_start_matches('/').to_string();
    let placeholders: Vec<String> = body.keys().cloned().collect();
    for name in placeholders {
        let placeholder = format!("{{{name}}}");
        if path.contains(&placeholder) {
            let value = body.shift_remove(&name).unwrap_or(Value::Null);
            path = path.replace(&placeholder, &python_text(&value));
        }
    }
    let mut query = Vec::new();
    for name in query_parameters {
        if let Some(value) = body.shift_remove(*name) {
            query.push(format!(
                "{}={}",
                form_encode(name),
                form_encode(&python_text(&value))
            ));
        }
    }
    let configuration = ctx.configuration();
    let mut url = join_url(&configuration.base_url, &path);
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(verb)
        .uri(&url)
        // `GenericAPIAction` asks for JSON; a plain `requests.get` sends
        // the `requests` default.
        .header("Accept", if generic { "application/json" } else { "*/*" })
        .header(
            "Authorization",
            format!("Bearer {}", configuration.api_key.expose()),
        );
    let mut text = String::new();
    if generic {
        request = request.header("Content-Type", "application/json");
        text = python_dumps(&Value::Object(body));
    }
    let request = request.body(text);
    request
        .map_err(|error| error.to_string())
        .and_then(|request| agent.run(request).map_err(|error| error.to_string()))
        .and_then(|mut response| {
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .read_to_string()
                .map_err(|error| error.to_string())?;
            if status >= 400 {
                return Err(format!("{verb} {url} answered HTTP {status}: {text}"));
            }
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(&text).map_err(|error| error.to_string())
        })
}

/// The bytes of `requests`' `json=`: Python's `json.dumps` (`", "` and
/// `": "` separators, characters beyond ASCII as `\uXXXX`).
fn python_dumps(value: &Value) -> String {
    struct Python;
    impl serde_json::ser::Formatter for Python {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                writer.write_all(b", ")
            }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                writer.write_all(b", ")
            }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
        ) -> std::io::Result<()> {
            writer.write_all(b": ")
        }
    }
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, Python);
    serde::Serialize::serialize(value, &mut serializer).expect("a JSON value serializes");
    let mut text = String::with_capacity(bytes.len());
    for character in String::from_utf8(bytes)
        .expect("serde_json writes UTF-8")
        .chars()
    {
        if character.is_ascii() {
            text.push(character);
        } else {
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                text.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    text
}

/// Python's `str()` of a JSON value, as `requests` puts it in a URL.
fn python_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// `urllib.parse.quote_plus`: unreserved characters as they are, spaces as
/// `+`, the other bytes as `%XX`.
fn form_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                encoded.push(byte as char)
            }
            b' ' => encoded.push('+'),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

/// `urljoin(base, path)` for a relative `path`: appended after the base's
/// last `/`.
fn join_url(base: &str, path: &str) -> String {
    match base.rfind('/') {
        Some(slash) if slash > base.find("//").map_or(0, |scheme| scheme + 1) => {
            format!("{}{path}", &base[..=slash])
        }
        _ => format!("{base}/{path}"),
    }
}

/// `GetHost` of the Python module.
pub struct GetHost;

impl Action for GetHost {
    type ModuleConfiguration = Configuration;
    type Arguments = Documented;
    type Results = Documented;
    const NAME: &'static str = "Get host";
    const DESCRIPTION: &'static str = "Get everything Tidewatch knows about a host";
    const IDENTITY: Identity = Identity::new()
        .uuid("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52")
        .slug("get_host")
        .file("action_get_tidewatch_host.json");

    fn run(&self, ctx: &ActionContext<'_, Configuration>, args: Documented) -> Outcome<Documented> {
        generic_api_call(ctx, "GET", "host/{ip}", &["history", "minify"], args)
    }
}

/// `SearchHosts` of the Python module.
pub struct SearchHosts;

impl Action for SearchHosts {
    type ModuleConfiguration = Configuration;
    type Arguments = Documented;
    type Results = Documented;
    const NAME: &'static str = "Search hosts";
    const DESCRIPTION: &'static str = "Search the hosts matching a Tidewatch query";
    const IDENTITY: Identity = Identity::new()
        .uuid("c3f19a64-7d2b-4b8e-8f05-1e6a9c2d4b70")
        .slug("search_hosts")
        .file("action_search_tidewatch_hosts.json");

    fn run(&self, ctx: &ActionContext<'_, Configuration>, args: Documented) -> Outcome<Documented> {
        generic_api_call(ctx, "GET", "search", &["query", "page"], args)
    }
}

/// `TagHost` of the Python module.
pub struct TagHost;

impl Action for TagHost {
    type ModuleConfiguration = Configuration;
    type Arguments = Documented;
    type Results = Documented;
    const NAME: &'static str = "Tag host";
    const DESCRIPTION: &'static str = "Add tags to a host in your Tidewatch workspace";
    const IDENTITY: Identity = Identity::new()
        .uuid("5e2a8c1d-4f6b-4a93-b7d0-8c3e1f9a6b24")
        .file("action_tag_tidewatch_host.json");

    fn run(&self, ctx: &ActionContext<'_, Configuration>, args: Documented) -> Outcome<Documented> {
        generic_api_call(ctx, "POST", "host/{ip}/tags", &[], args)
    }
}

/// `ResolveArguments` of the Python module (a pydantic model: the
/// manifest's schema was generated, so the code states it).
#[derive(Deserialize, JsonSchema)]
pub struct ResolveArguments {
    /// The domain to resolve
    pub domain: String,
    #[serde(default = "default_record_types")]
    pub record_types: Vec<String>,
}

fn default_record_types() -> Vec<String> {
    vec!["A".into(), "AAAA".into()]
}

/// One address a domain resolved to.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Resolution {
    pub address: String,
    pub first_seen: Option<String>,
}

/// `ResolveResults` of the Python module.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ResolveResults {
    pub domain: String,
    pub resolutions: Vec<Resolution>,
}

/// `ResolveDomain` of the Python module: its uuid, file name and
/// `docker_parameters` are what the Python generator derived (uuid5 of the
/// name, the name, the class name), so nothing needs stating.
pub struct ResolveDomain;

impl Action for ResolveDomain {
    type ModuleConfiguration = Configuration;
    type Arguments = ResolveArguments;
    type Results = ResolveResults;
    const NAME: &'static str = "Resolve domain";
    const DESCRIPTION: &'static str = "Resolve a domain with Tidewatch’s passive DNS";

    fn run(
        &self,
        ctx: &ActionContext<'_, Configuration>,
        args: ResolveArguments,
    ) -> Outcome<ResolveResults> {
        let mut arguments = Map::new();
        arguments.insert("domain".into(), args.domain.clone().into());
        arguments.insert("types".into(), args.record_types.join(",").into());
        let arguments = Value::Object(arguments);
        match call_vendor(ctx, "GET", "dns/{domain}", &["types"], arguments, false) {
            Ok(answer) => match serde_json::from_value(answer) {
                Ok(results) => Outcome::success(results),
                Err(error) => Outcome::failure(format!("unexpected answer: {error}")),
            },
            Err(error) => Outcome::failure(error),
        }
    }
}

/// `TidewatchAccountValidator` of the Python module: `validate()` returns
/// whether `GET account` answers 200, without a message.
pub struct CheckAccount;

impl AccountValidator for CheckAccount {
    type ModuleConfiguration = Configuration;

    fn validate(&self, ctx: &ActionContext<'_, Configuration>) -> Result<(), ValidationError> {
        let configuration = ctx.configuration();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .get(join_url(&configuration.base_url, "account"))
            .header(
                "Authorization",
                format!("Bearer {}", configuration.api_key.expose()),
            )
            .call()?;
        if response.status().as_u16() == 200 {
            Ok(())
        } else {
            Err(NotValid.into())
        }
    }
}

/// The module, its items under the Python module's commands.
pub fn module() -> Module<Configuration, Registered> {
    register(Module::<Configuration>::new())
}

/// Registers the items on `module` (a module with test settings, say).
pub fn register(module: Module<Configuration>) -> Module<Configuration, Registered> {
    module
        .register("get-host", GetHost)
        .register("search-hosts", SearchHosts)
        .register("tag-host", TagHost)
        .register("ResolveDomain", ResolveDomain)
        .register_account_validator(CheckAccount)
}

#[allow(dead_code)]
fn main() -> ExitCode {
    module().run()
}
