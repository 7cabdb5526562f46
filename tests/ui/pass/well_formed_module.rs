use sekoia_automation::{Action, ActionContext, Module, Outcome, Secret};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    api_key: Secret<String>,
}

struct Lookup;

impl Action for Lookup {
    type ModuleConfiguration = Config;
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Lookup";
    const DESCRIPTION: &'static str = "Look something up";

    fn run(&self, _: &ActionContext<'_, Config>, args: serde_json::Value) -> Outcome<serde_json::Value> {
        Outcome::success(args)
    }
}

fn main() {
    let module = Module::<Config>::new()
        .configuration_root("/tmp/root")
        .register("lookup", Lookup)
        .register("again", Lookup);
    let _ = module.commands().count();
    let _run: fn(Module<Config, sekoia_automation::typestate::Registered>) -> std::process::ExitCode = Module::run;
}
