//! [`ApiAction`]: the Python SDK's `GenericAPIAction`, on the vendor client:
//! a declarative HTTP action whose traffic to the vendor is the reference's.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::client::{Method, VendorClient};
use super::error::VendorError;
use super::json::Json;
use super::retry::RetryPolicy;
use super::url;
use crate::action::outcome::Outcome;
use crate::action::{Action, ActionContext};
use crate::config::documented::Documented;
use crate::config::identity::Identity;
use crate::storage::data_directory::DataDirectory;
use crate::trigger::stop_signal::{SignalListener, StopSignal};
use crate::wire::logging::Level;

/// How an [`ApiAction`] authenticates, from the module configuration's
/// `api_key`, `username` and `password` (the reference's `authentication`,
/// `auth_header` and `auth_query_param`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiAuthentication {
    /// None declared: `Authorization: Bearer <api_key>` when the
    /// configuration has a non-empty `api_key`, nothing otherwise.
    Default,
    /// `Basic base64(username:password)` (Latin-1) in `Authorization` or `header`.
    Basic {
        /// The header, when not `Authorization`.
        header: Option<&'static str>,
    },
    /// The `api_key` as is, in a header and/or a query parameter (the
    /// reference's `"apiKey"`).
    ApiKey {
        /// The header that carries it.
        header: Option<&'static str>,
        /// The query parameter that carries it (first in the query).
        query: Option<&'static str>,
    },
    /// `Bearer <api_key>` in `Authorization` or `header`.
    Bearer {
        /// The header, when not `Authorization`.
        header: Option<&'static str>,
    },
}

/// A declarative HTTP action, as the Python SDK's `GenericAPIAction`:
/// state the verb, the endpoint and the query parameters, and register it
/// wrapped in [`Api`]: an [`Action`] whose request is the reference's, byte
/// for byte on what it sets:
///
/// - URL: the configuration's `base_url` (else [`BASE_URL`](Self::BASE_URL))
///   joined as `posixpath.join(base, endpoint.lstrip("/"))`, the endpoint's
///   `{placeholders}` filled with (and removed from) the arguments, then
///   normalized as `requests` does;
/// - query: the [`QUERY_PARAMETERS`](Self::QUERY_PARAMETERS) present in the
///   arguments, taken out of them, encoded as `requests` encodes `params`
///   (`+` for spaces, `True`/`False`, lists repeated, `null` dropped), after
///   the API key when it goes in the query;
/// - headers: `Accept: application/json`, the [`AUTHENTICATION`](Self::AUTHENTICATION),
///   `Content-Type: application/json`;
/// - body: the remaining arguments as JSON written as Python writes it, on
///   every verb (a `GET` carries `{}`), each `<name>_path` argument replaced
///   by `<name>` holding the JSON of that file of the data directory;
/// - retries: 10 attempts on transport failures and 5xx answers, waiting 2,
///   4, 8… up to 300 s between them (tenacity's `wait_exponential(multiplier=2,
///   min=2, max=300)`, in units of the module's `retry_backoff` setting,
///   `ctx.settings()`: 1 s, shortened by tests and local runs), every wait
///   woken by SIGTERM/SIGINT; a 4xx ends the action with the
///   reference's error message and log (the vendor's `message` when its
///   JSON body has one), a `404` to a retried `DELETE` is a success;
/// - results: the vendor's JSON, integers of any size exact (or as strings
///   with [`STRINGIFY_BIG_INTEGERS`](Self::STRINGIFY_BIG_INTEGERS)), none
///   for a `204`.
///
/// [`ARGUMENTS`](Self::ARGUMENTS) and [`RESULTS`](Self::RESULTS) only
/// describe the action in its manifest (by default the schemas written there
/// by hand are kept, as a ported `GenericAPIAction` needs): the arguments
/// are used as the platform sent them, the results are the vendor's JSON.
/// An action that the platform already knows states its
/// [`IDENTITY`](Self::IDENTITY). The module configuration must be
/// `Serialize` (its `base_url`, `api_key`, `username` and `password` are
/// read by name).
///
/// A port of a `GenericAPIAction` whose manifest is written by hand:
///
/// ```
/// use sekoia_automation::vendor::{Api, ApiAction, Method};
/// use sekoia_automation::{Documented, Identity, Module};
///
/// struct TagHost;
///
/// impl ApiAction for TagHost {
///     type ModuleConfiguration = Documented;
///     const NAME: &'static str = "Tag host";
///     const DESCRIPTION: &'static str = "Add tags to a host";
///     const IDENTITY: Identity = Identity::new().uuid("5e2a8c1d-4f6b-4a93-b7d0-8c3e1f9a6b24");
///     const VERB: Method = Method::Post;
///     const ENDPOINT: &'static str = "host/{ip}/tags";
/// }
///
/// let module = Module::<Documented>::new().register("tag-host", Api(TagHost));
/// # let _ = module;
/// ```
///
/// A new action, its schemas from Rust types:
///
/// ```
/// use sekoia_automation::vendor::{Api, ApiAction, ApiAuthentication, ApiSchema, Method};
/// use sekoia_automation::{Module, Secret};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Config { base_url: String, api_key: Secret<String> }
///
/// /// The arguments the manifest documents.
/// #[derive(JsonSchema)]
/// #[allow(dead_code)]
/// struct HostArguments { ip: String, minify: Option<bool> }
///
/// /// The results the manifest documents.
/// #[derive(JsonSchema)]
/// #[allow(dead_code)]
/// struct Host { ip_str: String, ports: Vec<u16> }
///
/// struct GetHost;
///
/// impl ApiAction for GetHost {
///     type ModuleConfiguration = Config;
///     const NAME: &'static str = "Get host";
///     const DESCRIPTION: &'static str = "What the vendor knows of an IP address";
///     const VERB: Method = Method::Get;
///     const ENDPOINT: &'static str = "shodan/host/{ip}";
///     const QUERY_PARAMETERS: &'static [&'static str] = &["minify"];
///     const ARGUMENTS: ApiSchema = ApiSchema::of::<HostArguments>();
///     const RESULTS: ApiSchema = ApiSchema::of::<Host>();
///     const AUTHENTICATION: ApiAuthentication = ApiAuthentication::ApiKey { header: None, query: Some("key") };
/// }
///
/// let module = Module::<Config>::new().register("get_host", Api(GetHost));
/// # let _ = module;
/// ```
pub trait ApiAction: 'static {
    /// The module configuration (read by key: `base_url`, `api_key`, `username`, `password`).
    type ModuleConfiguration: DeserializeOwned + Serialize + JsonSchema + 'static;
    /// The action's name.
    const NAME: &'static str;
    /// What it does.
    const DESCRIPTION: &'static str;
    /// What the platform knows the action by, when it already exists (a
    /// port of a `GenericAPIAction`): its uuid, slug and manifest file,
    /// forwarded by [`Api`] as its [`Action::IDENTITY`]. A new action states
    /// nothing.
    const IDENTITY: Identity = Identity::new();
    /// The HTTP verb.
    const VERB: Method;
    /// The endpoint, relative to the base URL, with `{placeholders}`.
    const ENDPOINT: &'static str;
    /// The arguments sent in the query string, in this order.
    const QUERY_PARAMETERS: &'static [&'static str] = &[];
    /// The base URL when the configuration has no `base_url`.
    const BASE_URL: &'static str = "";
    /// The arguments' schema in the manifest: by default the one written
    /// there by hand, kept.
    const ARGUMENTS: ApiSchema = ApiSchema::DOCUMENTED;
    /// The results' schema in the manifest: by default the one written
    /// there by hand, kept.
    const RESULTS: ApiSchema = ApiSchema::DOCUMENTED;
    /// The authentication.
    const AUTHENTICATION: ApiAuthentication = ApiAuthentication::Default;
    /// The timeout of each phase of an attempt (the reference's `timeout = 5`).
    const TIMEOUT: Duration = Duration::from_secs(5);
    /// Integers beyond 64 bits in the results become strings (what some
    /// library modules do by hand).
    const STRINGIFY_BIG_INTEGERS: bool = false;
    /// The `User-Agent` sent (the reference sends `requests`' own).
    const USER_AGENT: &'static str = concat!("sekoia-automation-rust/", env!("CARGO_PKG_VERSION"));
}

/// The JSON Schema an [`ApiAction`] gives its arguments or its results in
/// the manifest: [`ApiSchema::DOCUMENTED`] (the default: the manifest's own,
/// written by hand, is kept, as for [`Documented`]) or a type's,
/// [`ApiSchema::of::<T>()`](Self::of).
///
/// ```
/// use sekoia_automation::vendor::ApiSchema;
///
/// /// What the vendor answers.
/// #[derive(schemars::JsonSchema)]
/// #[allow(dead_code)]
/// struct Host { ip_str: String, ports: Vec<u16> }
///
/// const RESULTS: ApiSchema = ApiSchema::of::<Host>();
/// # let _ = RESULTS;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ApiSchema {
    name: fn() -> Cow<'static, str>,
    id: fn() -> Cow<'static, str>,
    inline: fn() -> bool,
    schema: fn(&mut SchemaGenerator) -> Schema,
}

impl ApiSchema {
    /// The schema written by hand in the manifest, kept by `generate-files`
    /// (`{}` when the manifest has none yet).
    pub const DOCUMENTED: ApiSchema = ApiSchema::of::<Documented>();

    /// `T`'s schema, as an [`Action`]'s `Arguments = T` would write it.
    pub const fn of<T: JsonSchema>() -> Self {
        ApiSchema {
            name: T::schema_name,
            id: T::schema_id,
            inline: T::inline_schema,
            schema: T::json_schema,
        }
    }
}

/// An [`ApiAction`]'s arguments: whatever the platform sent, described in
/// the manifest by the action's [`ARGUMENTS`](ApiAction::ARGUMENTS).
#[derive(Debug, Clone, Copy)]
pub struct ApiArguments<T>(PhantomData<T>);

impl<'de, T> Deserialize<'de> for ApiArguments<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| ApiArguments(PhantomData))
    }
}

impl<T: ApiAction> JsonSchema for ApiArguments<T> {
    fn inline_schema() -> bool {
        (T::ARGUMENTS.inline)()
    }
    fn schema_name() -> Cow<'static, str> {
        (T::ARGUMENTS.name)()
    }
    fn schema_id() -> Cow<'static, str> {
        (T::ARGUMENTS.id)()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        (T::ARGUMENTS.schema)(generator)
    }
}

/// An [`ApiAction`]'s results: the vendor's JSON as it answered (numbers
/// exact), described in the manifest by the action's
/// [`RESULTS`](ApiAction::RESULTS).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResults<T> {
    json: Json,
    schema: PhantomData<T>,
}

impl<T> ApiResults<T> {
    /// Results holding `json`.
    pub fn new(json: Json) -> Self {
        ApiResults {
            json,
            schema: PhantomData,
        }
    }

    /// The vendor's JSON.
    pub fn json(&self) -> &Json {
        &self.json
    }
}

impl<T> Serialize for ApiResults<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

impl<T: ApiAction> JsonSchema for ApiResults<T> {
    fn inline_schema() -> bool {
        (T::RESULTS.inline)()
    }
    fn schema_name() -> Cow<'static, str> {
        (T::RESULTS.name)()
    }
    fn schema_id() -> Cow<'static, str> {
        (T::RESULTS.id)()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        (T::RESULTS.schema)(generator)
    }
}

/// Registers an [`ApiAction`] as an [`Action`]:
/// `module.register("get_host", Api(GetHost))`.
///
/// A wrapper rather than a blanket implementation, so that the compiler's
/// messages about a type that is not an [`Action`] stay about [`Action`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Api<T>(pub T);

impl<T: ApiAction> Action for Api<T> {
    type ModuleConfiguration = T::ModuleConfiguration;
    type Arguments = ApiArguments<T>;
    type Results = ApiResults<T>;
    const NAME: &'static str = T::NAME;
    const DESCRIPTION: &'static str = T::DESCRIPTION;
    const IDENTITY: Identity = T::IDENTITY;

    fn run(
        &self,
        ctx: &ActionContext<'_, Self::ModuleConfiguration>,
        _arguments: Self::Arguments,
    ) -> Outcome<Self::Results> {
        match run::<T>(ctx) {
            Ok(outcome) => outcome,
            Err(message) => Outcome::failure(format!("An unexpected error occurred: {message}")),
        }
    }
}

type Members = Vec<(String, Json)>;

fn get<'a>(members: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    members
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

fn pop(members: &mut Members, key: &str) -> Option<Json> {
    let at = members.iter().position(|(name, _)| name == key)?;
    Some(members.remove(at).1)
}

/// `dict[key] = value`: replaced in place, else appended.
fn insert(members: &mut Members, key: String, value: Json) {
    match members.iter_mut().find(|(name, _)| *name == key) {
        Some(member) => member.1 = value,
        None => members.push((key, value)),
    }
}

/// `re.findall("{(.*?)}", endpoint)`.
pub(crate) fn placeholders(endpoint: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(open) = endpoint[at..].find('{').map(|offset| at + offset) {
        let rest = &endpoint[open + 1..];
        match rest.find(['}', '\n']) {
            Some(end) if rest.as_bytes()[end] == b'}' => {
                found.push(&rest[..end]);
                at = open + 1 + end + 1;
            }
            _ => at = open + 1,
        }
    }
    found
}

/// `requests`' encoding of `params` (`_encode_params` then `urlencode(doseq=True)`).
pub(crate) fn encode_params(params: &[(String, Json)]) -> String {
    let mut pairs: Vec<String> = Vec::new();
    for (key, values) in params {
        let key = url::quote_plus(key);
        let values: Vec<Json> = match values {
            Json::Array(items) => items.clone(),
            Json::Object(members) => members
                .iter()
                .map(|(name, _)| Json::String(name.clone()))
                .collect(),
            other => vec![other.clone()],
        };
        for value in values.iter().filter(|value| !value.is_null()) {
            match value {
                Json::Array(items) => {
                    for item in items {
                        pairs.push(format!("{key}={}", url::quote_plus(&item.to_python_str())));
                    }
                }
                Json::Object(members) => {
                    for (name, _) in members {
                        pairs.push(format!("{key}={}", url::quote_plus(name)));
                    }
                }
                other => pairs.push(format!("{key}={}", url::quote_plus(&other.to_python_str()))),
            }
        }
    }
    pairs.join("&")
}

enum Missing {
    /// Neither a value nor `<name>_path`.
    Argument(String),
    /// `<name>_path` names no file.
    File,
}

/// The reference's `json_argument(name, arguments)`.
fn json_argument(
    name: &str,
    arguments: &[(String, Json)],
    data: &DataDirectory,
) -> Result<Json, Missing> {
    if let Some(value) = get(arguments, name).filter(|value| !value.is_null()) {
        return Ok(value.clone());
    }
    let Some(relative) = get(arguments, &format!("{name}_path")) else {
        return Err(Missing::Argument(name.to_string()));
    };
    let path = relative
        .as_str()
        .filter(|relative| !relative.is_empty())
        .and_then(|relative| data.resolve(relative).ok())
        .filter(|path| path.is_file())
        .ok_or(Missing::File)?;
    let bytes = std::fs::read(&path).map_err(|_| Missing::File)?;
    Json::parse(&bytes).map_err(|_| Missing::File)
}

/// The reference's `get_body(arguments)`.
fn body(arguments: &[(String, Json)], data: &DataDirectory) -> Result<Members, String> {
    let mut body = Members::new();
    for (key, value) in arguments {
        if let Json::Object(inner) = value {
            insert(
                &mut body,
                key.clone(),
                Json::Object(self::body(inner, data)?),
            );
            continue;
        }
        let name = key.replace("_path", "");
        match json_argument(&name, arguments, data) {
            Ok(value) => insert(&mut body, name, value),
            Err(Missing::File) => insert(&mut body, key.clone(), value.clone()),
            Err(Missing::Argument(name)) => {
                return Err(format!(
                    "the argument `{name}` is null and no `{name}_path` is given: give it a value (the Python SDK fails the same way)"
                ));
            }
        }
    }
    Ok(body)
}

/// `Authorization`-like headers, as the reference sets them.
fn auth_headers(
    authentication: ApiAuthentication,
    config: &Json,
) -> Result<Vec<(String, String)>, String> {
    let value = |key: &str| config.get(key).filter(|value| !value.is_null());
    let shown = |key: &str| value(key).map_or("None".to_string(), Json::to_python_str);
    let mut headers = Vec::new();
    match authentication {
        ApiAuthentication::Default => {
            if let Some(key) = value("api_key").filter(|key| key.is_truthy()) {
                headers.push((
                    "Authorization".into(),
                    format!("Bearer {}", key.to_python_str()),
                ));
            }
        }
        ApiAuthentication::Basic { header } => {
            let login = value("username")
                .ok_or("None is not allowed as login value: set `username` in the module configuration")?
                .to_python_str();
            let password = value("password")
                .ok_or("None is not allowed as password value: set `password` in the module configuration")?
                .to_python_str();
            if login.contains(':') {
                return Err("A \":\" is not allowed in login (RFC 1945#section-11.1)".into());
            }
            if !format!("{login}{password}")
                .chars()
                .all(|c| (c as u32) < 0x100)
            {
                return Err(
                    "the username and password must be Latin-1 for basic authentication".into(),
                );
            }
            headers.push((
                header.unwrap_or("Authorization").into(),
                super::auth::basic_header(&login, &password),
            ));
        }
        ApiAuthentication::ApiKey { header, .. } => {
            if let (Some(header), Some(key)) = (header, value("api_key")) {
                headers.push((header.into(), key.to_python_str()));
            }
        }
        ApiAuthentication::Bearer { header } => {
            headers.push((
                header.unwrap_or("Authorization").into(),
                format!("Bearer {}", shown("api_key")),
            ));
        }
    }
    Ok(headers)
}

/// The reference's retries: 10 attempts on transport failures and 5xx,
/// for every verb, waits `2 × 2^(n−1)` units clamped to [2, 300], no log.
pub(crate) fn reference_retries(unit: Duration) -> RetryPolicy {
    RetryPolicy::default()
        .retries(9)
        .backoff_factor(unit.saturating_mul(2))
        .backoff_max(unit.saturating_mul(300))
        .wait_after_first_failure(true)
        .status_forcelist(500..=599)
        .retry_all_methods(true)
        .respect_retry_after(false)
        .log_retries(false)
}

fn run<T: ApiAction>(
    ctx: &ActionContext<'_, T::ModuleConfiguration>,
) -> Result<Outcome<ApiResults<T>>, String> {
    let config = serde_json::to_value(ctx.configuration())
        .map(|value| Json::from_value(&value))
        .map_err(|error| format!("the module configuration cannot be read: {error}"))?;
    let mut arguments = match Json::from_value(ctx.raw_arguments()) {
        Json::Object(members) => members,
        _ => Members::new(),
    };

    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    headers.extend(auth_headers(T::AUTHENTICATION, &config)?);

    let base = match config.get("base_url").filter(|base| base.is_truthy()) {
        Some(base) => base.to_python_str(),
        None => T::BASE_URL.to_string(),
    };
    let mut endpoint = T::ENDPOINT.to_string();
    for name in placeholders(T::ENDPOINT) {
        let value = pop(&mut arguments, name).ok_or_else(|| {
            format!(
                "the endpoint `{}` needs the argument `{name}`: give it",
                T::ENDPOINT
            )
        })?;
        endpoint = endpoint.replacen(&format!("{{{name}}}"), &value.to_python_str(), 1);
    }
    let target = url::join(&base, endpoint.trim_start_matches('/'));

    let mut params = Members::new();
    if let ApiAuthentication::ApiKey {
        query: Some(name), ..
    } = T::AUTHENTICATION
    {
        params.push((
            name.to_string(),
            config.get("api_key").cloned().unwrap_or_default(),
        ));
    }
    for name in T::QUERY_PARAMETERS {
        if let Some(value) = pop(&mut arguments, name) {
            insert(&mut params, name.to_string(), value);
        }
    }
    let query = encode_params(&params);
    let body =
        crate::wire::python_json::to_vec(&Json::Object(body(&arguments, ctx.data_directory())?))
            .map_err(|error| format!("the request body cannot be written: {error}"))?;

    // SIGTERM/SIGINT wake the waits between attempts while the request runs.
    let stop = Arc::new(StopSignal::new());
    let _listener = SignalListener::start(Arc::clone(&stop)).ok();
    let client = VendorClient::builder()
        .user_agent(T::USER_AGENT)
        .retry(reference_retries(ctx.settings().retry_backoff))
        .timeout(T::TIMEOUT)
        .deadline(Duration::from_secs(3600))
        .stop_signal(stop)
        .build()
        .map_err(|error| error.to_string())?;
    let mut request = client.request(T::VERB, target.clone()).allow_error_status();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        request = request.encoded_query(name.to_string(), value.to_string());
    }
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request.body(body, "application/json");

    let arguments = Json::Object(arguments).to_value();
    match request.send() {
        Ok(response) => {
            let status = response.status();
            let attempts = response.attempts();
            if !(400..600).contains(&status) {
                if status == 204 {
                    return Ok(Outcome::none());
                }
                let mut json = response.exact_json().map_err(|error| error.to_string())?;
                if T::STRINGIFY_BIG_INTEGERS {
                    json.stringify_big_integers();
                }
                return Ok(Outcome::success(ApiResults::new(json)));
            }
            if T::VERB == Method::Delete && status == 404 && attempts > 1 {
                return Ok(Outcome::none());
            }
            if status < 500 {
                return Ok(request_error(ctx, &target, &arguments, &response));
            }
            let underlying = format!(
                "{status} Server Error: {} for url: {}",
                reason(status),
                response.url()
            );
            Ok(retry_error(
                ctx,
                &target,
                &arguments,
                attempts,
                Some(status),
                Some((underlying, "HTTPError")),
            ))
        }
        Err(VendorError::Transport {
            attempts, cause, ..
        }) => Ok(retry_error(
            ctx,
            &target,
            &arguments,
            attempts,
            None,
            Some((cause.to_string(), cause.python_exception_name())),
        )),
        Err(other) => Err(other.to_string()),
    }
}

fn reason(status: u16) -> &'static str {
    ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("")
}

/// The reference's `log_request_error`: a 4xx.
fn request_error<C, R>(
    ctx: &ActionContext<'_, C>,
    url: &str,
    arguments: &serde_json::Value,
    response: &super::client::VendorResponse,
) -> Outcome<ApiResults<R>> {
    let status = response.status();
    let attempts = response.attempts().max(1);
    let retries = attempts - 1;
    let details = format!("(status code: {status}, attempts: {attempts}, retries: {retries})");
    let mut message = format!("HTTP Request failed: {url} {details}");
    let content = match Json::parse(response.body()) {
        Ok(content) => {
            if let Some(vendor_message) = content.get("message") {
                message = format!("{} {details}", vendor_message.to_python_str());
            }
            content.to_value()
        }
        Err(_) => serde_json::Value::String(response.text()),
    };
    let mut context = serde_json::Map::new();
    context.insert("url".into(), url.into());
    context.insert("arguments".into(), arguments.clone());
    context.insert("response".into(), content);
    context.insert("retries".into(), retries.into());
    context.insert("attempts".into(), attempts.into());
    context.insert("status".into(), status.into());
    ctx.log_with_context(Level::Error, &message, context);
    Outcome::failure(message)
}

/// The reference's `log_retry_error`: attempts exhausted.
fn retry_error<C, R>(
    ctx: &ActionContext<'_, C>,
    url: &str,
    arguments: &serde_json::Value,
    attempts: u32,
    status: Option<u16>,
    underlying: Option<(String, &'static str)>,
) -> Outcome<ApiResults<R>> {
    let attempts = attempts.max(1);
    let retries = attempts - 1;
    let code = status.map_or("unknown".to_string(), |status| status.to_string());
    let message = format!(
        "HTTP Request failed after {attempts} attempts ({retries} retries): {url} (last status code: {code})"
    );
    let (error, kind) = match underlying {
        Some((error, kind)) => (
            serde_json::Value::from(error),
            serde_json::Value::from(kind),
        ),
        None => (serde_json::Value::Null, serde_json::Value::Null),
    };
    let mut context = serde_json::Map::new();
    context.insert("url".into(), url.into());
    context.insert("arguments".into(), arguments.clone());
    context.insert("retries".into(), retries.into());
    context.insert("attempts".into(), attempts.into());
    context.insert(
        "status".into(),
        status.map_or(serde_json::Value::Null, Into::into),
    );
    context.insert("underlying_error".into(), error);
    context.insert("exception_type".into(), kind);
    ctx.log_with_context(Level::Error, &message, context);
    Outcome::failure(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Members {
        match text.parse::<Json>().unwrap() {
            Json::Object(members) => members,
            _ => unreachable!(),
        }
    }

    #[test]
    fn placeholders_as_re_findall() {
        // re.findall("{(.*?)}", ...)
        assert_eq!(placeholders("a/{x}/b/{y}{z}"), ["x", "y", "z"]);
        assert_eq!(placeholders("{a{b}c}"), ["a{b"]);
        assert_eq!(placeholders("{a\n}{b}"), ["b"]);
        assert_eq!(placeholders("{}"), [""]);
        assert!(placeholders("no {brace").is_empty());
    }

    #[test]
    fn params_as_requests_encodes_them() {
        // requests.Request("GET", "http://h/", params=...).prepare().url
        let params = members(
            r#"{"q": "a b&c=é", "t": true, "f": 1.5, "n": null, "l": [1, null, "x y", [2, 3], {"k": 1}], "d": {"k1": 1, "k2": 2}, "e": [], "big": 123456789012345678901234567890}"#,
        );
        assert_eq!(
            encode_params(&params),
            "q=a+b%26c%3D%C3%A9&t=True&f=1.5&l=1&l=x+y&l=2&l=3&l=k&d=k1&d=k2&big=123456789012345678901234567890"
        );
    }

    #[test]
    fn the_body_reads_path_arguments_and_keeps_the_rest() {
        let directory = std::env::temp_dir().join(format!("api-action-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(
            directory.join("bundle.json"),
            r#"{"id": 18446744073709551616}"#,
        )
        .unwrap();
        let data = DataDirectory::new(&directory);
        let arguments = members(
            r#"{"bundle_path": "bundle.json", "other_path": "missing.json", "nested": {"k": 1}, "n": 2}"#,
        );
        let body = Json::Object(body(&arguments, &data).unwrap());
        assert_eq!(
            crate::wire::python_json::to_string(&body).unwrap(),
            r#"{"bundle": {"id": 18446744073709551616}, "other_path": "missing.json", "nested": {"k": 1}, "n": 2}"#
        );
        let null = members(r#"{"x": null}"#);
        assert!(self::body(&null, &data).is_err());
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn reference_waits() {
        let policy = reference_retries(Duration::from_secs(1));
        let waits: Vec<u64> = (1..=9).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(policy.max_retries(), 9);
        assert!(policy.retries_status(Method::Post, 500, false));
        assert!(!policy.retries_status(Method::Get, 429, true));
    }
}
