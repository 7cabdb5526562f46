// A connector written for another module's configuration: the error names
// the connector and what to implement, `Connector` among the item kinds.
use sekoia_automation::{Connector, ConnectorContext, Module, TriggerError};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ThisModule {
    url: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct OtherModule {
    token: String,
}

struct Feed;

impl Connector for Feed {
    type ModuleConfiguration = OtherModule;
    type Configuration = serde_json::Value;
    type Event = String;
    const NAME: &'static str = "Feed";
    const DESCRIPTION: &'static str = "Collect the feed";

    fn run(&mut self, _: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

fn main() {
    let _ = Module::<ThisModule>::new().register("feed", Feed).run();
}
