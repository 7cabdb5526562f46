// A connector must say how it collects: `run` is required (a polling
// connector writes `self.poll(ctx)` and implements `PollingConnector`).
use sekoia_automation::{Connector, ConnectorContext, Page, TriggerError};

struct Feed;

impl Connector for Feed {
    type ModuleConfiguration = ();
    type Configuration = serde_json::Value;
    type Event = String;
    const NAME: &'static str = "Feed";
    const DESCRIPTION: &'static str = "Collect the feed";
}

impl Feed {
    #[allow(dead_code)]
    fn next_page(&mut self, _: &ConnectorContext<'_, Self>) -> Result<Page<String>, TriggerError> {
        Ok(Page::empty())
    }
}

fn main() {}
