// Options have private fields: built with `default()` and `with_` setters,
// so a new option is not a breaking change.
use sekoia_automation::trigger::{SendEventError, TriggerOptions};

fn main() {
    let _ = TriggerOptions { stop_grace: std::time::Duration::ZERO };
}

// Error variants are non-exhaustive: a pattern names its fields with `..`,
// so a new field is not a breaking change.
pub fn event_name(error: &SendEventError) -> &str {
    match error {
        SendEventError::Stopped { name } => name,
        _ => "",
    }
}
