//! Numbers are never changed: floats parsed exactly, integers beyond 64
//! bits carried exactly, both written back as the Python SDK writes them,
//! in action results and trigger events; a non-finite float is refused at
//! save, never written as `null`. Integers beyond 64 bits read into a
//! `serde_json::Value` (arguments, configurations) need the
//! `exact-numbers` feature (`cargo test --features exact-numbers --test
//! numbers`, as CI runs it); typed results and `vendor::Json` are exact
//! without it.

use std::process::ExitCode;

use sekoia_automation::storage::{PersistentJson, StorageError};
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::vendor::Json;
use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
use serde::Deserialize;
use serde_json::Value;

/// Numbers as a module receives them, and as the Python SDK 1.27 writes them
/// back (`json.dumps(json.loads(text))`, CPython 3.11).
const NUMBERS: &str = r#"[255.66666666666666, 9007199254740993.0, 12345678901234567890123, -98765432109876543210987654321, 0.1, 1E5, 1e22, 1e-7, 5e-324, 1.7976931348623157e308, 18446744073709551615, -9223372036854775808, 3]"#;
const AS_PYTHON: &str = r#"[255.66666666666666, 9007199254740992.0, 12345678901234567890123, -98765432109876543210987654321, 0.1, 100000.0, 1e+22, 1e-07, 5e-324, 1.7976931348623157e+308, 18446744073709551615, -9223372036854775808, 3]"#;

/// A deterministic spread of doubles, from their bits.
fn doubles(count: usize) -> Vec<f64> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let value = f64::from_bits(state);
        if value.is_finite() {
            out.push(value);
        }
        // Also values with few integer digits, as file data holds.
        out.push((state % 100_000) as f64 / 3.0);
    }
    out.truncate(count);
    out
}

#[test]
fn fifty_thousand_floats_parse_exactly() {
    let values = doubles(50_000);
    // Rust's `{:?}` writes the shortest text that reads back to the value,
    // as Python's `repr` does (the exponent aside).
    let text = format!("{values:?}");
    let parsed: Vec<f64> = serde_json::from_str(&text).unwrap();
    let changed = values
        .iter()
        .zip(&parsed)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(changed, 0, "floats changed by parsing");
    let as_values: Value = serde_json::from_str(&text).unwrap();
    let again: Vec<f64> = serde_json::from_value(as_values).unwrap();
    assert!(
        values
            .iter()
            .zip(&again)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

/// Numbers read into a `serde_json::Value` (the arguments, a trigger's
/// configuration) and given back: exact with serde_json's
/// `arbitrary_precision`, which only the `exact-numbers` feature turns on.
#[cfg(feature = "exact-numbers")]
mod value_paths {
    use super::*;
    use sekoia_automation::testing::RecordedRequest;
    use sekoia_automation::{Trigger, TriggerContext, TriggerError};

    #[derive(Deserialize, schemars::JsonSchema)]
    #[serde(untagged)]
    enum Limit {
        Count(u64),
        Named(#[allow(dead_code)] String),
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    struct Paging {
        page: u32,
    }

    #[derive(Deserialize, schemars::JsonSchema)]
    struct Arguments {
        numbers: Value,
        limit: Limit,
        #[serde(flatten)]
        paging: Paging,
    }

    struct Echo;

    impl Action for Echo {
        type ModuleConfiguration = ();
        type Arguments = Arguments;
        type Results = Value;
        const NAME: &'static str = "Echo";
        const DESCRIPTION: &'static str = "Give the numbers back";

        fn run(
            &self,
            _: &ActionContext<'_, ()>,
            arguments: Arguments,
        ) -> Result<Outcome<Value>, ActionError> {
            // Untagged enums and flatten still read numbers.
            assert!(matches!(arguments.limit, Limit::Count(50)));
            assert_eq!(arguments.paging.page, 2);
            Ok(Outcome::success(
                serde_json::json!({"numbers": arguments.numbers}),
            ))
        }
    }

    #[test]
    fn an_action_gives_numbers_back_exactly() {
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        sandbox
            .set(
                "arguments",
                &format!(r#"{{"numbers": {NUMBERS}, "limit": 50, "page": 2}}"#),
            )
            .unwrap();
        let code = Module::<()>::with_settings(sandbox.settings())
            .register("echo", Echo)
            .run_command("echo");
        assert_eq!(code, ExitCode::SUCCESS);
        let finished = platform
            .requests()
            .into_iter()
            .rfind(|request| request.method == "PATCH")
            .unwrap()
            .body_text();
        assert!(
            finished.contains(&format!(r#""results": {{"numbers": {AS_PYTHON}}}"#)),
            "{finished}"
        );
    }

    struct Forward;

    impl Trigger for Forward {
        type ModuleConfiguration = ();
        type Configuration = Value;
        type Event = Value;
        const NAME: &'static str = "Forward";
        const DESCRIPTION: &'static str = "Send its configuration as an event";

        fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
            ctx.send_event("numbers", ctx.configuration())?;
            ctx.stop();
            Ok(())
        }
    }

    #[test]
    fn a_trigger_sends_numbers_exactly() {
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        // As the platform gives every trigger (the Python SDK reads it at start).
        sandbox.set("module_configuration", "{}").unwrap();
        sandbox
            .set(
                "trigger_configuration",
                &format!(r#"{{"numbers": {NUMBERS}}}"#),
            )
            .unwrap();
        sandbox.set("liveness_port", "0").unwrap();
        sandbox.set("metrics_port", "0").unwrap();
        let code = Module::<()>::with_settings(sandbox.settings())
            .register("forward", Forward)
            .run_command("forward");
        assert_eq!(code, ExitCode::SUCCESS);
        let event = platform
            .requests()
            .into_iter()
            .find(|request| request.route() == "callback")
            .map(|request: RecordedRequest| request.body_text())
            .unwrap();
        assert!(
            event.contains(&format!(r#""event": {{"numbers": {AS_PYTHON}}}"#)),
            "{event}"
        );
    }
}

/// Typed results hold integers beyond 64 bits (`u128`, `i128`, the exact
/// `vendor::Json`) without `exact-numbers`: they are written as Python
/// writes them.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Exact {
    id: u128,
    balance: i128,
    #[schemars(with = "Value")]
    vendor: Json,
}

struct Typed;

impl Action for Typed {
    type ModuleConfiguration = ();
    type Arguments = Value;
    type Results = Exact;
    const NAME: &'static str = "Typed";
    const DESCRIPTION: &'static str = "Give exact numbers as typed results";

    fn run(&self, _: &ActionContext<'_, ()>, _: Value) -> Result<Outcome<Exact>, ActionError> {
        Ok(Outcome::success(Exact {
            id: u128::MAX,
            balance: i128::MIN,
            vendor: NUMBERS.parse().unwrap(),
        }))
    }
}

#[test]
fn typed_results_give_numbers_back_exactly_by_default() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox.set("arguments", "{}").unwrap();
    let code = Module::<()>::with_settings(sandbox.settings())
        .register("typed", Typed)
        .run_command("typed");
    assert_eq!(code, ExitCode::SUCCESS);
    let finished = platform
        .requests()
        .into_iter()
        .rfind(|request| request.method == "PATCH")
        .unwrap()
        .body_text();
    let expected = format!(
        r#""results": {{"id": {}, "balance": {}, "vendor": {AS_PYTHON}}}"#,
        u128::MAX,
        i128::MIN
    );
    assert!(finished.contains(&expected), "{finished}");
}

#[test]
fn a_non_finite_float_is_refused_at_save_and_the_file_kept() {
    #[derive(Default, serde::Serialize, Deserialize)]
    struct State {
        rates: Vec<f64>,
    }
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let mut state = PersistentJson::<State>::open(&path).unwrap();
    state.rates = vec![1.5];
    state.save().unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        state.rates = vec![2.5, bad];
        let error = state.save().unwrap_err();
        assert!(matches!(error, StorageError::NotFinite { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains("state.json"), "{message}");
        assert!(message.contains("`rates[1]`"), "{message}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"rates":[1.5]}"#
        );
    }
    state.discard();
    // The file still opens.
    let state = PersistentJson::<State>::open(&path).unwrap();
    assert_eq!(state.rates, [1.5]);
    state.discard();
}

/// Typed arguments read integers beyond 64 bits exactly without
/// `exact-numbers`: they are read from the text, not from a `Value`.
#[derive(Deserialize, serde::Serialize, schemars::JsonSchema)]
struct Wide {
    id: u128,
    balance: i128,
    ratio: f64,
}

struct EchoWide;

impl Action for EchoWide {
    type ModuleConfiguration = ();
    type Arguments = Wide;
    type Results = Wide;
    const NAME: &'static str = "Echo wide";
    const DESCRIPTION: &'static str = "Give typed wide integers back";

    fn run(
        &self,
        _: &ActionContext<'_, ()>,
        arguments: Wide,
    ) -> Result<Outcome<Wide>, ActionError> {
        Ok(Outcome::success(arguments))
    }
}

#[test]
fn typed_arguments_read_integers_beyond_64_bits_exactly_by_default() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .set(
            "arguments",
            r#"{"id": 340282366920938463463374607431768211455, "balance": -98765432109876543210987654321, "ratio": 255.66666666666666}"#,
        )
        .unwrap();
    let code = Module::<()>::with_settings(sandbox.settings())
        .register("echo_wide", EchoWide)
        .run_command("echo_wide");
    assert_eq!(code, ExitCode::SUCCESS);
    let finished = platform
        .requests()
        .into_iter()
        .rfind(|request| request.method == "PATCH")
        .unwrap()
        .body_text();
    assert!(
        finished.contains(r#""results": {"id": 340282366920938463463374607431768211455, "balance": -98765432109876543210987654321, "ratio": 255.66666666666666}"#),
        "{finished}"
    );
}
