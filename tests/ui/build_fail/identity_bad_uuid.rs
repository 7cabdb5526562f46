use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome, config::Identity};

struct GetHost;

impl Action for GetHost {
    type ModuleConfiguration = ();
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Get host";
    const DESCRIPTION: &'static str = "Everything known about a host";
    // A uuid cut short while copying it from the manifest.
    const IDENTITY: Identity = Identity::new().uuid("1f8d7a4e-0c1b-4d2e-9a37-5b6c8e0f2a9");

    fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
        Ok(Outcome::none())
    }
}

fn main() {
    let _ = Module::<()>::new().register("get_host", GetHost).run();
}
