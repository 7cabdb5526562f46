//! The log shipper's rules, on a manual clock, against the embedded
//! platform ([protocol §4](crate::protocol#4-triggers) logs).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::secret::Secret;
use crate::testing::{Fault, LocalPlatform};
use crate::trigger::clock::{Clock, ManualClock};
use crate::trigger::log_shipper::LogShipper;
use crate::wire::http::PlatformClient;
use crate::wire::logging::Level;

const WAIT: Duration = Duration::from_secs(20);

fn shipper(platform: &LocalPlatform, clock: &Arc<ManualClock>, attempts: u32) -> LogShipper {
    let client = PlatformClient::new(Secret::new(platform.token().to_string()))
        .with_backoff(Duration::from_millis(1))
        .with_max_attempts(attempts);
    LogShipper::start(
        client,
        platform.logs_url(),
        Arc::clone(clock) as Arc<dyn Clock>,
    )
    .unwrap()
}

fn batches(platform: &LocalPlatform) -> Vec<Vec<Value>> {
    platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs")
        .filter(|request| request.status == 200)
        .map(|request| request.json().unwrap()["logs"].as_array().unwrap().clone())
        .collect()
}

#[test]
fn logs_go_in_batches_of_fifty_or_every_five_seconds() {
    let platform = LocalPlatform::start().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let logs = shipper(&platform, &clock, 1);
    for n in 0..49 {
        logs.log(Level::Info, &format!("record {n}"));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(platform.requests().is_empty(), "49 records wait");
    logs.log(Level::Debug, "record 49");
    assert!(platform.wait_for(WAIT, |requests| requests.len() == 1));
    assert_eq!(
        batches(&platform)[0].len(),
        50,
        "a full batch leaves at once"
    );

    let logged_at = clock.now().to_iso8601();
    logs.log(Level::Warning, "alone");
    clock.advance(Duration::from_millis(4900));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(platform.requests().len(), 1, "not yet 5 s");
    clock.advance(Duration::from_millis(100));
    assert!(platform.wait_for(WAIT, |requests| requests.len() == 2));
    let batch = &batches(&platform)[1];
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0]["level"], "warning");
    assert_eq!(batch[0]["date"], json!(logged_at), "the date it was logged");

    // A backlog larger than a batch goes as several batches of at most 50.
    platform.inject(Fault::status(503).on_path_suffix("/logs"));
    for n in 0..60 {
        logs.log(Level::Info, &format!("backlog {n}"));
    }
    // At least 3: under load the shipper may already have sent the
    // backlog again (the fault answers once) before this looks.
    assert!(
        platform.wait_for(WAIT, |requests| requests.len() >= 3),
        "the failed full batch"
    );
    logs.flush();
    let sizes: Vec<usize> = batches(&platform).iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 1, 50, 10]);
    let backlog: Vec<Value> = batches(&platform)[2..]
        .iter()
        .flatten()
        .map(|log| log["message"].clone())
        .collect();
    let expected: Vec<Value> = (0..60).map(|n| json!(format!("backlog {n}"))).collect();
    assert_eq!(backlog, expected, "put back in order after the failure");
    assert_eq!(logs.counters().sent(), 111);
    assert_eq!(logs.counters().failed_requests(), 1);
    logs.shutdown();
}

#[test]
fn the_same_record_is_not_queued_again_within_a_minute() {
    let platform = LocalPlatform::start().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let logs = shipper(&platform, &clock, 1);
    logs.log(Level::Info, "polling");
    logs.log(Level::Info, "polling");
    logs.log(Level::Warning, "polling"); // another level: another record
    clock.advance(Duration::from_secs(59));
    logs.log(Level::Info, "polling");
    clock.advance(Duration::from_secs(1));
    logs.log(Level::Info, "polling"); // 60 s later: again
    logs.log(Level::Error, "down");
    logs.log(Level::Error, "down");
    logs.flush();
    let sent: Vec<(Value, Value)> = batches(&platform)
        .iter()
        .flatten()
        .map(|log| (log["level"].clone(), log["message"].clone()))
        .collect();
    assert_eq!(
        sent,
        [
            (json!("info"), json!("polling")),
            (json!("warning"), json!("polling")),
            (json!("info"), json!("polling")),
            (json!("error"), json!("down")),
        ]
    );
    assert_eq!(logs.counters().rate_limited(), 3);
    logs.shutdown();
}

#[test]
fn only_one_critical_is_sent_and_it_is_never_rate_limited() {
    let platform = LocalPlatform::start().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let logs = shipper(&platform, &clock, 1);
    logs.log(Level::Critical, "cannot authenticate");
    assert!(
        platform.wait_for(WAIT, |requests| requests.len() == 1),
        "at once"
    );
    assert!(logs.critical_sent());
    logs.log(Level::Critical, "cannot authenticate"); // downgraded
    logs.log(Level::Critical, "cannot authenticate"); // downgraded, then limited
    logs.log(Level::Critical, "still failing");
    logs.flush();
    let sent: Vec<(Value, Value)> = batches(&platform)
        .iter()
        .flatten()
        .map(|log| (log["level"].clone(), log["message"].clone()))
        .collect();
    assert_eq!(
        sent,
        [
            (json!("critical"), json!("cannot authenticate")),
            (json!("error"), json!("cannot authenticate")),
            (json!("error"), json!("still failing")),
        ]
    );
    logs.shutdown();
}

#[test]
fn a_failed_log_send_is_put_back_and_shutdown_flushes() {
    let platform = LocalPlatform::start().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let logs = shipper(&platform, &clock, 1);
    platform.inject(Fault::status(500).on_path_suffix("/logs"));
    logs.log(Level::Error, "first");
    assert!(platform.wait_for(WAIT, |requests| requests.len() == 1));
    logs.log(Level::Info, "second");
    assert_eq!(logs.pending(), 2, "put back");
    logs.shutdown();
    // The final flush sends both, in order.
    let sent: Vec<Value> = batches(&platform)
        .iter()
        .flatten()
        .map(|log| log["message"].clone())
        .collect();
    assert_eq!(sent, [json!("first"), json!("second")]);
    assert_eq!(logs.pending(), 0);
}
