use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};

struct Ping;

impl Action for Ping {
    type ModuleConfiguration = ();
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Ping";
    const DESCRIPTION: &'static str = "Pong";

    fn run(&self, _: &ActionContext<'_, ()>, args: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
        Ok(Outcome::success(args))
    }
}

fn main() {
    let _ = Module::<()>::new()
        .register("ping", Ping)
        .configuration_root("/tmp/too-late")
        .run();
}
