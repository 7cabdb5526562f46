// The polling loop needs the connector's pages: `poll` exists only on a
// `PollingConnector`, whose `next_page` is required.
use sekoia_automation::{Connector, ConnectorContext, PollingConnector, TriggerError};

struct Feed;

impl Connector for Feed {
    type ModuleConfiguration = ();
    type Configuration = serde_json::Value;
    type Event = String;
    const NAME: &'static str = "Feed";
    const DESCRIPTION: &'static str = "Collect the feed";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        self.poll(ctx)
    }
}

impl PollingConnector for Feed {}

fn main() {}
