//! `Api` (the Python SDK's `GenericAPIAction`) with values that break naive
//! code, and with the authentications real modules' `get_headers`
//! overrides write, against `testing::FakeVendor` and the local platform.
//! The expected requests are those `sekoia-automation-sdk` 1.27.0's
//! `GenericAPIAction` sends for the same arguments (path and query: Python's
//! `str()` of the value; body: `json.dumps` through `requests`; basic
//! authentication: `requests.auth._basic_auth_str`).

use sekoia_automation::config::Documented;
use sekoia_automation::testing::{FakeVendor, LocalPlatform, RecordedRequest, Reply, Sandbox};
use sekoia_automation::vendor::{Api, ApiAuthentication, Json};
use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
use serde_json::{Value, json};

/// 2^70.
const BIG: &str = "1180591620717411303424";

const LAMP: Api<Documented> = Api::post("lamps/{id}").query(&["q"]);

struct Setup {
    platform: LocalPlatform,
    sandbox: Sandbox,
    vendor: FakeVendor,
}

/// A module whose configuration holds `configuration` (and `base_url`)
/// and whose secrets, fetched from the platform, are `secrets`.
fn setup(configuration: Value, secrets: Value) -> Setup {
    let vendor = FakeVendor::start().unwrap();
    vendor.otherwise(|_| Reply::json(200, r#"{"ok": true}"#));
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(secrets);
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "slug": "lamps", "version": "1.0.0",
            "configuration": {
                "properties": {
                    "base_url": {"type": "string"}, "api_key": {"type": "string"},
                    "api_secret": {"type": "string"}, "api_token": {"type": "string"}
                },
                "required": ["base_url"], "secrets": ["api_key", "api_secret", "api_token"]
            }
        }))
        .unwrap();
    let mut configuration = configuration;
    configuration["base_url"] = format!("{}/v2", vendor.url()).into();
    sandbox
        .set_json("module_configuration", &configuration)
        .unwrap();
    Setup {
        platform,
        sandbox,
        vendor,
    }
}

impl Setup {
    /// Runs `action` with `arguments`; the body of its final `PATCH`, as sent.
    fn run(&self, action: Api<Documented>, arguments: &str) -> String {
        self.sandbox.set("arguments", arguments).unwrap();
        Module::<Documented>::with_settings(self.sandbox.settings())
            .register("item", action)
            .run_command("item");
        self.platform
            .requests()
            .into_iter()
            .rev()
            .find(|request| request.method == "PATCH")
            .unwrap()
            .body_text()
    }

    /// The only request the vendor received.
    fn only_request(&self) -> RecordedRequest {
        let requests = self.vendor.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests.into_iter().next().unwrap()
    }
}

fn target(request: &RecordedRequest) -> String {
    match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    }
}

#[test]
fn integers_beyond_64_bits_reach_the_path_the_query_and_the_body_exactly() {
    let setup = setup(json!({}), json!({}));
    let finished = setup.run(
        LAMP,
        &format!(
            r#"{{"id": {BIG}, "q": -{BIG}, "b": {BIG}, "nested": {{"n": -{BIG}, "l": [{BIG}]}}}}"#
        ),
    );
    assert!(!finished.contains("\"error\""), "{finished}");
    let request = setup.only_request();
    assert_eq!(target(&request), format!("/v2/lamps/{BIG}?q=-{BIG}"));
    assert_eq!(
        request.body_text(),
        format!(r#"{{"b": {BIG}, "nested": {{"n": -{BIG}, "l": [{BIG}]}}}}"#)
    );
}

#[test]
fn floats_are_written_as_python_writes_them() {
    let setup = setup(json!({}), json!({}));
    setup.run(
        LAMP,
        r#"{"id": 1.5, "q": 0.30000000000000004, "b": 1E2, "c": 1e16, "d": -0.0, "e": 5e-324}"#,
    );
    setup.run(LAMP, r#"{"id": -0.0, "q": 1e22}"#);
    let requests = setup.vendor.requests();
    let targets: Vec<String> = requests.iter().map(target).collect();
    assert_eq!(
        targets,
        [
            "/v2/lamps/1.5?q=0.30000000000000004",
            "/v2/lamps/-0.0?q=1e%2B22"
        ]
    );
    assert_eq!(
        requests[0].body_text(),
        r#"{"b": 100.0, "c": 1e+16, "d": -0.0, "e": 5e-324}"#
    );
    assert_eq!(requests[1].body_text(), "{}");
}

#[test]
#[cfg(not(feature = "exact-numbers"))]
fn arguments_beyond_the_range_of_a_double_are_refused_before_any_request() {
    // Python reads `1e400` as `inf` (`/lamps/inf`); the crate refuses such
    // arguments at once, as it refuses `Infinity` (docs/migrating.md).
    let setup = setup(json!({}), json!({}));
    let finished = setup.run(LAMP, r#"{"id": 1e400}"#);
    let finished: Value = serde_json::from_str(&finished).unwrap();
    let error = finished["error"].as_str().unwrap();
    assert!(error.contains("`arguments`"), "{error}");
    assert!(error.contains("number out of range"), "{error}");
    assert!(setup.vendor.requests().is_empty());
}

/// With `exact-numbers`, the arguments' `serde_json::Value` keeps `1e400`
/// as written, and the path is Python's `str(float("1e400"))`.
#[test]
#[cfg(feature = "exact-numbers")]
fn arguments_beyond_the_range_of_a_double_are_sent_as_python_writes_them() {
    let setup = setup(json!({}), json!({}));
    let finished = setup.run(LAMP, r#"{"id": 1e400}"#);
    let finished: Value = serde_json::from_str(&finished).unwrap();
    assert!(finished["error"].is_null(), "{finished}");
    let paths: Vec<String> = setup.vendor.requests().iter().map(target).collect();
    assert_eq!(paths, ["/v2/lamps/inf"]);
}

/// An action writing its own `run` that gives `Api::call` a body number
/// beyond the range of a double.
struct Overflowing;

impl Action for Overflowing {
    type ModuleConfiguration = Documented;
    type Arguments = Value;
    type Results = Json;
    const NAME: &'static str = "Overflowing";
    const DESCRIPTION: &'static str = "Sends 1e400 in its body";

    fn run(
        &self,
        ctx: &ActionContext<'_, Documented>,
        _arguments: Value,
    ) -> Result<Outcome<Json>, ActionError> {
        let arguments: Json = format!(r#"{{"id": {BIG}, "b": {{"deep": [1e400]}}}}"#)
            .parse()
            .unwrap();
        let results = LAMP.call(ctx, arguments)?;
        Ok(results.map_or_else(Outcome::none, Outcome::success))
    }
}

#[test]
fn a_body_number_beyond_a_double_given_to_call_fails_before_any_request() {
    // `requests` refuses it too (`allow_nan=False`), then retries that.
    let setup = setup(json!({}), json!({}));
    setup.sandbox.set("arguments", "{}").unwrap();
    Module::<Documented>::with_settings(setup.sandbox.settings())
        .register("item", Overflowing)
        .run_command("item");
    let finished = setup
        .platform
        .requests()
        .into_iter()
        .rev()
        .find(|request| request.method == "PATCH")
        .unwrap();
    let finished: Value = serde_json::from_slice(&finished.body).unwrap();
    let error = finished["error"].as_str().unwrap();
    assert!(
        error.contains("the argument `b` holds a number beyond the range of a double"),
        "{error}"
    );
    assert!(setup.vendor.requests().is_empty());
}

#[test]
fn astral_characters_reach_the_path_the_query_and_the_body() {
    let setup = setup(json!({}), json!({}));
    setup.run(
        LAMP,
        r#"{"id": "😀 a", "q": "𝔗 😀", "b": "😀", "c": ["\ud83d\ude00"]}"#,
    );
    let request = setup.only_request();
    assert_eq!(
        target(&request),
        "/v2/lamps/%F0%9F%98%80%20a?q=%F0%9D%94%97+%F0%9F%98%80"
    );
    assert_eq!(
        request.body_text(),
        r#"{"b": "\ud83d\ude00", "c": ["\ud83d\ude00"]}"#
    );
}

#[test]
fn the_results_keep_integers_beyond_64_bits() {
    // The Python SDK refuses them here ("Results are invalid", orjson):
    // an intended difference (docs/migrating.md).
    let setup = setup(json!({}), json!({}));
    setup.vendor.otherwise(|_| {
        Reply::json(
            200,
            format!(r#"{{"id": {BIG}, "neg": -{BIG}, "f": 1E2, "s": "😀"}}"#),
        )
    });
    let finished = setup.run(LAMP, r#"{"id": 1}"#);
    assert!(
        finished.contains(&format!(
            r#""results": {{"id": {BIG}, "neg": -{BIG}, "f": 100.0, "s": "\ud83d\ude00"}}"#
        )),
        "{finished}"
    );
}

/// What no log, error or result may show.
const HEADER_SECRET: &str = r#"k"e'y\1 "x""#;

#[test]
fn a_configuration_value_in_a_header_as_binary_edges_sends_its_key() {
    let setup = setup(json!({}), json!({"api_key": HEADER_SECRET}));
    let finished = setup.run(
        Api::get("user/subscription").header_from_configuration("X-Key", "api_key"),
        "{}",
    );
    assert!(!finished.contains("\"error\""), "{finished}");
    let request = setup.only_request();
    assert_eq!(request.header("x-key"), Some(HEADER_SECRET));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("authorization"), None);
}

#[test]
fn an_absent_or_empty_value_sends_no_header() {
    for secrets in [json!({}), json!({"api_key": ""})] {
        let setup = setup(json!({}), secrets);
        setup.run(
            Api::get("user/subscription").header_from_configuration("X-Key", "api_key"),
            "{}",
        );
        let request = setup.only_request();
        assert_eq!(request.header("x-key"), None);
        assert_eq!(request.header("authorization"), None);
    }
}

#[test]
fn a_prefixed_token_without_accept_as_harfanglab_sends_it() {
    const TOKEN: ApiAuthentication = ApiAuthentication::prefixed_header_from_configuration(
        "Authorization",
        "Token ",
        "api_token",
    );
    let setup = setup(json!({}), json!({"api_token": HEADER_SECRET}));
    setup.run(
        Api::get("agents/{id}").authentication(TOKEN).accept("*/*"),
        r#"{"id": 7}"#,
    );
    let request = setup.only_request();
    assert_eq!(
        request.header("authorization"),
        Some(format!("Token {HEADER_SECRET}").as_str())
    );
    assert_eq!(request.header("accept"), Some("*/*"));
}

#[test]
fn basic_from_two_configuration_keys_as_risk_iq_writes_it() {
    const PDNS: Api<Documented> = Api::get("pdns").authentication(
        ApiAuthentication::basic_from_configuration("api_key", "api_secret"),
    );
    // requests.auth._basic_auth_str('k"é\'1', 's"2\\') and ('key-"q"', None).
    let setup = setup(
        json!({}),
        json!({"api_key": "k\"é'1", "api_secret": "s\"2\\"}),
    );
    setup.run(PDNS, "{}");
    assert_eq!(
        setup.only_request().header("authorization"),
        Some("Basic ayLpJzE6cyIyXA==")
    );
    let setup = self::setup(json!({}), json!({"api_key": "key-\"q\""}));
    setup.run(PDNS, "{}");
    assert_eq!(
        setup.only_request().header("authorization"),
        Some("Basic a2V5LSJxIjpOb25l")
    );
}

#[test]
fn secrets_that_cannot_be_sent_fail_without_being_shown() {
    const SECRET: &str = "s\"😀'3";
    let cases = [
        (
            Api::get("pdns").authentication(ApiAuthentication::basic_from_configuration(
                "api_key",
                "api_secret",
            )),
            "the module configuration's `api_key` and `api_secret` must be Latin-1",
        ),
        (
            Api::get("pdns").header_from_configuration("X-Key", "api_secret"),
            "X-Key",
        ),
    ];
    for (action, expected) in cases {
        let setup = setup(json!({}), json!({"api_key": "k", "api_secret": SECRET}));
        let finished = setup.run(action, "{}");
        let report: Value = serde_json::from_str(&finished).unwrap();
        let error = report["error"].as_str().unwrap();
        assert!(error.contains(expected), "{error}");
        assert!(setup.vendor.requests().is_empty());
        for request in setup.platform.requests() {
            assert!(
                !request.body_text().contains("😀"),
                "{}",
                request.body_text()
            );
            assert!(
                !request.body_text().contains(r"\ud83d\ude00"),
                "{}",
                request.body_text()
            );
        }
    }
}
