use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ThisModule {
    url: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct OtherModule {
    token: String,
}

struct OtherAction;

impl Action for OtherAction {
    type ModuleConfiguration = OtherModule;
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Other";
    const DESCRIPTION: &'static str = "Belongs to another module";

    fn run(&self, _: &ActionContext<'_, OtherModule>, args: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
        Ok(Outcome::success(args))
    }
}

fn main() {
    let _ = Module::<ThisModule>::new().register("other", OtherAction).run();
}
