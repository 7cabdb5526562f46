#![deny(unused_must_use)]
use sekoia_automation::Outcome;

fn main() {
    Outcome::success(serde_json::json!({}));
}
