//! [`Api`]: the Python SDK's `GenericAPIAction`, on the vendor client:
//! a declarative HTTP action whose traffic to the vendor is the reference's.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::client::Method;
use super::error::VendorError;
use super::json::Json;
use super::retry::RetryPolicy;
use super::url;
use crate::ActionError;
use crate::action::outcome::Outcome;
use crate::action::{Action, ActionContext};
use crate::config::documented::Documented;
use crate::config::identity::Identity;
use crate::item::manifest::{
    ACTION, ItemManifest, ManifestKind, configuration_schema, item_schema, without_configuration,
};
use crate::item::registration::Registration;
use crate::storage::data_directory::DataDirectory;
use crate::wire::logging::Level;

/// How an [`Api`] action authenticates, from the module configuration:
/// its `api_key`, `username` and `password` (the reference's
/// `authentication`, `auth_header` and `auth_query_param`), or the keys a
/// `get_headers` override reads
/// ([`header_from_configuration`](Self::header_from_configuration),
/// [`prefixed_header_from_configuration`](Self::prefixed_header_from_configuration),
/// [`basic_from_configuration`](Self::basic_from_configuration)).
/// The values are sent only to the target's origin, and shown in no log
/// or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiAuthentication {
    /// None declared: `Authorization: Bearer <api_key>` when the
    /// configuration has a non-empty `api_key`, nothing otherwise.
    Default,
    /// `Basic base64(username:password)` (Latin-1) in `Authorization` or `header`.
    #[non_exhaustive]
    Basic {
        /// The header, when not `Authorization`.
        header: Option<&'static str>,
    },
    /// The `api_key` as is, in a header and/or a query parameter (the
    /// reference's `"apiKey"`).
    #[non_exhaustive]
    ApiKey {
        /// The header that carries it.
        header: Option<&'static str>,
        /// The query parameter that carries it (first in the query).
        query: Option<&'static str>,
    },
    /// `Bearer <api_key>` in `Authorization` or `header`.
    #[non_exhaustive]
    Bearer {
        /// The header, when not `Authorization`.
        header: Option<&'static str>,
    },
    /// No credentials: a `get_headers` override that sets only `Accept`
    /// (the key then goes where a [`get_url`](Api::get_url) hook puts it).
    None,
    /// A module configuration value, after `prefix`, in `header`: a
    /// `get_headers` override such as
    /// `headers["X-Key"] = self.module.configuration["api_key"]`.
    #[non_exhaustive]
    Header {
        /// The header that carries it.
        header: &'static str,
        /// What precedes the value (`"Token "`, `"Bearer "`, or nothing).
        prefix: &'static str,
        /// The module configuration key of the value.
        key: &'static str,
    },
    /// `Basic base64(<username>:<password>)` in `Authorization`, from two
    /// module configuration keys, as `requests`' `_basic_auth_str` writes
    /// it (a `get_headers` override calling it).
    #[non_exhaustive]
    BasicFromConfiguration {
        /// The module configuration key of the login.
        username: &'static str,
        /// The module configuration key of the password.
        password: &'static str,
    },
}

impl ApiAuthentication {
    /// `Basic base64(username:password)` in `header`, `None` for
    /// `Authorization` (the reference's `"basic"` and `auth_header`).
    ///
    /// ```
    /// use sekoia_automation::vendor::ApiAuthentication;
    /// assert_eq!(ApiAuthentication::basic(None), ApiAuthentication::basic(None));
    /// ```
    pub const fn basic(header: Option<&'static str>) -> Self {
        ApiAuthentication::Basic { header }
    }

    /// The `api_key` as is in `header` and/or the query parameter `query`
    /// (the reference's `"apiKey"`, `auth_header` and `auth_query_param`).
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, ApiAuthentication};
    /// const LOOKUP: Api<serde_json::Value> = Api::get("lookup").authentication(ApiAuthentication::api_key(None, Some("key")));
    /// # let _ = LOOKUP;
    /// ```
    pub const fn api_key(header: Option<&'static str>, query: Option<&'static str>) -> Self {
        ApiAuthentication::ApiKey { header, query }
    }

    /// `Bearer <api_key>` in `header`, `None` for `Authorization`.
    pub const fn bearer(header: Option<&'static str>) -> Self {
        ApiAuthentication::Bearer { header }
    }

    /// The module configuration's `key`, as is, in `header`: a
    /// `get_headers` override that sets
    /// `headers[header] = self.module.configuration[key]` (BinaryEdges'
    /// `X-Key`, Glimps' `X-Auth-Token`). Python's `str()` of the value;
    /// no header when the value is absent, null or empty.
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, ApiAuthentication};
    /// use sekoia_automation::config::Documented;
    ///
    /// const SUBSCRIPTION: Api<Documented> = Api::get("v2/user/subscription")
    ///     .authentication(ApiAuthentication::header_from_configuration("X-Key", "api_key"));
    /// # let _ = SUBSCRIPTION;
    /// ```
    pub const fn header_from_configuration(header: &'static str, key: &'static str) -> Self {
        ApiAuthentication::Header {
            header,
            prefix: "",
            key,
        }
    }

    /// The module configuration's `key` after `prefix` in `header`:
    /// `headers[header] = f"{prefix}{self.module.configuration[key]}"`
    /// (HarfangLab's `Authorization: Token <api_token>`, Stormshield SES's
    /// `Authorization: Bearer <api_token>`). No header when the value is
    /// absent, null or empty.
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, ApiAuthentication};
    /// use sekoia_automation::config::Documented;
    ///
    /// const TOKEN: ApiAuthentication =
    ///     ApiAuthentication::prefixed_header_from_configuration("Authorization", "Token ", "api_token");
    /// const GET_AGENT: Api<Documented> = Api::get("api/data/endpoint/Agent/{id}/").authentication(TOKEN).accept("*/*");
    /// # let _ = GET_AGENT;
    /// ```
    pub const fn prefixed_header_from_configuration(
        header: &'static str,
        prefix: &'static str,
        key: &'static str,
    ) -> Self {
        ApiAuthentication::Header {
            header,
            prefix,
            key,
        }
    }

    /// `Authorization: Basic base64(<username>:<password>)` from the module
    /// configuration keys `username` and `password`, as a `get_headers`
    /// override calling `requests.auth._basic_auth_str(configuration.get(username),
    /// configuration.get(password))` writes it (RiskIQ's `api_key` and
    /// `api_secret`, ServiceNow's `username` and `password`): each value
    /// as Python's `str()` of it (`None` when absent), Latin-1 encoded.
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, ApiAuthentication};
    /// use sekoia_automation::config::Documented;
    ///
    /// const PDNS: Api<Documented> = Api::get("v0/pdns/data/ip")
    ///     .query(&["ip"])
    ///     .authentication(ApiAuthentication::basic_from_configuration("api_key", "api_secret"));
    /// # let _ = PDNS;
    /// ```
    pub const fn basic_from_configuration(username: &'static str, password: &'static str) -> Self {
        ApiAuthentication::BasicFromConfiguration { username, password }
    }
}

/// A declarative HTTP action, as the Python SDK's `GenericAPIAction`: a
/// value stating the verb, the endpoint and the query parameters,
/// registered on the module as any item,
/// `.register("get-host", Api::get("host/{ip}").query(&["history", "minify"]))`.
/// Its request is the reference's, byte for byte on what it sets:
///
/// - URL: the configuration's `base_url` (else [`base_url`](Self::base_url))
///   joined as `posixpath.join(base, endpoint.lstrip("/"))`, the endpoint's
///   `{placeholders}` filled with (and removed from) the arguments as
///   Python's `str()` writes them (integers of any size exact, floats as
///   Python prints them: `1E2` is `100.0`), then normalized as `requests`
///   does;
/// - query: the [`query`](Self::query) parameters present in the
///   arguments, taken out of them, encoded as `requests` encodes `params`
///   (`+` for spaces, `True`/`False`, lists repeated, `null` dropped), after
///   the API key when it goes in the query;
/// - headers: `Accept: application/json` (or [`accept`](Self::accept)), the
///   [`authentication`](Self::authentication), `Content-Type: application/json`;
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
///   with [`stringify_big_integers`](Self::stringify_big_integers)), none
///   for a `204`.
///
/// `C` is the module configuration type, inferred from the module the
/// action is registered on (an `Api<C>` registers only on a `Module<C>`).
/// It must be `Serialize`: its `base_url` and the keys the
/// [`authentication`](Self::authentication) names are read by name.
///
/// The arguments are read from the platform's text as [`Json`]: integers
/// beyond 64 bits and floats reach the URL, the query and the body as the
/// Python SDK writes them, without the crate's `exact-numbers` feature.
///
/// # The `get_headers` overrides of real modules
///
/// | Python `get_headers` | `Api` |
/// | --- | --- |
/// | `{"Accept": "application/json"}` (the key put in the URL by `get_url`) | `.authentication(ApiAuthentication::None)` |
/// | `headers["X-Key"] = configuration.get("api_key")` when set | `.header_from_configuration("X-Key", "api_key")` |
/// | `{"Authorization": f"Token {api_token}"}` (no `Accept`) | `.authentication(ApiAuthentication::prefixed_header_from_configuration("Authorization", "Token ", "api_token")).accept("*/*")` |
/// | `{"Authorization": _basic_auth_str(configuration.get("api_key"), configuration.get("api_secret"))}` | `.authentication(ApiAuthentication::basic_from_configuration("api_key", "api_secret"))` |
///
/// Declared once for the module's actions:
///
/// ```
/// use sekoia_automation::vendor::{Api, ApiAuthentication};
/// use sekoia_automation::Module;
/// use sekoia_automation::config::Documented;
///
/// const fn risk_iq(api: Api<Documented>) -> Api<Documented> {
///     api.authentication(ApiAuthentication::basic_from_configuration("api_key", "api_secret"))
/// }
///
/// let module = Module::<Documented>::new()
///     .register("pdns_ip", risk_iq(Api::get("v0/pdns/data/ip").query(&["ip", "lastSeenAfter"])))
///     .register("whois_domain", risk_iq(Api::get("v0/whois/domain").query(&["domain"])));
/// assert_eq!(module.commands().count(), 2);
/// ```
///
/// # What the platform knows it by
///
/// As in Python, a ported action states neither its name nor its
/// description nor its uuid: they are in its hand-written manifest
/// (`action_*.json`), which `generate-files`, `check-module` and
/// `generate-documentation` find by its `docker_parameters`, the command
/// the action is registered under, and keep (uuid, slug, name,
/// description, and the schemas written there). A new action, without a
/// manifest yet, states its [`name`](Self::name) (and
/// [`description`](Self::description), [`arguments`](Self::arguments),
/// [`results`](Self::results)); the tooling then writes its manifest.
///
/// A port of three `GenericAPIAction`s whose manifests are written by hand:
///
/// ```
/// use sekoia_automation::vendor::Api;
/// use sekoia_automation::Module;
/// use sekoia_automation::config::Documented;
///
/// let module = Module::<Documented>::new()
///     .register("get-host", Api::get("host/{ip}").query(&["history", "minify"]))
///     .register("search-hosts", Api::get("search").query(&["query", "page"]))
///     .register("tag-host", Api::post("host/{ip}/tags"));
/// assert_eq!(module.commands().count(), 3);
/// ```
///
/// A new action, its manifest written from Rust types:
///
/// ```
/// use sekoia_automation::vendor::{Api, ApiAuthentication};
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
/// let get_host = Api::get("shodan/host/{ip}")
///     .query(&["minify"])
///     .name("Get host")
///     .description("What the vendor knows of an IP address")
///     .arguments::<HostArguments>()
///     .results::<Host>()
///     .authentication(ApiAuthentication::api_key(None, Some("key")));
/// let module = Module::<Config>::new().register("get_host", get_host);
/// # let _ = module;
/// ```
///
/// An `Api` written for another module configuration does not register:
///
/// ```compile_fail
/// use sekoia_automation::vendor::Api;
/// use sekoia_automation::Module;
/// use sekoia_automation::config::Documented;
///
/// const GET_HOST: Api<serde_json::Value> = Api::get("host/{ip}");
/// let module = Module::<Documented>::new().register("get-host", GET_HOST);
/// ```
pub struct Api<C> {
    verb: Method,
    endpoint: &'static str,
    query: &'static [&'static str],
    base_url: &'static str,
    authentication: ApiAuthentication,
    timeout: Duration,
    stringify_big_integers: bool,
    user_agent: &'static str,
    accept: &'static str,
    name: &'static str,
    description: &'static str,
    identity: Identity,
    arguments: ApiSchema,
    results: ApiSchema,
    url_hook: Option<UrlHook>,
    results_hook: Option<ResultsHook>,
    configuration: PhantomData<fn() -> C>,
}

/// What [`Api::get_url`] is given: changes the request before it is sent.
type UrlHook = fn(&mut ApiRequest<'_>) -> Result<(), String>;
/// What [`Api::map_results`] is given: changes the vendor's answer.
type ResultsHook = fn(Json) -> Result<Json, String>;

impl<C> Clone for Api<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Api<C> {}

impl<C> std::fmt::Debug for Api<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("verb", &self.verb)
            .field("endpoint", &self.endpoint)
            .field("query", &self.query)
            .field("base_url", &self.base_url)
            .field("authentication", &self.authentication)
            .field("name", &self.name)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl<C> Api<C> {
    /// `verb endpoint`: the endpoint relative to the base URL, with
    /// `{placeholders}` filled from the arguments.
    pub const fn new(verb: Method, endpoint: &'static str) -> Self {
        Api {
            verb,
            endpoint,
            query: &[],
            base_url: "",
            authentication: ApiAuthentication::Default,
            timeout: Duration::from_secs(5),
            stringify_big_integers: false,
            user_agent: concat!("sekoia-automation-rust/", env!("CARGO_PKG_VERSION")),
            accept: "application/json",
            name: "",
            description: "",
            identity: Identity::new(),
            arguments: ApiSchema::DOCUMENTED,
            results: ApiSchema::DOCUMENTED,
            url_hook: None,
            results_hook: None,
            configuration: PhantomData,
        }
    }

    /// `GET endpoint` (`verb = "get"`).
    pub const fn get(endpoint: &'static str) -> Self {
        Self::new(Method::Get, endpoint)
    }

    /// `POST endpoint` (`verb = "post"`).
    pub const fn post(endpoint: &'static str) -> Self {
        Self::new(Method::Post, endpoint)
    }

    /// `PUT endpoint` (`verb = "put"`).
    pub const fn put(endpoint: &'static str) -> Self {
        Self::new(Method::Put, endpoint)
    }

    /// `PATCH endpoint` (`verb = "patch"`).
    pub const fn patch(endpoint: &'static str) -> Self {
        Self::new(Method::Patch, endpoint)
    }

    /// `DELETE endpoint` (`verb = "delete"`).
    pub const fn delete(endpoint: &'static str) -> Self {
        Self::new(Method::Delete, endpoint)
    }

    /// The arguments sent in the query string, in this order
    /// (`query_parameters`).
    pub const fn query(mut self, parameters: &'static [&'static str]) -> Self {
        self.query = parameters;
        self
    }

    /// The base URL when the module configuration has no `base_url`.
    pub const fn base_url(mut self, url: &'static str) -> Self {
        self.base_url = url;
        self
    }

    /// The authentication (by default a bearer from the configuration's
    /// `api_key`, when it has one).
    pub const fn authentication(mut self, authentication: ApiAuthentication) -> Self {
        self.authentication = authentication;
        self
    }

    /// A module configuration value in a header, as a `get_headers`
    /// override that sets `headers[header] = self.module.configuration[key]`
    /// besides `Accept` (BinaryEdges' `X-Key`): the
    /// [`authentication`](Self::authentication)
    /// [`ApiAuthentication::header_from_configuration`]`(header, key)`.
    ///
    /// ```
    /// use sekoia_automation::vendor::Api;
    /// use sekoia_automation::Module;
    /// use sekoia_automation::config::Documented;
    ///
    /// let module = Module::<Documented>::new()
    ///     .register("get-domain", Api::get("v2/query/domains/subdomain/{domain}").header_from_configuration("X-Key", "api_key"));
    /// # let _ = module;
    /// ```
    pub const fn header_from_configuration(self, header: &'static str, key: &'static str) -> Self {
        self.authentication(ApiAuthentication::header_from_configuration(header, key))
    }

    /// The `Accept` header (`application/json` by default, as the
    /// reference's `get_headers`). A `get_headers` override that returns
    /// no `Accept` sends `requests`' default, `*/*` (HarfangLab's and
    /// Stormshield SES's).
    pub const fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    /// The timeout of each phase of an attempt (the reference's `timeout = 5`).
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Integers above 2^64 in the results become strings, as the Shodan
    /// module's `sanitize_node` does by hand (its `run` override).
    pub const fn stringify_big_integers(mut self) -> Self {
        self.stringify_big_integers = true;
        self
    }

    /// The reference's `get_url` override: `hook` runs once the URL is
    /// built (`super().get_url(arguments)`: base joined, `{placeholders}`
    /// filled) and before the [`query`](Self::query) parameters and the
    /// body are taken from the arguments. It can change the URL (append to
    /// its query, as Shodan's modules do) and take arguments out of the
    /// request. Its `Err` ends the action as an unexpected error, as an
    /// exception raised there does in Python.
    ///
    /// Shodan's `GetDNSResolve`, whose `get_url` appends the hostnames
    /// joined by commas:
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, ApiRequest};
    /// use sekoia_automation::Module;
    /// use sekoia_automation::config::Documented;
    ///
    /// fn hostnames(request: &mut ApiRequest<'_>) -> Result<(), String> {
    ///     let names = request.take_argument("hostnames").ok_or("no `hostnames`")?;
    ///     let names: Vec<String> = names.as_array().unwrap_or_default().iter().map(|n| n.to_python_str()).collect();
    ///     request.append_query("hostnames", &names.join(","));
    ///     Ok(())
    /// }
    ///
    /// let resolve = Api::get("dns/resolve").get_url(hostnames);
    /// let module = Module::<Documented>::new().register("resolve", resolve);
    /// # let _ = module;
    /// ```
    pub const fn get_url(mut self, hook: fn(&mut ApiRequest<'_>) -> Result<(), String>) -> Self {
        self.url_hook = Some(hook);
        self
    }

    /// The reference's `run` override that post-processes
    /// `super().run(arguments)`: `hook` gets the vendor's JSON (after
    /// [`stringify_big_integers`](Self::stringify_big_integers)) and
    /// returns the action's results. Not called when there are none (a
    /// `204`, an error). Its `Err` ends the action as an unexpected error.
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, Json};
    /// use sekoia_automation::Module;
    /// use sekoia_automation::config::Documented;
    ///
    /// fn items(results: Json) -> Result<Json, String> {
    ///     results.get("items").cloned().ok_or_else(|| "no `items` in the answer".to_string())
    /// }
    ///
    /// let search = Api::post("objects/search").map_results(items);
    /// let module = Module::<Documented>::new().register("search", search);
    /// # let _ = module;
    /// ```
    pub const fn map_results(mut self, hook: fn(Json) -> Result<Json, String>) -> Self {
        self.results_hook = Some(hook);
        self
    }

    /// The `User-Agent` sent (the reference sends `requests`' own; by
    /// default the crate's).
    pub const fn user_agent(mut self, user_agent: &'static str) -> Self {
        self.user_agent = user_agent;
        self
    }

    /// The action's name, as shown in the playbook editor: owned by the
    /// code, written in the manifest. Not stated: the manifest's.
    pub const fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// What the action does: owned by the code once stated. Not stated:
    /// the manifest's.
    pub const fn description(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// What the platform knows the action by, stated in the code rather
    /// than found by `docker_parameters` (see [`Identity`]). State it as a
    /// constant, so that a uuid that does not parse fails the build:
    ///
    /// ```
    /// use sekoia_automation::vendor::Api;
    /// use sekoia_automation::Module;
    /// use sekoia_automation::config::{Documented, Identity};
    ///
    /// const GET_HOST: Identity = Identity::new()
    ///     .uuid("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52")
    ///     .file("action_get_tidewatch_host.json");
    /// let get_host = Api::get("host/{ip}").name("Get host").identity(GET_HOST);
    /// let module = Module::<Documented>::new().register("get-host", get_host);
    /// assert_eq!(module.commands().collect::<Vec<_>>(), ["get-host"]);
    /// ```
    pub const fn identity(mut self, identity: Identity) -> Self {
        self.identity = identity;
        self
    }

    /// The arguments' schema in the manifest: `T`'s, as an
    /// [`Action`]'s `Arguments = T` would write it. Not stated: the one
    /// written in the manifest by hand, kept. Only describes: the
    /// arguments are used as the platform sent them.
    pub const fn arguments<T: JsonSchema>(mut self) -> Self {
        self.arguments = ApiSchema::of::<T>();
        self
    }

    /// The results' schema in the manifest: `T`'s. Not stated: the one
    /// written in the manifest by hand, kept. Only describes: the results
    /// are the vendor's JSON.
    pub const fn results<T: JsonSchema>(mut self) -> Self {
        self.results = ApiSchema::of::<T>();
        self
    }
}

/// The JSON Schema an [`Api`] action gives its arguments or its results in
/// its manifest: the manifest's own (`{}` from the code: kept), or a type's.
#[derive(Clone, Copy)]
struct ApiSchema {
    schema: fn() -> Value,
}

impl ApiSchema {
    const DOCUMENTED: ApiSchema = ApiSchema::of::<Documented>();

    const fn of<T: JsonSchema>() -> Self {
        ApiSchema {
            schema: item_schema::<T>,
        }
    }
}

/// The arguments of an [`Api`] action: used as the platform sent them,
/// read from their text as [`Json`] (integers beyond 64 bits and floats
/// exact, without the `exact-numbers` feature).
struct ApiArguments(Json);

impl<'de> Deserialize<'de> for ApiArguments {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Json::parse(text.get().as_bytes())
            .map(ApiArguments)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for ApiArguments {
    fn schema_name() -> Cow<'static, str> {
        "ApiArguments".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

/// The results of an [`Api`] action: the vendor's JSON as it answered
/// (numbers exact).
struct ApiResults(Json);

impl Serialize for ApiResults {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl JsonSchema for ApiResults {
    fn schema_name() -> Cow<'static, str> {
        "ApiResults".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

/// An [`Api`] as the [`Action`] the runner runs (its manifest is the
/// [`ApiManifest`]).
struct ApiItem<C>(Api<C>);

impl<C> Action for ApiItem<C>
where
    C: DeserializeOwned + Serialize + JsonSchema + Send + Sync + 'static,
{
    type ModuleConfiguration = C;
    type Arguments = ApiArguments;
    type Results = ApiResults;
    const NAME: &'static str = "";
    const DESCRIPTION: &'static str = "";

    fn run(
        &self,
        ctx: &ActionContext<'_, C>,
        arguments: ApiArguments,
    ) -> Result<Outcome<ApiResults>, ActionError> {
        Ok(match self.0.call(ctx, arguments.0) {
            Ok(Some(json)) => Outcome::success(ApiResults(json)),
            Ok(None) => Outcome::none(),
            Err(failure) => failure.into(),
        })
    }
}

/// What the tooling writes for an [`Api`] action.
struct ApiManifest<C> {
    arguments: ApiSchema,
    results: ApiSchema,
    identity: Identity,
    configuration: PhantomData<fn() -> C>,
}

impl<C: JsonSchema> ItemManifest for ApiManifest<C> {
    fn kind(&self) -> Option<&'static ManifestKind> {
        Some(&ACTION)
    }

    fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("arguments".into(), (self.arguments.schema)());
        fields.insert("results".into(), (self.results.schema)());
        fields
    }

    fn module_configuration(&self) -> Value {
        configuration_schema::<C>()
    }

    fn module_without_configuration(&self) -> bool {
        without_configuration::<C>()
    }

    fn identity(&self) -> Identity {
        self.identity
    }
}

impl<C> Api<C>
where
    C: DeserializeOwned + Serialize + JsonSchema + Send + Sync + 'static,
{
    /// The registration of the action under `command`.
    pub(crate) fn into_registration(self, command: &str) -> Registration<C> {
        let manifest = ApiManifest::<C> {
            arguments: self.arguments,
            results: self.results,
            identity: self.identity,
            configuration: PhantomData,
        };
        Registration::action(
            command,
            self.name,
            self.description,
            ApiItem(self),
            Box::new(manifest),
        )
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

/// Whether `value` holds a float that is not finite (a number beyond the
/// range of a double in the arguments).
fn non_finite(value: &Json) -> bool {
    match value {
        Json::Number(number) => !number.is_integer() && !number.as_f64().is_finite(),
        Json::Array(items) => items.iter().any(non_finite),
        Json::Object(members) => members.iter().any(|(_, value)| non_finite(value)),
        _ => false,
    }
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
        ApiAuthentication::None => {}
        ApiAuthentication::Header {
            header,
            prefix,
            key,
        } => {
            if let Some(value) = value(key).filter(|value| value.is_truthy()) {
                headers.push((header.into(), format!("{prefix}{}", value.to_python_str())));
            }
        }
        ApiAuthentication::BasicFromConfiguration { username, password } => {
            let (login, secret) = (shown(username), shown(password));
            if !format!("{login}{secret}")
                .chars()
                .all(|c| (c as u32) < 0x100)
            {
                return Err(format!(
                    "the module configuration's `{username}` and `{password}` must be Latin-1 for basic authentication (the Python SDK cannot encode them either)"
                ));
            }
            headers.push((
                "Authorization".into(),
                super::auth::basic_header(&login, &secret),
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

/// The request an [`Api`] action is about to send, as its
/// [`get_url`](Api::get_url) hook sees it: the URL built so far, the
/// arguments not yet taken (the query parameters and the body are taken
/// from them after the hook), and the module configuration.
#[derive(Debug)]
pub struct ApiRequest<'a> {
    url: String,
    arguments: &'a mut Members,
    configuration: &'a Json,
}

impl ApiRequest<'_> {
    /// The URL: base joined, `{placeholders}` filled (`super().get_url(arguments)`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Replaces the URL (what the override returns).
    pub fn set_url(&mut self, url: impl Into<String>) {
        self.url = url.into();
    }

    /// Appends `name=value` to the URL as written (`f"{path}?{name}={value}"`,
    /// `&` when the URL has a query already); `requests` then appends the
    /// query parameters after it.
    pub fn append_query(&mut self, name: &str, value: &str) {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        self.url = format!("{}{separator}{name}={value}", self.url);
    }

    /// An argument, when given.
    pub fn argument(&self, name: &str) -> Option<&Json> {
        get(self.arguments, name)
    }

    /// Takes an argument out (`arguments.pop(name)`): it is then neither
    /// a query parameter nor in the body.
    pub fn take_argument(&mut self, name: &str) -> Option<Json> {
        pop(self.arguments, name)
    }

    /// Sets an argument (`arguments[name] = value`).
    pub fn set_argument(&mut self, name: &str, value: Json) {
        insert(self.arguments, name.to_string(), value);
    }

    /// A value of the module configuration, `None` when absent or null
    /// (`self._module_configuration_value(key)`).
    pub fn configuration(&self, key: &str) -> Option<&Json> {
        self.configuration.get(key).filter(|value| !value.is_null())
    }
}

/// Why an [`Api`] request gave no results, already handled as the
/// reference handles it: a 4xx answer or exhausted retries, logged with
/// the reference's message and context (its `self.error(...)`), or an
/// unexpected error. It becomes the action's failure with `?` in a `run`
/// returning `Result<Outcome<_>, ActionError>` (a stated error, as
/// Python's `self.error`: not reported to Sentry), or with
/// `Outcome::from(failure)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    message: String,
}

impl ApiFailure {
    fn unexpected(message: impl std::fmt::Display) -> Self {
        ApiFailure {
            message: format!("An unexpected error occurred: {message}"),
        }
    }

    /// The action's error message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<R> From<ApiFailure> for Outcome<R> {
    fn from(failure: ApiFailure) -> Self {
        Outcome::failure(failure.message)
    }
}

impl<C: Serialize> Api<C> {
    /// Sends this request with `arguments` (a JSON object, as a
    /// `&serde_json::Value` or, numbers exact, a [`Json`]: the platform's
    /// arguments, or those an action that writes its own `run` builds),
    /// as the action itself would: the reference's `super().run(arguments)`,
    /// with its retries, its 4xx log and its exhausted-retries log. `Ok`
    /// holds the results (none for a `204`), after
    /// [`stringify_big_integers`](Self::stringify_big_integers) and
    /// [`map_results`](Self::map_results).
    ///
    /// # Errors
    ///
    /// [`ApiFailure`], with the message the reference's action would give:
    /// a status it does not retry, retries exhausted, an answer that is not
    /// JSON, an unreadable `<name>_path` file.
    ///
    /// Blocks for the request, its retries and their waits.
    ///
    /// Shodan's `GetShodanHostSearch`, whose `run` asks page after page:
    ///
    /// ```
    /// use sekoia_automation::vendor::{Api, ApiRequest, Json};
    /// use sekoia_automation::{Action, ActionContext, ActionError, Outcome};
    /// use sekoia_automation::config::Documented;
    ///
    /// const SEARCH: Api<Documented> = Api::get("shodan/host/search").query(&["query", "page"]);
    ///
    /// struct Search;
    /// impl Action for Search {
    ///     type ModuleConfiguration = Documented;
    ///     type Arguments = serde_json::Value;
    ///     type Results = Vec<Json>;
    ///     const NAME: &'static str = "Search";
    ///     const DESCRIPTION: &'static str = "Every page of a search";
    ///
    ///     fn run(&self, ctx: &ActionContext<'_, Documented>, mut arguments: serde_json::Value) -> Result<Outcome<Vec<Json>>, ActionError> {
    ///         let mut pages = Vec::new();
    ///         for page in 1..=3 {
    ///             arguments["page"] = page.into();
    ///             let Some(answer) = SEARCH.call(ctx, &arguments)? else { break };
    ///             pages.push(answer);
    ///         }
    ///         Ok(Outcome::success(pages))
    ///     }
    /// }
    /// ```
    pub fn call(
        &self,
        ctx: &ActionContext<'_, C>,
        arguments: impl Into<Json>,
    ) -> Result<Option<Json>, ApiFailure> {
        let arguments = match arguments.into() {
            Json::Object(members) => members,
            _ => Members::new(),
        };
        call(self, ctx, arguments)
    }
}

fn call<C: Serialize>(
    api: &Api<C>,
    ctx: &ActionContext<'_, C>,
    mut arguments: Members,
) -> Result<Option<Json>, ApiFailure> {
    let config = serde_json::to_value(ctx.configuration())
        .map(|value| Json::from_value(&value))
        .map_err(|error| {
            ApiFailure::unexpected(format!("the module configuration cannot be read: {error}"))
        })?;

    let credentials = auth_headers(api.authentication, &config).map_err(ApiFailure::unexpected)?;

    let base = match config.get("base_url").filter(|base| base.is_truthy()) {
        Some(base) => base.to_python_str(),
        None => api.base_url.to_string(),
    };
    let mut endpoint = api.endpoint.to_string();
    for name in placeholders(api.endpoint) {
        let value = pop(&mut arguments, name).ok_or_else(|| {
            ApiFailure::unexpected(format!(
                "the endpoint `{}` needs the argument `{name}`: give it",
                api.endpoint
            ))
        })?;
        endpoint = endpoint.replacen(&format!("{{{name}}}"), &value.to_python_str(), 1);
    }
    let mut target = url::join(&base, endpoint.trim_start_matches('/'));
    if let Some(hook) = api.url_hook {
        let mut request = ApiRequest {
            url: target,
            arguments: &mut arguments,
            configuration: &config,
        };
        hook(&mut request).map_err(ApiFailure::unexpected)?;
        target = request.url;
    }

    let mut params = Members::new();
    if let ApiAuthentication::ApiKey {
        query: Some(name), ..
    } = api.authentication
    {
        params.push((
            name.to_string(),
            config.get("api_key").cloned().unwrap_or_default(),
        ));
    }
    for name in api.query {
        if let Some(value) = pop(&mut arguments, name) {
            insert(&mut params, name.to_string(), value);
        }
    }
    let query = encode_params(&params);
    let body = body(&arguments, ctx.data_directory()).map_err(ApiFailure::unexpected)?;
    if let Some(name) = body
        .iter()
        .find_map(|(name, value)| non_finite(value).then_some(name))
    {
        // `requests` refuses it (`allow_nan=False`) before sending anything.
        return Err(ApiFailure::unexpected(format!(
            "the argument `{name}` holds a number beyond the range of a double (it reads as infinity), which JSON cannot carry: give it as a string or within range (the Python SDK cannot send it either)"
        )));
    }
    let body = crate::wire::python_json::to_vec(&Json::Object(body)).map_err(|error| {
        ApiFailure::unexpected(format!("the request body cannot be written: {error}"))
    })?;

    // SIGTERM/SIGINT wake the waits between attempts.
    let client = ctx
        .vendor_client()
        .user_agent(api.user_agent)
        .retry(reference_retries(ctx.settings().retry_backoff))
        .timeout(api.timeout)
        .deadline(Duration::from_secs(3600))
        .build()
        .map_err(ApiFailure::unexpected)?;
    // The credentials (headers, the API key parameter) go only to the
    // target's origin, never to a redirect elsewhere.
    let key_parameter = match api.authentication {
        ApiAuthentication::ApiKey {
            query: Some(name), ..
        } => Some(name),
        _ => None,
    };
    let mut request = client
        .request(api.verb, target.clone())
        .allow_error_status();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (name.to_string(), value.to_string());
        request = if key_parameter.is_some_and(|key| url::unquote_plus(&name) == key) {
            request.credential_query(name, value)
        } else {
            request.encoded_query(name, value)
        };
    }
    request = request.header("Accept", api.accept);
    for (name, value) in credentials {
        request = request.credential_header(name, value);
    }
    let request = request.body(body, "application/json");

    let arguments = Json::Object(arguments).to_value();
    match request.send() {
        Ok(response) => {
            let status = response.status();
            let attempts = response.attempts();
            if !(400..600).contains(&status) {
                if status == 204 {
                    return Ok(None);
                }
                let mut json = response.exact_json().map_err(ApiFailure::unexpected)?;
                if api.stringify_big_integers {
                    json.stringify_big_integers();
                }
                if let Some(hook) = api.results_hook {
                    json = hook(json).map_err(ApiFailure::unexpected)?;
                }
                return Ok(Some(json));
            }
            if api.verb == Method::Delete && status == 404 && attempts > 1 {
                return Ok(None);
            }
            if status < 500 {
                return Err(request_error(ctx, &target, &arguments, &response));
            }
            let underlying = format!(
                "{status} Server Error: {} for url: {}",
                response.reason(),
                response.url()
            );
            Err(retry_error(
                ctx,
                &target,
                &arguments,
                attempts,
                Some(status),
                Some((underlying, "HTTPError")),
            ))
        }
        // `requests` raises `TooManyRedirects` (or `InvalidURL` for a
        // `Location` it cannot use), which the reference retries.
        Err(
            ref error @ VendorError::Redirect {
                status, ref detail, ..
            },
        ) => {
            let kind = if detail.starts_with("more than") {
                "TooManyRedirects"
            } else {
                "InvalidURL"
            };
            Err(retry_error(
                ctx,
                &target,
                &arguments,
                1,
                Some(status),
                Some((error.to_string(), kind)),
            ))
        }
        Err(VendorError::Transport {
            attempts, cause, ..
        }) => Err(retry_error(
            ctx,
            &target,
            &arguments,
            attempts,
            None,
            Some((cause.to_string(), cause.python_exception_name())),
        )),
        Err(other) => Err(ApiFailure::unexpected(other)),
    }
}

/// The reference's `log_request_error`: a 4xx.
fn request_error<C>(
    ctx: &ActionContext<'_, C>,
    url: &str,
    arguments: &serde_json::Value,
    response: &super::client::VendorResponse,
) -> ApiFailure {
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
    ApiFailure { message }
}

/// The reference's `log_retry_error`: attempts exhausted.
fn retry_error<C>(
    ctx: &ActionContext<'_, C>,
    url: &str,
    arguments: &serde_json::Value,
    attempts: u32,
    status: Option<u16>,
    underlying: Option<(String, &'static str)>,
) -> ApiFailure {
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
    ApiFailure { message }
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
