//! An embedded Sekoia.io platform, on `127.0.0.1`, for tests and local runs.
//!
//! [`LocalPlatform`] is a small HTTP/1.1 server playing the platform's side of
//! the module protocol: it answers what a module sends (status PATCHes, events,
//! logs, secrets, intake batches), records every request as a
//! [`RecordedRequest`] for assertions, and can misbehave on demand with
//! [`Fault`] rules (error statuses, dropped connections, delays, at random or
//! not). [`Sandbox`] lays out a temporary module environment (configuration
//! root, data directory, manifest) wired to a platform, so that a module can
//! run against it in-process or as a child process.
//!
//! # Routes
//!
//! Any path prefix is accepted: the platform routes on the path's last segment
//! and the method, ignoring the query string.
//!
//! | Request | Answer |
//! | --- | --- |
//! | `PATCH …/callback` | `200 {}`; with `"need_secrets": true` or `"status": "running"` in the body, `200 {"module_configuration": {"value": <secrets>}}` |
//! | `POST …/callback` (trigger events) | `200 {}` |
//! | `POST …/logs` | `200 {}` |
//! | `GET …/secrets` | `200 {"value": <secrets>}`, plus `"node_value"` when [set](LocalPlatform::set_node_secrets) |
//! | `POST …/envelope` (Sentry, `/api/<project>/envelope/`) | `200 {}` with the `X-Sentry-Auth` of [`LocalPlatform::sentry_dsn`] (`401` without); `400` for a body that is not an envelope; events listed by [`LocalPlatform::sentry_events`] |
//! | `POST …/batch` (connector intake) | `200 {"event_ids": [<one UUIDv4 per element of "jsons">]}`; `400` without a `jsons` list; `413` for a body over [`MAX_BATCH_BYTES`] (10 MiB) |
//! | `POST /api/v2/asset-management/asset-connector/<uuid>` (asset connector push) | `200 {"task_id": "<uuid>"}`; `400` without an integer `version` and an `items` list |
//! | `GET /api/v1/tasks/<id>` (an asset push's task) | `200 {"uuid", "status"}`: `FINISHED`, or as [set](LocalPlatform::set_asset_tasks) ([`AssetTasks`]) |
//! | anything else | `404` |
//!
//! Callback, logs, secrets and asset requests need `Authorization: Bearer <token>`
//! ([`LocalPlatform::token`]), else `401 {"message": ...}`; intake batches need
//! none. Callback and logs bodies must be JSON objects, else `400`. Error
//! answers are `{"message": ...}`. Every answer is JSON with a
//! `Content-Length`; connections are kept alive (HTTP/1.1 default,
//! `Connection: close` honoured); request bodies may be chunked;
//! `Expect: 100-continue` is answered. A request head over
//! [`MAX_HEAD_BYTES`] is refused with `431`, a body over [`MAX_BODY_BYTES`]
//! with `413`.
//!
//! # Example
//!
//! ```
//! use sekoia_automation::testing::{Fault, LocalPlatform};
//! use serde_json::json;
//!
//! let platform = LocalPlatform::start()?;
//! platform.set_secrets(json!({"api_key": "s3cr3t"}));
//!
//! // What an action sends first, when its manifest declares secrets.
//! let mut response = ureq::patch(platform.callback_url())
//!     .header("Authorization", format!("Bearer {}", platform.token()))
//!     .header("Content-Type", "application/json")
//!     .send(r#"{"status": "running", "need_secrets": true}"#)?;
//! assert_eq!(response.status(), 200);
//! let answer: serde_json::Value =
//!     serde_json::from_str(&response.body_mut().read_to_string()?)?;
//! assert_eq!(answer, json!({"module_configuration": {"value": {"api_key": "s3cr3t"}}}));
//!
//! let requests = platform.requests();
//! assert_eq!(requests.len(), 1);
//! assert_eq!(requests[0].method, "PATCH");
//! assert_eq!(requests[0].path, "/api/v1/symphony/callback");
//! assert_eq!(requests[0].json(), Some(json!({"status": "running", "need_secrets": true})));
//!
//! // The run was already closed on the platform's side.
//! platform.inject(Fault::status(409).on_method("PATCH").when_json("status", json!("finished")));
//! let refused = ureq::patch(platform.callback_url())
//!     .header("Authorization", format!("Bearer {}", platform.token()))
//!     .send(r#"{"status": "finished"}"#);
//! assert!(matches!(refused, Err(ureq::Error::StatusCode(409))));
//! assert_eq!(platform.requests()[1].status, 409);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! # Testing a trigger or a connector
//!
//! A trigger or a connector is tested in the test's own process, no binary
//! built: a [`Sandbox`] holds its configuration, `Module::with_settings`
//! (`sandbox.settings()`) runs it with
//! [`run_command`](crate::Module::run_command), and the [`LocalPlatform`]
//! records what it sent. The item ends its run with `ctx.stop()` (or the
//! settings' `max_events`); a time rule is driven by a [`ManualClock`] in
//! its options, and the clocks themselves, [`Clock`](crate::trigger::Clock) and
//! [`SystemClock`](crate::trigger::SystemClock), are at the crate's root.
//!
//! ```
//! use sekoia_automation::testing::{LocalPlatform, Sandbox};
//! use sekoia_automation::{Module, Trigger, TriggerContext, TriggerError};
//! use serde_json::{Value, json};
//!
//! struct Alerts;
//!
//! impl Trigger for Alerts {
//!     type ModuleConfiguration = Value;
//!     type Configuration = Value;
//!     type Event = Value;
//!     const NAME: &'static str = "Alerts";
//!     const DESCRIPTION: &'static str = "Send the configured alert";
//!
//!     fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
//!         ctx.send_event("alert", &ctx.configuration()["alert"])?;
//!         ctx.stop();
//!         Ok(())
//!     }
//! }
//!
//! let platform = LocalPlatform::start()?;
//! let sandbox = Sandbox::new(&platform)?;
//! sandbox.set("module_configuration", "{}")?;
//! sandbox.set_json("trigger_configuration", &json!({"alert": {"id": 7}}))?;
//! // No liveness or metrics server on a fixed port.
//! sandbox.set("liveness_port", "0")?;
//! sandbox.set("metrics_port", "0")?;
//! let code = Module::<Value>::with_settings(sandbox.settings())
//!     .register("alerts", Alerts)
//!     .run_command("alerts");
//! assert_eq!(code, std::process::ExitCode::SUCCESS);
//! let events: Vec<Value> = platform
//!     .requests()
//!     .iter()
//!     .filter(|request| request.method == "POST" && request.route() == "callback")
//!     .filter_map(|request| request.json())
//!     .collect();
//! assert_eq!(events[0]["event"], json!({"id": 7}));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A connector is run the same way, with its `connector_configuration`
//! (an `intake_key`; the events go to the sandbox's `intake_url`): its
//! batches are the platform's `POST …/batch` requests.

mod assets;
mod batch;
mod fake_vendor;
mod fault;
mod recorded;
mod sandbox;
mod server;

pub use crate::trigger::clock::ManualClock;
pub use assets::AssetTasks;
pub use fake_vendor::{FakeVendor, Reply};
pub use fault::Fault;
/// The local platform's pseudo-random numbers, for the crate's tests too.
#[cfg(test)]
pub(crate) use fault::splitmix64;
pub use recorded::RecordedRequest;
pub use sandbox::Sandbox;
pub use server::{LocalPlatform, MAX_BATCH_BYTES, MAX_BODY_BYTES, MAX_HEAD_BYTES};
