// A trigger is `Send` (a `Module` can be built on one thread and run on
// another): one holding an `Rc` is refused where it is declared.
use std::rc::Rc;

use sekoia_automation::{Trigger, TriggerContext, TriggerError};

struct Counter {
    seen: Rc<u64>,
}

impl Trigger for Counter {
    type ModuleConfiguration = ();
    type Configuration = serde_json::Value;
    type Event = serde_json::Value;
    const NAME: &'static str = "Counter";
    const DESCRIPTION: &'static str = "Count";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        ctx.send_event("count", &serde_json::json!(*self.seen))?;
        Ok(())
    }
}

fn main() {}
