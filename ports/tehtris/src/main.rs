//! The automation library's `Tehtris` module: a connector that polls the
//! TEHTRIS XDR events API from a date checkpoint, page by page (offset),
//! skipping the events it has already seen.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sekoia_automation::connector::Timestamp;
use sekoia_automation::vendor::{Auth, Json, RateLimit, RetryPolicy, VendorClient};
use sekoia_automation::{Connector, ConnectorContext, Level, Module, Secret, TriggerError};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, schemars::JsonSchema)]
struct TehtrisModuleConfiguration {
    apikey: Secret<String>,
    tenant_id: String,
    alternative_url: Option<String>,
}

impl TehtrisModuleConfiguration {
    fn base_url(&self) -> String {
        match self
            .alternative_url
            .as_deref()
            .map(|url| url.trim_matches('/'))
        {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => format!("https://{}.api.tehtris.net/api", self.tenant_id),
        }
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct TehtrisEventConnectorConfiguration {
    #[serde(default = "sixty")]
    frequency: u64,
    filter_id: Option<Value>,
}

fn sixty() -> u64 {
    60
}

const FETCH_EVENTS_LIMIT: usize = 100;

type Ctx<'a> = ConnectorContext<'a, TehtrisEventConnector>;

#[derive(Default)]
struct TehtrisEventConnector {
    /// The ids of the last 1000 events forwarded (`LRUCache(maxsize=1000)`).
    events_cache: VecDeque<String>,
}

impl TehtrisEventConnector {
    fn fetch_next_events(
        ctx: &Ctx,
        client: &VendorClient,
        from_date: Timestamp,
        offset: usize,
    ) -> Result<Vec<Json>, TriggerError> {
        let module = ctx.module_configuration();
        let from_date = from_date
            .micros_since_epoch()
            .div_euclid(1_000_000)
            .to_string();
        let mut request = client
            .get(format!("{}/xdr/v1/event", module.base_url()))
            .query("fromDate", from_date);
        request = request
            .query("limit", FETCH_EVENTS_LIMIT.to_string())
            .query("offset", offset.to_string());
        if let Some(filter_id) = &ctx.configuration().filter_id {
            request = request.query("filterID", Json::from(filter_id).to_python_str());
        }
        let response = request
            .header("Accept", "application/json")
            .allow_error_status()
            .send()?;
        if response.status() >= 400 {
            // Stop if we cannot authenticate against the server
            let level = if [401, 403].contains(&response.status()) {
                Level::Critical
            } else {
                Level::Error
            };
            let (status, reason, text) = (response.status(), response.reason(), response.text());
            let tenant = &module.tenant_id;
            let message = format!(
                "Request on Tehtris API to fetch events of tenant {tenant} failed with status {status} - {reason}: {text}"
            );
            ctx.log(level, message);
            return Ok(Vec::new());
        }
        let events: Vec<Json> = response
            .exact_json()?
            .as_array()
            .unwrap_or_default()
            .to_vec();
        let tenant = &module.tenant_id;
        let message = format!(
            "Got {} events from Tehtris API for tenant {tenant}with status 200",
            events.len()
        );
        ctx.log(Level::Debug, message);
        Ok(events)
    }

    fn next_batch(
        &mut self,
        ctx: &Ctx,
        client: &VendorClient,
        from_date: &mut Timestamp,
    ) -> Result<(), TriggerError> {
        let batch_start_time = Instant::now();
        let (mut offset, mut most_recent_date_seen, mut acknowledged) = (0, *from_date, None);
        loop {
            let fetched_events = Self::fetch_next_events(ctx, client, *from_date, offset)?;
            let cache = &mut self.events_cache;
            let next_events: Vec<Json> = fetched_events
                .into_iter()
                .filter(|event| !cache.contains(&event["id"].to_python_str()))
                .collect();
            for id in next_events.iter().map(|event| event["id"].to_python_str()) {
                if !cache.contains(&id) {
                    cache.push_back(id);
                }
            }
            cache.drain(..cache.len().saturating_sub(1000));
            offset += next_events.len();
            if next_events.is_empty() {
                break;
            }
            let dates = next_events
                .iter()
                .filter_map(|event| event["time"].as_str());
            let last_event_date = dates.max().and_then(Timestamp::parse_iso8601);
            most_recent_date_seen =
                most_recent_date_seen.max(last_event_date.unwrap_or(most_recent_date_seen));
            ctx.log(
                Level::Info,
                format!("Forward {} events to the intake", next_events.len()),
            );
            let has_more_message = next_events.len() == FETCH_EVENTS_LIMIT;
            acknowledged = Some(ctx.push_events(next_events)?);
            if !has_more_message {
                break;
            }
        }
        if let Some(acknowledged) = acknowledged.filter(|_| most_recent_date_seen > *from_date) {
            *from_date = most_recent_date_seen;
            let checkpoint = ctx.checkpoint_datetime().start_at(Duration::from_secs(60));
            checkpoint
                .ignore_older_than(Some(Duration::from_secs(3600)))
                .advance(*from_date, &acknowledged)?;
            ctx.set_lag(*from_date);
        }
        let batch_duration = batch_start_time.elapsed().as_secs();
        ctx.log(
            Level::Info,
            format!("Fetch and forward events in {batch_duration} seconds"),
        );
        let delta_sleep = ctx.configuration().frequency.saturating_sub(batch_duration);
        if delta_sleep > 0 {
            ctx.log(
                Level::Info,
                format!("Next batch in the future. Waiting {delta_sleep} seconds"),
            );
            ctx.sleep(Duration::from_secs(delta_sleep));
        }
        Ok(())
    }
}

impl Connector for TehtrisEventConnector {
    type ModuleConfiguration = TehtrisModuleConfiguration;
    type Configuration = TehtrisEventConnectorConfiguration;
    type Event = Json;
    const NAME: &'static str = "";
    const DESCRIPTION: &'static str = "";

    fn run(&mut self, ctx: &Ctx) -> Result<(), TriggerError> {
        let client = ctx.vendor_client().auth(Auth::basic(
            "api",
            ctx.module_configuration().apikey.clone(),
        ));
        let client = client
            .rate_limit(RateLimit::per_minute(5))
            .retry(RetryPolicy::default().retries(5).status_forcelist([]));
        let client = client.timeout(Duration::from_secs(60)).build()?;
        let checkpoint = ctx.checkpoint_datetime().start_at(Duration::from_secs(60));
        let mut from_date = checkpoint
            .ignore_older_than(Some(Duration::from_secs(3600)))
            .offset()?;
        while ctx.running() {
            self.next_batch(ctx, &client, &mut from_date)?;
        }
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    Module::<TehtrisModuleConfiguration>::new()
        .register("tehtris_events_trigger", TehtrisEventConnector::default())
        .run()
}
