//! A trigger can only send events of its declared `Event` type.

use sekoia_automation::{Trigger, TriggerContext, TriggerError};
use serde::Serialize;

#[derive(Serialize, schemars::JsonSchema)]
struct Alert {
    id: u64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Heartbeat {
    at: String,
}

struct Watcher;

impl Trigger for Watcher {
    type ModuleConfiguration = ();
    type Configuration = ();
    type Event = Alert;
    const NAME: &'static str = "Watcher";
    const DESCRIPTION: &'static str = "Send alerts";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        ctx.send_event("alert", &Alert { id: 1 })?;
        ctx.send_event("heartbeat", &Heartbeat { at: "now".into() })?;
        Ok(())
    }
}

fn main() {}
