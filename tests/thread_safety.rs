//! What the crate promises about threads (issue 24.8): every context is
//! `Send + Sync`, so that an item fanning work out with
//! `std::thread::scope` hands `&ctx` to its workers; `Module` is `Send`.
//! The compile-time assertions below are the promise; the tests run it
//! against the local platform.

#[path = "support/trigger.rs"]
mod trigger_support;

use sekoia_automation::asset::{AssetConnector, AssetConnectorContext, Assets};
use sekoia_automation::connector::TimeWindows;
use sekoia_automation::{ActionContext, Connector, ConnectorContext};
use trigger_support::*;

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

struct Poller;

impl Trigger for Poller {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Poller";
    const DESCRIPTION: &'static str = "Poll";

    fn run(&mut self, _: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

struct Forwarder;

impl Connector for Forwarder {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Forwarder";
    const DESCRIPTION: &'static str = "Forward";

    fn run(&mut self, _: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

struct Devices;

impl AssetConnector for Devices {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Checkpoint = u64;
    const NAME: &'static str = "Devices";
    const DESCRIPTION: &'static str = "Devices";

    fn get_assets(&mut self, _: &mut Assets<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

#[test]
fn every_context_is_send_and_sync() {
    assert_send_sync::<ActionContext<'static, Value>>();
    assert_send_sync::<TriggerContext<'static, Poller>>();
    assert_send_sync::<ConnectorContext<'static, Forwarder>>();
    assert_send_sync::<AssetConnectorContext<'static, Devices>>();
    assert_send_sync::<TimeWindows<'static, 'static, Forwarder>>();
    assert_send::<Module<Value>>();
}

/// Four workers of one trigger run send events, log and check the stop
/// through `&ctx`, against a platform that fails some requests and drops
/// some connections: every event arrives once, each with its own
/// `request_id`, kept across the retries of that event.
#[test]
fn a_trigger_sends_from_four_scoped_threads_and_every_event_arrives_once() {
    const WORKERS: u64 = 4;
    const PER_WORKER: u64 = 100;
    let env = Env::new();
    env.platform.seed(2408);
    env.platform.inject(
        Fault::status(503)
            .always()
            .on_method("POST")
            .on_path_suffix("/callback")
            .with_probability(0.2),
    );
    env.platform.inject(
        Fault::drop_connection()
            .always()
            .on_method("POST")
            .on_path_suffix("/callback")
            .with_probability(0.05),
    );
    let code = env.run(Scripted::new(|ctx, _| {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|worker| {
                    scope.spawn(move || -> Result<(), SendEventError> {
                        for i in 0..PER_WORKER {
                            if !ctx.running() {
                                break;
                            }
                            ctx.send_event("fan-out", &json!({"worker": worker, "i": i}))?;
                            ctx.heartbeat();
                        }
                        ctx.log(Level::Info, format!("worker {worker} done"));
                        Ok(())
                    })
                })
                .collect();
            workers
                .into_iter()
                .try_for_each(|worker| worker.join().expect("the worker did not panic"))
        })?;
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);

    let mut accepted: HashMap<(u64, u64), usize> = HashMap::new();
    let mut request_ids: HashMap<(u64, u64), HashSet<String>> = HashMap::new();
    let mut retried = 0;
    for request in env.requests("callback") {
        let body = request.json().unwrap();
        let event = (
            body["event"]["worker"].as_u64().unwrap(),
            body["event"]["i"].as_u64().unwrap(),
        );
        request_ids
            .entry(event)
            .or_default()
            .insert(body["request_id"].as_str().unwrap().to_string());
        match request.status {
            200 => *accepted.entry(event).or_default() += 1,
            _ => retried += 1,
        }
    }
    assert!(retried > 0, "the faults were met");
    assert_eq!(
        accepted.len() as u64,
        WORKERS * PER_WORKER,
        "every event arrived"
    );
    assert!(accepted.values().all(|&count| count == 1), "exactly once");
    assert!(
        request_ids.values().all(|ids| ids.len() == 1),
        "every retry of an event carries its request_id"
    );
    let distinct: HashSet<&String> = request_ids.values().flatten().collect();
    assert_eq!(
        distinct.len() as u64,
        WORKERS * PER_WORKER,
        "a request_id per event"
    );
    let logs = env.logs();
    for worker in 0..WORKERS {
        assert!(
            has_log(&logs, "info", &format!("worker {worker} done")),
            "{logs:?}"
        );
    }
}

/// A connector that pushes from four scoped threads through `&ctx`:
/// every event reaches the intake once and each push is acknowledged.
#[test]
fn a_connector_pushes_from_four_scoped_threads() {
    const WORKERS: u64 = 4;
    const PER_WORKER: u64 = 250;
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox
        .set_json("connector_configuration", &json!({"intake_key": "KEY123"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let connector = Pushing {
        workers: WORKERS,
        per_worker: PER_WORKER,
        acknowledged: Arc::clone(&acknowledged),
    };
    let code = Module::<Value>::with_settings(sandbox.settings())
        .register("pushing", connector)
        .run_command("pushing");
    assert_eq!(code, ExitCode::SUCCESS);
    let mut acknowledged = acknowledged.lock().unwrap().clone();
    acknowledged.sort_unstable();
    assert_eq!(acknowledged, (0..WORKERS).collect::<Vec<_>>());
    let mut on_intake: HashMap<u64, usize> = HashMap::new();
    for batch in platform
        .requests()
        .into_iter()
        .filter(|request| request.route() == "batch" && request.status == 200)
    {
        for text in batch.json().unwrap()["jsons"].as_array().unwrap() {
            let event: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
            *on_intake.entry(event["n"].as_u64().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(on_intake.len() as u64, WORKERS * PER_WORKER);
    assert!(on_intake.values().all(|&count| count == 1));
}

/// Pushes `per_worker` events from each of `workers` threads, then stops.
struct Pushing {
    workers: u64,
    per_worker: u64,
    /// The workers whose push the intake acknowledged whole.
    acknowledged: Arc<Mutex<Vec<u64>>>,
}

impl Connector for Pushing {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Pushing";
    const DESCRIPTION: &'static str = "Push from threads";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let per_worker = self.per_worker;
        std::thread::scope(|scope| {
            for worker in 0..self.workers {
                let acknowledged = &self.acknowledged;
                scope.spawn(move || {
                    let events = (0..per_worker).map(|i| json!({"n": worker * per_worker + i}));
                    if ctx.push_events(events).is_ok() {
                        acknowledged.lock().unwrap().push(worker);
                    }
                });
            }
        });
        ctx.stop();
        Ok(())
    }
}
