//! The local platform's asset-management routes: the push of an asset
//! connector and the tasks that track it.
//!
//! | Request | Answer |
//! | --- | --- |
//! | `POST /api/v2/asset-management/asset-connector/<uuid>` | `200 {"task_id": "<uuid>"}` when the body is an object with a `version` and an `items` list; `400` otherwise |
//! | `GET /api/v1/tasks/<id>` | `200 {"uuid": "<id>", "status": ..., "error"?: ...}` as [`AssetTasks`] says |
//!
//! Both need `Authorization: Bearer <token>` (the connector's
//! `sekoia_api_key` is the platform's [token](super::LocalPlatform::token)).
//! The task ids are made from the push's rank (the n-th push recorded): the
//! same pushes get the same ids, so two runs (a Rust connector and its
//! Python original) can be compared.

use serde_json::json;

/// The path of the pushes, before the connector configuration's uuid.
pub(crate) const PUSH_PREFIX: &str = "/api/v2/asset-management/asset-connector/";
/// The path of the tasks, before a task's id.
pub(crate) const TASKS_PREFIX: &str = "/api/v1/tasks/";

/// What `GET /api/v1/tasks/<id>` answers.
///
/// ```
/// use sekoia_automation::testing::{AssetTasks, LocalPlatform};
///
/// let platform = LocalPlatform::start()?;
/// platform.set_asset_tasks(AssetTasks::Failed("no space left".into()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetTasks {
    /// `{"status": "FINISHED"}` (the default).
    #[default]
    Finished,
    /// `{"status": "FAILED", "error": <text>}`.
    Failed(String),
    /// `{"status": "RUNNING"}`: the task never ends.
    Running,
}

/// A routed asset request.
#[derive(Debug)]
pub(crate) enum AssetAnswer {
    /// A push accepted: its task's id is made from the push's rank.
    Pushed,
    /// A task's status.
    Task(String),
}

/// Whether the path is one of the asset routes (they need the token).
pub(crate) fn is_asset_route(path: &str) -> bool {
    path.starts_with(PUSH_PREFIX) || path.starts_with(TASKS_PREFIX)
}

/// Routes an asset request; `None` when the path is not an asset route.
pub(crate) fn plan(
    method: &str,
    path: &str,
    body: &[u8],
) -> Option<Result<AssetAnswer, (u16, String)>> {
    if let Some(uuid) = path.strip_prefix(PUSH_PREFIX) {
        if method != "POST" || uuid.is_empty() || uuid.contains('/') {
            return Some(Err((404, format!("no route for {method} {path}"))));
        }
        // Checked without building the assets: a push of 100,000 devices
        // is tens of megabytes.
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Push {
            version: i64,
            items: Vec<serde::de::IgnoredAny>,
        }
        let valid = serde_json::from_slice::<Push>(body).is_ok();
        return Some(if valid {
            Ok(AssetAnswer::Pushed)
        } else {
            Err((
                400,
                "the body must be a JSON object with an integer \"version\" and an \"items\" list"
                    .to_owned(),
            ))
        });
    }
    if let Some(id) = path.strip_prefix(TASKS_PREFIX) {
        if method != "GET" || id.is_empty() || id.contains('/') {
            return Some(Err((404, format!("no route for {method} {path}"))));
        }
        return Some(Ok(AssetAnswer::Task(id.to_owned())));
    }
    None
}

/// The pushes recorded so far.
pub(crate) fn pushes(requests: &[super::recorded::RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|request| request.path.starts_with(PUSH_PREFIX))
        .count()
}

/// The task id of the push recorded at `rank`.
pub(crate) fn task_id(rank: usize) -> String {
    format!("00000000-0000-4000-8000-{rank:012}")
}

/// Writes the answer of an asset route.
pub(crate) fn write(answer: &AssetAnswer, tasks: &AssetTasks, rank: usize, out: &mut Vec<u8>) {
    let value = match answer {
        AssetAnswer::Pushed => json!({"task_id": task_id(rank)}),
        AssetAnswer::Task(id) => match tasks {
            AssetTasks::Finished => json!({"uuid": id, "status": "FINISHED"}),
            AssetTasks::Failed(error) => json!({"uuid": id, "status": "FAILED", "error": error}),
            AssetTasks::Running => json!({"uuid": id, "status": "RUNNING"}),
        },
    };
    serde_json::to_writer(out, &value).expect("a JSON value serializes");
}
