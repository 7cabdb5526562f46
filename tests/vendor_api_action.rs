//! `ApiAction` (the Python SDK's `GenericAPIAction`) in-process against
//! the embedded platform and a fake vendor API: the vendor receives the
//! reference's requests, the platform the reference's results and errors.
//! The expected bytes were captured from `sekoia-automation-sdk` 1.27.0's
//! `GenericAPIAction` run against the same fake vendor.

#[path = "support/fake_vendor.rs"]
mod fake_vendor;

use std::time::Duration;

use fake_vendor::{FakeVendor, Recorded, Reply};
use schemars::JsonSchema;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::vendor::{Api, ApiAuthentication, ApiRequest, Json};
use sekoia_automation::{Module, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Config {
    base_url: String,
    #[serde(default)]
    api_key: Option<Secret<String>>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Secret<String>>,
}

/// The manifest's description of the arguments.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Arguments {
    uuid: String,
}

/// The manifest's description of the results.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Results {
    id: u64,
}

/// An action as a new one states it: a name and the schemas its manifest
/// documents.
const fn described(api: Api<Config>, name: &'static str) -> Api<Config> {
    api.name(name)
        .description("test")
        .arguments::<Arguments>()
        .results::<Results>()
        .timeout(Duration::from_secs(5))
}

const UPDATE_ALERT: Api<Config> = described(
    Api::post("/alerts/{uuid}/comments").query(&["verbose", "tags"]),
    "UpdateAlert",
);
const LIST_ALERTS: Api<Config> = described(Api::get("alerts"), "ListAlerts");
const DELETE_ALERT: Api<Config> = described(Api::delete("alerts/{uuid}"), "DeleteAlert");
const BASIC_GET: Api<Config> = described(
    Api::get("me").authentication(ApiAuthentication::basic(None)),
    "BasicGet",
);
const KEY_IN_QUERY: Api<Config> = described(
    Api::get("lookup")
        .query(&["q"])
        .authentication(ApiAuthentication::api_key(Some("X-Key"), Some("key"))),
    "KeyInQuery",
);

struct Setup {
    platform: LocalPlatform,
    sandbox: Sandbox,
    vendor: FakeVendor,
}

fn setup(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static, secrets: Value) -> Setup {
    let vendor = FakeVendor::start(handler);
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(secrets);
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "slug": "acme", "version": "1.0.0",
            "configuration": {
                "properties": {"base_url": {"type": "string"}, "api_key": {"type": "string"}, "username": {"type": "string"}, "password": {"type": "string"}},
                "required": ["base_url"], "secrets": ["api_key", "password"]
            }
        }))
        .unwrap();
    sandbox
        .set_json(
            "module_configuration",
            &json!({"base_url": format!("{}/api/v2", vendor.url), "username": "ann"}),
        )
        .unwrap();
    Setup {
        platform,
        sandbox,
        vendor,
    }
}

impl Setup {
    fn run(&self, action: Api<Config>, arguments: &str) -> Value {
        self.sandbox.set("arguments", arguments).unwrap();
        Module::<Config>::with_settings(self.sandbox.settings())
            .register("item", action)
            .run_command("item");
        let finished = self
            .platform
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.method == "PATCH")
            .unwrap();
        serde_json::from_slice(&finished.body).unwrap()
    }

    fn finished_body(&self) -> String {
        self.platform
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.method == "PATCH")
            .unwrap()
            .body_text()
    }
}

fn logs(finished: &Value) -> String {
    finished["logs"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_post_sends_the_reference_request_and_returns_the_vendor_json_exactly() {
    let setup = setup(
        |_| {
            Reply::json(
                200,
                r#"{"id":123456789012345678901234567890,"score":1E2,"ok":true}"#,
            )
        },
        json!({"api_key": "key-\"q\"-123"}),
    );
    std::fs::write(
        setup.sandbox.data_directory().join("bundle.json"),
        r#"{"objects": [{"n": 1.5e-7}]}"#,
    )
    .unwrap();
    setup.run(
        UPDATE_ALERT,
        r#"{"uuid": "a b/é", "verbose": true, "tags": ["x y", "z"], "comment": "héllo 😀", "bundle_path": "bundle.json", "author": {"name": "ann"}, "skipped_path": "nope.json"}"#,
    );
    let requests = setup.vendor.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.url,
        "/api/v2/alerts/a%20b/%C3%A9/comments?verbose=True&tags=x+y&tags=z"
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(
        request.header("authorization"),
        Some("Bearer key-\"q\"-123")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.text(),
        r#"{"comment": "h\u00e9llo \ud83d\ude00", "bundle": {"objects": [{"n": 1.5e-07}]}, "author": {"name": "ann"}, "skipped_path": "nope.json"}"#
    );
    assert!(
        setup.finished_body().contains(
            r#""results": {"id": 123456789012345678901234567890, "score": 100.0, "ok": true}"#
        ),
        "{}",
        setup.finished_body()
    );
}

#[test]
fn a_get_carries_an_empty_json_body_and_a_204_has_no_results() {
    let setup = setup(|_| Reply::status(204), json!({}));
    let finished = setup.run(LIST_ALERTS, "{}");
    let request = &setup.vendor.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        ("GET", "/api/v2/alerts")
    );
    assert_eq!(request.text(), "{}");
    assert_eq!(
        request.header("authorization"),
        None,
        "no api_key, no header"
    );
    assert_eq!(finished, json!({"status": "finished"}));
}

#[test]
fn a_4xx_ends_the_action_with_the_vendor_message_and_the_reference_log() {
    let setup = setup(
        |_| Reply::json(404, r#"{"message": "alert not found", "code": 7}"#),
        json!({"api_key": "key-123456"}),
    );
    let finished = setup.run(DELETE_ALERT, r#"{"uuid": "u1", "force": false}"#);
    assert_eq!(
        finished["error"],
        "alert not found (status code: 404, attempts: 1, retries: 0)"
    );
    assert!(finished.get("results").is_none());
    let logs = logs(&finished);
    assert!(
        logs.ends_with(&format!(
            ": error: alert not found (status code: 404, attempts: 1, retries: 0) - Context: {{\"url\": \"{}/api/v2/alerts/u1\", \"arguments\": {{\"force\": false}}, \"response\": {{\"message\": \"alert not found\", \"code\": 7}}, \"retries\": 0, \"attempts\": 1, \"status\": 404}}\n",
            setup.vendor.url
        )),
        "{logs}"
    );
    assert_eq!(setup.vendor.requests().len(), 1, "a 4xx is not retried");
}

#[test]
fn a_4xx_without_message_names_the_url() {
    let setup = setup(|_| Reply::json(400, "not json"), json!({}));
    let finished = setup.run(LIST_ALERTS, "{}");
    assert_eq!(
        finished["error"],
        format!(
            "HTTP Request failed: {}/api/v2/alerts (status code: 400, attempts: 1, retries: 0)",
            setup.vendor.url
        )
    );
    assert!(logs(&finished).contains(r#""response": "not json""#));
}

#[test]
fn five_hundreds_are_retried_ten_times_with_the_reference_message() {
    let setup = setup(|_| Reply::json(503, "{}"), json!({}));
    let finished = setup.run(UPDATE_ALERT, r#"{"uuid": "u1"}"#);
    assert_eq!(setup.vendor.requests().len(), 10, "POST too");
    let url = format!("{}/api/v2/alerts/u1/comments", setup.vendor.url);
    assert_eq!(
        finished["error"],
        format!("HTTP Request failed after 10 attempts (9 retries): {url} (last status code: 503)")
    );
    assert!(
        logs(&finished).contains(&format!(
            r#"- Context: {{"url": "{url}", "arguments": {{}}, "retries": 9, "attempts": 10, "status": 503, "underlying_error": "503 Server Error: Service Unavailable for url: {url}", "exception_type": "HTTPError"}}"#
        )),
        "{}",
        logs(&finished)
    );
}

#[test]
fn transport_failures_are_retried_and_reported_with_an_unknown_status() {
    let setup = setup(|_| Reply::json(200, "{}"), json!({}));
    // A base URL where nothing listens.
    let closed = fake_vendor::closed_port_url();
    setup
        .sandbox
        .set_json("module_configuration", &json!({"base_url": closed}))
        .unwrap();
    let finished = setup.run(LIST_ALERTS, "{}");
    let error = finished["error"].as_str().unwrap();
    assert_eq!(
        error,
        format!(
            "HTTP Request failed after 10 attempts (9 retries): {closed}/alerts (last status code: unknown)"
        )
    );
    assert!(logs(&finished).contains(r#""status": null, "underlying_error": "#));
    assert!(logs(&finished).contains(r#""exception_type": "ConnectionError"}"#));
}

#[test]
fn a_retry_that_recovers_succeeds_and_a_retried_delete_404_is_a_success() {
    let setup = setup(|_| Reply::json(200, r#"{"done": 1}"#), json!({}));
    setup.vendor.script([Reply::status(502)]);
    let finished = setup.run(LIST_ALERTS, "{}");
    assert_eq!(finished["results"], json!({"done": 1}), "{finished}");
    assert_eq!(setup.vendor.requests().len(), 2);

    setup.vendor.script([
        Reply::status(500),
        Reply::json(404, r#"{"message": "gone"}"#),
    ]);
    let finished = setup.run(DELETE_ALERT, r#"{"uuid": "u1"}"#);
    assert_eq!(finished, json!({"status": "finished"}));
}

#[test]
fn basic_and_api_key_authentication() {
    let setup = setup(
        |_| Reply::json(200, "{}"),
        json!({"password": "pässword", "api_key": "k y+1"}),
    );
    let finished = setup.run(BASIC_GET, "{}");
    assert!(finished.get("error").is_none(), "{finished}");
    let finished = setup.run(KEY_IN_QUERY, r#"{"q": "1.2.3.4", "other": 5}"#);
    assert!(finished.get("error").is_none(), "{finished}");
    let requests = setup.vendor.requests();
    // aiohttp BasicAuth("ann", "pässword").encode(): Latin-1.
    assert_eq!(
        requests[0].header("authorization"),
        Some("Basic YW5uOnDkc3N3b3Jk")
    );
    assert_eq!(requests[1].url, "/api/v2/lookup?key=k+y%2B1&q=1.2.3.4");
    assert_eq!(requests[1].header("x-key"), Some("k y+1"));
    assert_eq!(requests[1].header("authorization"), None);
}

#[test]
fn a_null_argument_fails_as_the_reference_does_without_a_request() {
    let setup = setup(|_| Reply::json(200, "{}"), json!({}));
    let finished = setup.run(LIST_ALERTS, r#"{"other": null}"#);
    assert!(
        finished["error"]
            .as_str()
            .unwrap()
            .starts_with("An unexpected error occurred: the argument `other` is null")
    );
    assert!(setup.vendor.requests().is_empty());
}

#[test]
fn the_manifest_schemas_are_the_declared_ones() {
    use sekoia_automation::unversioned::item_manifest::item_schema;

    let module = Module::<Config>::new().register("list", LIST_ALERTS);
    let registration = &module.items()[0];
    assert_eq!(registration.name(), "ListAlerts");
    assert_eq!(registration.description(), "test");
    let fields = registration.manifest().fields();
    assert_eq!(fields["arguments"], item_schema::<Arguments>());
    assert_eq!(fields["arguments"]["properties"]["uuid"]["type"], "string");
    assert_eq!(fields["arguments"]["title"], "Arguments");
    assert_eq!(fields["results"], item_schema::<Results>());
    assert!(fields["results"]["properties"]["id"].is_object());
}

#[test]
fn a_ported_action_states_nothing_or_its_identity_and_keeps_hand_written_schemas() {
    use sekoia_automation::config::Identity;

    // What a port states: the verb and the endpoint.
    let module = Module::<Config>::new().register("ported", Api::get("ported"));
    let registration = &module.items()[0];
    assert_eq!(registration.name(), "", "named by its manifest file");
    assert_eq!(registration.manifest().identity(), Identity::new());
    // `{}`: generate-files keeps the manifest's schemas.
    let fields = registration.manifest().fields();
    assert_eq!(fields["arguments"], json!({}));
    assert_eq!(fields["results"], json!({}));

    // An identity stated in the code.
    const IDENTITY: Identity = Identity::new()
        .uuid("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52")
        .slug("ported")
        .file("action_ported.json");
    let module = Module::<Config>::new().register("ported", Api::get("ported").identity(IDENTITY));
    let identity = module.items()[0].manifest().identity();
    assert_eq!(identity, IDENTITY);
    assert_eq!(
        identity.stated_uuid(),
        Some("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52")
    );
}

/// An action calling its vendor through the context's client.
struct CountAlerts;

impl sekoia_automation::Action for CountAlerts {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Count alerts";
    const DESCRIPTION: &'static str = "test";

    fn run(
        &self,
        ctx: &sekoia_automation::ActionContext<'_, Config>,
        _: Value,
    ) -> Result<sekoia_automation::Outcome<Value>, sekoia_automation::ActionError> {
        // The waits are in the module's backoff unit (1 ms in the sandbox).
        let unit = ctx.settings().retry_backoff();
        assert_eq!(ctx.vendor().retry_policy().backoff(3), unit * 4);
        let url = format!("{}/alerts", ctx.configuration().base_url);
        let alerts: Vec<Value> = ctx.vendor().get(url).send_json()?;
        Ok(sekoia_automation::Outcome::success(
            json!({"count": alerts.len()}),
        ))
    }
}

#[test]
fn an_action_reaches_the_vendor_client_configured_from_the_module_settings() {
    let setup = setup(|_| Reply::json(200, r#"[{"id": 1}, {"id": 2}]"#), json!({}));
    setup
        .vendor
        .script([Reply::json(503, "{}"), Reply::json(502, "{}")]);
    setup.sandbox.set("arguments", "{}").unwrap();
    Module::<Config>::with_settings(setup.sandbox.settings())
        .register("count", CountAlerts)
        .run_command("count");
    let finished: Value = serde_json::from_str(&setup.finished_body()).unwrap();
    assert_eq!(finished["results"], json!({"count": 2}), "{finished}");
    let requests = setup.vendor.requests();
    assert_eq!(
        requests.len(),
        3,
        "two 5xx retried, as the client's default policy says"
    );
    assert!(
        requests
            .iter()
            .all(|request| request.path() == "/api/v2/alerts")
    );
}

#[test]
fn a_module_of_api_actions_needs_no_configuration_type() {
    use sekoia_automation::config::Documented;

    let setup = setup(
        |_| Reply::json(200, r#"{"id": 18446744073709551616}"#),
        json!({"api_key": "k\"ey"}),
    );
    setup.sandbox.set("arguments", r#"{"uuid": "u1"}"#).unwrap();
    Module::<Documented>::with_settings(setup.sandbox.settings())
        .register("item", Api::get("alerts/{uuid}").query(&["verbose"]))
        .run_command("item");
    let request = &setup.vendor.requests()[0];
    assert_eq!(request.url, "/api/v2/alerts/u1");
    assert_eq!(request.header("authorization"), Some("Bearer k\"ey"));
    assert_eq!(
        setup.finished_body(),
        r#"{"status": "finished", "results": {"id": 18446744073709551616}}"#
    );
}

#[test]
fn credentials_follow_a_redirect_to_the_same_origin_only() {
    // The Python SDK (`requests`) strips `Authorization` on a redirect to
    // another host but sends the API key header there, and the key in
    // the query when the `Location` forwards it; the crate sends neither.
    let other = FakeVendor::start(|_| Reply::json(200, r#"{"where": "other"}"#));
    let other_url = other.url.clone();
    let setup = setup(
        move |request| {
            let query = request.url.split_once('?').map_or("", |(_, query)| query);
            match request.path() {
                "/api/v2/me" => Reply::status(302).header("Location", &format!("{other_url}/me")),
                "/api/v2/lookup" => {
                    Reply::status(307).header("Location", &format!("{other_url}/lookup?{query}"))
                }
                "/api/v2/alerts" => {
                    Reply::status(301).header("Location", &format!("/moved?{query}"))
                }
                _ => Reply::json(200, r#"{"where": "same"}"#),
            }
        },
        json!({"password": "pässword", "api_key": "k y+1"}),
    );
    for action in [BASIC_GET, KEY_IN_QUERY] {
        let finished = setup.run(action, r#"{"q": "1.2.3.4"}"#);
        assert_eq!(finished["results"], json!({"where": "other"}), "{finished}");
    }
    let landed = other.requests();
    assert_eq!(landed.len(), 2);
    assert_eq!(landed[0].header("authorization"), None);
    assert_eq!(
        landed[1].url, "/lookup?q=1.2.3.4",
        "the key is not forwarded"
    );
    assert_eq!(landed[1].header("x-key"), None);
    assert_eq!(landed[1].header("accept"), Some("application/json"));

    // On the same origin the credentials are kept (the `Location` as given).
    const KEY_ALERTS: Api<Config> = described(
        Api::get("alerts").authentication(ApiAuthentication::api_key(Some("X-Key"), Some("key"))),
        "KeyAlerts",
    );
    let finished = setup.run(KEY_ALERTS, "{}");
    assert_eq!(finished["results"], json!({"where": "same"}), "{finished}");
    let moved = setup.vendor.requests().pop().unwrap();
    assert_eq!(moved.url, "/moved?key=k+y%2B1");
    assert_eq!(moved.header("x-key"), Some("k y+1"));
}

// Ports of `GenericAPIAction` overrides of the automation library's
// Shodan module (`shodan/__init__.py`, `shodan/helpers.py`): each is the
// few lines of its override.

/// `ShodanAPIAction.get_url`: the API key in the URL.
fn shodan_key(request: &mut ApiRequest<'_>) -> Result<(), String> {
    let key = request
        .configuration("api_key")
        .map_or("None".to_string(), Json::to_python_str);
    request.append_query("key", &key);
    Ok(())
}

/// `GetDNSResolve.get_url`: the hostnames, joined by commas, after the key.
fn dns_resolve(request: &mut ApiRequest<'_>) -> Result<(), String> {
    shodan_key(request)?;
    let hostnames = request.take_argument("hostnames").ok_or("no `hostnames`")?;
    let names: Vec<String> = hostnames
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(Json::to_python_str)
        .collect();
    request.append_query("hostnames", &names.join(","));
    Ok(())
}

/// `ShodanAPIAction`: `get_headers` sets only `Accept`, `run` returns
/// `sanitize_node(super().run(arguments))`.
const fn shodan(api: Api<Config>) -> Api<Config> {
    api.authentication(ApiAuthentication::None)
        .stringify_big_integers()
}

const DNS_RESOLVE: Api<Config> = described(
    shodan(Api::get("dns/resolve")).get_url(dns_resolve),
    "GetDNSResolve",
);
const HOST: Api<Config> = described(
    shodan(Api::get("shodan/host/{ip}").query(&["history", "minify"])).get_url(shodan_key),
    "GetShodanHost",
);

#[test]
fn a_get_url_override_builds_the_url_of_the_reference() {
    let setup = setup(
        |_| {
            Reply::json(
                200,
                r#"{"a.com": 18446744073709551617, "b.com": 18446744073709551616, "c.com": -18446744073709551617}"#,
            )
        },
        json!({"api_key": "k3y-1234"}),
    );
    let finished = setup.run(DNS_RESOLVE, r#"{"hostnames": ["a.com", "b.com"]}"#);
    let requests = setup.vendor.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    // The Python module's request (its URL as the SDK 1.27's `requests`
    // prepares it): the key, then the hostnames, appended by `get_url`;
    // no `Authorization`; `{}` as body.
    assert_eq!(
        request.url,
        "/api/v2/dns/resolve?key=k3y-1234&hostnames=a.com,b.com"
    );
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.text(), "{}");
    // `sanitize_node`: above 2^64 only.
    assert!(
        setup.finished_body().contains(r#""results": {"a.com": "18446744073709551617", "b.com": 18446744073709551616, "c.com": -18446744073709551617}"#),
        "{}",
        setup.finished_body()
    );
    let _ = finished;
}

#[test]
fn the_query_parameters_follow_the_query_a_get_url_override_wrote() {
    let setup = setup(|_| Reply::json(200, "{}"), json!({"api_key": "k3y-1234"}));
    setup.run(
        HOST,
        r#"{"ip": "1.2.3.4", "history": true, "minify": false, "other": 1}"#,
    );
    let request = &setup.vendor.requests()[0];
    assert_eq!(
        request.url,
        "/api/v2/shodan/host/1.2.3.4?key=k3y-1234&history=True&minify=False"
    );
    assert_eq!(request.text(), r#"{"other": 1}"#);
}

#[test]
fn a_get_url_override_that_fails_ends_the_action_before_any_request() {
    let setup = setup(|_| Reply::json(200, "{}"), json!({"api_key": "k3y-1234"}));
    let finished = setup.run(DNS_RESOLVE, "{}");
    assert_eq!(
        finished["error"],
        "An unexpected error occurred: no `hostnames`"
    );
    assert!(setup.vendor.requests().is_empty());
}

/// Sekoia.io's `GetContextAction.run`: post-processes `super().run()`,
/// keeping `items` and `has_more` of the answer.
fn items_and_more(results: Json) -> Result<Json, String> {
    let keep = |key: &str| {
        (
            key.to_string(),
            results.get(key).cloned().unwrap_or(Json::Null),
        )
    };
    Ok(Json::Object(vec![keep("items"), keep("has_more")]))
}

const CONTEXT: Api<Config> = described(
    Api::post("objects/search")
        .query(&["term", "sort"])
        .map_results(items_and_more),
    "GetContextAction",
);

#[test]
fn a_run_override_post_processes_the_results() {
    let setup = setup(
        |_| {
            Reply::json(
                200,
                r#"{"items": [{"id": 18446744073709551617}], "total": 1, "has_more": false}"#,
            )
        },
        json!({}),
    );
    setup.run(CONTEXT, r#"{"term": "x"}"#);
    assert_eq!(
        setup.vendor.requests()[0].url,
        "/api/v2/objects/search?term=x"
    );
    assert!(
        setup
            .finished_body()
            .contains(r#""results": {"items": [{"id": 18446744073709551617}], "has_more": false}"#),
        "{}",
        setup.finished_body()
    );
}

/// Shodan's `GetShodanHostSearch.run`, which writes its own `run`: page
/// after page with `super().run(arguments)`, stopping when the failed
/// request has ended the run (`return None`).
struct HostSearch;

const SEARCH: Api<Config> =
    shodan(Api::get("shodan/host/search").query(&["query"])).get_url(shodan_key);

impl sekoia_automation::Action for HostSearch {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Vec<Json>;
    const NAME: &'static str = "Search";
    const DESCRIPTION: &'static str = "test";

    fn run(
        &self,
        ctx: &sekoia_automation::ActionContext<'_, Config>,
        mut arguments: Value,
    ) -> Result<sekoia_automation::Outcome<Vec<Json>>, sekoia_automation::ActionError> {
        let mut pages = Vec::new();
        for page in 1..=3 {
            arguments["page"] = page.into();
            pages.extend(SEARCH.call(ctx, &arguments)?);
        }
        Ok(sekoia_automation::Outcome::success(pages))
    }
}

#[test]
fn an_action_with_its_own_run_keeps_the_retries_and_the_4xx_handling() {
    let setup = setup(
        |_| Reply::json(200, r#"{"page": 1}"#),
        json!({"api_key": "k3y-1234"}),
    );
    setup.vendor.script([
        Reply::json(200, r#"{"page": 1}"#),
        Reply::json(503, "{}"),
        Reply::json(429, r#"{"message": "slow down"}"#),
    ]);
    setup
        .sandbox
        .set("arguments", r#"{"query": "port:22"}"#)
        .unwrap();
    Module::<Config>::with_settings(setup.sandbox.settings())
        .register("search", HostSearch)
        .run_command("search");
    let finished: Value = serde_json::from_str(&setup.finished_body()).unwrap();
    let urls: Vec<String> = setup
        .vendor
        .requests()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(
        urls,
        [
            "/api/v2/shodan/host/search?key=k3y-1234&query=port%3A22",
            "/api/v2/shodan/host/search?key=k3y-1234&query=port%3A22",
            "/api/v2/shodan/host/search?key=k3y-1234&query=port%3A22",
        ],
        "the 503 retried, the 429 not"
    );
    assert_eq!(
        finished["error"],
        "slow down (status code: 429, attempts: 2, retries: 1)"
    );
    assert!(
        logs(&finished).contains(r#""response": {"message": "slow down"}"#),
        "{finished}"
    );
}
