// The well-formed counterpart of `build_fail/identity_bad_uuid.rs`: an item
// stating the identity its Python manifest already has builds.
use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome, config::Identity};

struct GetHost;

impl Action for GetHost {
    type ModuleConfiguration = ();
    type Arguments = serde_json::Value;
    type Results = serde_json::Value;
    const NAME: &'static str = "Get host";
    const DESCRIPTION: &'static str = "Everything known about a host";
    const IDENTITY: Identity = Identity::new()
        .uuid("1f8d7a4e-0c1b-4d2e-9a37-5b6c8e0f2a91")
        .slug("get-host")
        .file("action_get_host.json");

    fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
        Ok(Outcome::none())
    }
}

fn main() {
    // Registered, not run: building is what this case proves.
    let _module = Module::<()>::new().register("get_host", GetHost);
}
