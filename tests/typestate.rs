//! The well-formed counterpart of the compile-fail tests (`tests/ui/fail/`,
//! run by `cargo test --test compile_fail`): a module configured, then given
//! items, compiles and keeps what it was given. Kept out of trybuild so that
//! its compile-fail run only type-checks (`cargo check`), never builds.

use sekoia_automation::typestate::Registered;
use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome, Secret};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    #[allow(dead_code)] // never run: only its type matters here
    api_key: Secret<String>,
}

struct Lookup;

impl Action for Lookup {
    type ModuleConfiguration = Config;
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Lookup";
    const DESCRIPTION: &'static str = "Look something up";

    fn run(
        &self,
        _: &ActionContext<'_, Config>,
        args: serde_json::Value,
    ) -> Result<Outcome<serde_json::Value>, ActionError> {
        Ok(Outcome::success(args))
    }
}

#[test]
fn settings_then_items_then_run_is_a_well_formed_module() {
    let module = Module::<Config>::new()
        .configuration_root("/tmp/root")
        .register("lookup", Lookup)
        .register("again", Lookup);
    assert_eq!(module.commands().collect::<Vec<_>>(), ["lookup", "again"]);
    assert_eq!(
        module.settings().configuration_root(),
        std::path::Path::new("/tmp/root")
    );
    // `run` exists for a registered module (its absence before any item is
    // tests/ui/fail/run_without_items.rs).
    let _run: fn(Module<Config, Registered>) -> std::process::ExitCode = Module::run;
}
