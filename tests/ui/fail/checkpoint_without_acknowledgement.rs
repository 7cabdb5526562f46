//! A checkpoint advances only with the acknowledgement `push_events`
//! returns: not with the unexamined result of the push.

use sekoia_automation::{Connector, ConnectorContext, connector::CheckpointCursor};
use sekoia_automation::TriggerError;

struct Pages;

impl Connector for Pages {
    type ModuleConfiguration = ();
    type Configuration = serde_json::Value;
    type Event = String;
    const NAME: &'static str = "Pages";
    const DESCRIPTION: &'static str = "Fetch pages";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let mut cursor = CheckpointCursor::<String>::new(ctx.data_directory().root());
        let pushed = ctx.push_events(vec!["event".to_string()]);
        // The push may have failed: advancing past its events must not compile.
        cursor.advance("next-page".to_string(), &pushed)?;
        Ok(())
    }
}

fn main() {}
