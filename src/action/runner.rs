//! The lifecycle of an action and of an account validator ([protocol §3](crate::protocol#3-actions)):
//! running PATCH (secrets fetched and merged), the item's code, finished PATCH.

use std::process::ExitCode;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::action::validator::AccountValidator;
use crate::action::{Action, ActionContext};
use crate::config::manifest::Manifest;
use crate::config::source::ConfigurationError;
use crate::runtime::environment::{Callback, Environment};
use crate::wire::logging::{self, Capture, Level};
use crate::wire::redact;
use crate::wire::report::ActionReport;

/// Runs an action and reports to the platform. Exit code: success when the
/// finished PATCH was delivered (or answered 409: the run was already closed).
pub(crate) fn run_action<A: Action>(action: &A, environment: &Environment) -> ExitCode {
    let callback = match environment.callback() {
        Ok(callback) => callback,
        Err(error) => return cannot_report(&error),
    };
    let capture = Capture::start();
    let (ended, secrets) = execute_action(action, environment, &callback, &capture);
    let mut records = capture.records();
    drop(capture);
    let mut report = match ended {
        Ok(outcome) => {
            if outcome.error_was_raised()
                && let Some(error) = outcome.error()
            {
                // Python's `execute` reports a raised exception; `self.error()` is not reported.
                crate::runtime::sentry::capture_exception("ActionError", error);
            }
            warn_undeclared_branches(A::OUTPUTS, outcome.outputs(), &mut records);
            outcome.into_report(&records)
        }
        Err(details) => {
            logging::echo_to_stderr(Level::Error, &details);
            crate::runtime::sentry::capture_exception("ActionError", &details);
            ActionReport::unexpected(&details, &records)
        }
    };
    report.secrets = secrets;
    match callback.client.patch_json(&callback.url, &report) {
        Err(error) if error.status() == Some(413) && report.results.is_some() => {
            // The platform refused the size of the report: close the run
            // with an error that says so, rather than leave it running.
            let size = report.to_body().map_or(0, |body| body.len());
            let refused = report.without_results(format!(
                "the results are too large for the platform: it refused the {size}-byte report \
                 (HTTP 413). Return fewer results, or write them to a file with \
                 `ActionContext::json_result`"
            ));
            deliver(&callback, &refused)
        }
        sent => settle(sent),
    }
}

type Ended<R> = (
    Result<crate::Outcome<R>, String>,
    Option<Map<String, Value>>,
);

fn execute_action<A: Action>(
    action: &A,
    environment: &Environment,
    callback: &Callback,
    capture: &Capture,
) -> Ended<A::Results> {
    let prepared = match prepare::<A::ModuleConfiguration>(environment, callback, true) {
        Ok(prepared) => prepared,
        Err(details) => return (Err(details), None),
    };
    let (arguments, text) = match environment.source.optional_json_and_text("arguments") {
        Ok(Some(both)) => both,
        Ok(None) => {
            return (
                Err(environment.source.missing("arguments").to_string()),
                None,
            );
        }
        Err(error) => return (Err(error.to_string()), None),
    };
    // Typed from the text, not from the `Value`: a `u128` or an exact JSON
    // type keeps an integer beyond 64 bits that a `Value` rounds without
    // the `exact-numbers` feature.
    let typed_arguments = match serde_json::from_str::<A::Arguments>(&text) {
        Ok(typed) => typed,
        Err(error) => {
            return (
                Err(format!(
                    "the arguments do not match `{}`: {error}",
                    crate::config::documented::author_type_name::<A::Arguments>()
                )),
                None,
            );
        }
    };
    let data_directory = match environment.data_directory() {
        Ok(data_directory) => data_directory,
        Err(details) => return (Err(details), None),
    };
    let ctx = ActionContext::in_run(
        &prepared.configuration,
        &arguments,
        &data_directory,
        capture.sink().clone(),
        prepared.manifest.secrets(),
        environment.settings.clone(),
    );
    let outcome = crate::runtime::panic::catch_panic(|| {
        action
            .run(&ctx, typed_arguments)
            .unwrap_or_else(crate::Outcome::from)
    });
    let updated = ctx.take_updated_secrets();
    let secrets = (!updated.is_empty()).then(|| {
        let mut secrets: Map<String, Value> = prepared
            .manifest
            .secrets()
            .iter()
            .filter_map(|name| {
                prepared
                    .raw
                    .get(name)
                    .map(|value| (name.clone(), value.clone()))
            })
            .collect();
        secrets.extend(updated);
        secrets
    });
    (outcome, secrets)
}

/// Runs the account validator and reports `{"success": bool}`.
pub(crate) fn run_validator<V: AccountValidator>(
    validator: &V,
    environment: &Environment,
) -> ExitCode {
    let callback = match environment.callback() {
        Ok(callback) => callback,
        Err(error) => return cannot_report(&error),
    };
    let result = prepare::<V::ModuleConfiguration>(environment, &callback, false)
        .map_err(Some)
        .and_then(|prepared| {
            let data_directory = environment.data_directory().map_err(Some)?;
            let ctx = ActionContext::in_run(
                &prepared.configuration,
                &Value::Null,
                &data_directory,
                Default::default(),
                prepared.manifest.secrets(),
                environment.settings.clone(),
            );
            crate::runtime::panic::catch_panic(|| validator.validate(&ctx))
                .map_err(|panic| Some(format!("An unexpected error occurred: {panic}")))?
                .map_err(|error| {
                    // `NotValid`: `validate()` returning `False` in Python,
                    // without an error message.
                    (!error.is::<crate::action::validator::NotValid>())
                        .then(|| redact::scrub(&error.to_string()).into_owned())
                })
        });
    let body = match result {
        Ok(()) => crate::wire::bodies::validation_finished(true, None),
        Err(Some(error)) => {
            crate::wire::bodies::validation_finished(false, Some(&redact::scrub(&error)))
        }
        Err(None) => crate::wire::bodies::validation_finished(false, None),
    };
    deliver(&callback, &body)
}

/// The manifest, the configuration with its secrets merged in.
struct Prepared<C> {
    manifest: Manifest,
    configuration: C,
    raw: Value,
}

/// Reads the manifest, sends the running PATCH (asking for the secrets when
/// the manifest declares some and `ask_secrets`) and loads the configuration.
fn prepare<C: DeserializeOwned + JsonSchema>(
    environment: &Environment,
    callback: &Callback,
    ask_secrets: bool,
) -> Result<Prepared<C>, String> {
    let manifest = environment.manifest().map_err(|e| e.to_string())?;
    let body = crate::wire::bodies::running(ask_secrets && manifest.has_secrets());
    let answer = callback
        .client
        .patch_json(&callback.url, &body)
        .map_err(|error| {
            // The Python SDK's `_log_request_error`: the failed request is
            // an `error` record in the finished PATCH's logs (captured on
            // this thread), besides the run's error.
            log::error!("An exception occurred\n{error}");
            error.to_string()
        })?;
    let mut secrets = Map::new();
    if manifest.has_secrets() {
        let answer: Value = answer.json().unwrap_or(Value::Null);
        match crate::wire::bodies::secrets_of_running_answer(&answer) {
            Some(values) => {
                secrets = values
                    .iter()
                    .filter(|(name, _)| manifest.secrets().contains(name))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
            }
            _ if ask_secrets => {
                return Err(format!(
                    "the platform's answer to the running PATCH on {} has no `module_configuration.value` with the secrets",
                    callback.url
                ));
            }
            _ => {}
        }
    }
    let (configuration, raw) = crate::runtime::configuration::load_module_configuration::<C>(
        environment,
        &manifest,
        secrets,
        crate::runtime::configuration::ModuleReader::Action,
    )
    .map_err(|e| e.to_string())?;
    Ok(Prepared {
        manifest,
        configuration,
        raw,
    })
}

/// Sends the finished PATCH; a 409 means the run was already closed.
fn deliver(callback: &Callback, body: &impl Serialize) -> ExitCode {
    settle(callback.client.patch_json(&callback.url, body))
}

/// The exit code for the finished PATCH's result.
fn settle(sent: Result<crate::wire::http::Response, crate::wire::http::HttpError>) -> ExitCode {
    match sent {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) if error.status() == Some(409) => {
            log::info!("the platform had already closed this run (409): {error}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            logging::echo_to_stderr(
                Level::Error,
                &format!("cannot report the end of the run: {error}"),
            );
            ExitCode::FAILURE
        }
    }
}

fn cannot_report(error: &ConfigurationError) -> ExitCode {
    logging::echo_to_stderr(
        Level::Critical,
        &format!("cannot report to the platform: {error}"),
    );
    eprintln!(
        "error: cannot report to the platform: {}",
        redact::scrub(&error.to_string())
    );
    ExitCode::FAILURE
}

/// Adds a `warning` record for each activated branch that a non-empty
/// declared list does not name (the branch is still sent).
pub(crate) fn warn_undeclared_branches(
    declared: &[&str],
    outputs: &[(String, bool)],
    records: &mut Vec<crate::wire::logging::LogRecord>,
) {
    if declared.is_empty() {
        return;
    }
    for (branch, active) in outputs {
        if *active && !declared.contains(&branch.as_str()) {
            let message = format!(
                "the branch `{branch}` was activated but the action declares only {}: add it to `Action::OUTPUTS` (and run generate-files) so that the playbook editor shows it",
                declared
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            crate::wire::logging::echo_to_stderr(crate::wire::logging::Level::Warning, &message);
            records.push(crate::wire::logging::LogRecord::new(
                crate::wire::logging::Level::Warning,
                &message,
            ));
        }
    }
}
