//! The automation library's `Delinea` module: an `AsyncConnector` (aiohttp,
//! `push_data_to_intakes`) collecting the audit events of Delinea PRA from a
//! date checkpoint, made a blocking `Connector` with the same wire
//! (docs/migrating.md, "From an `AsyncConnector`").

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sekoia_automation::connector::Timestamp;
use sekoia_automation::vendor::{Auth, Json, OAuth2ClientCredentials, VendorClient};
use sekoia_automation::{Connector, ConnectorContext, Level, Module, Secret, TriggerError};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
struct DelineaModuleConfiguration {
    client_id: String,
    client_secret: Secret<String>,
    base_url: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct DelineaPraConnectorConfig {
    #[serde(default = "sixty")]
    frequency: u64,
    #[serde(default = "thousand")]
    chunk_size: usize,
}

fn sixty() -> u64 {
    60
}

fn thousand() -> usize {
    1000
}

type Ctx<'a> = ConnectorContext<'a, DelineaPraConnector>;

const SEVEN_DAYS: Duration = Duration::from_secs(7 * 86_400);

/// `datetime.isoformat()` of an aware UTC date.
fn isoformat(date: Timestamp) -> String {
    format!("{}+00:00", date.to_iso8601())
}

#[derive(Default)]
struct DelineaPraConnector {
    /// The ids of the last 500 events forwarded, kept in `context.json`.
    events_cache: VecDeque<String>,
}

impl DelineaPraConnector {
    fn client(ctx: &Ctx) -> Result<VendorClient, TriggerError> {
        let module = ctx.module_configuration();
        let token_url = format!("{}/identity/api/oauth2/token/xpmplatform", module.base_url);
        let credentials = OAuth2ClientCredentials::new(
            token_url,
            &module.client_id,
            module.client_secret.clone(),
        );
        let auth = Auth::oauth2(credentials.scope("xpmheadless").credentials_in_body());
        Ok(ctx.vendor_client().auth(auth).build()?)
    }

    /// `DelineaClient.get_audit_events`: every page from `start_date` to `end_date`.
    fn audit_events(
        ctx: &Ctx,
        client: &VendorClient,
        start_date: Timestamp,
        page: u64,
    ) -> Result<Vec<Json>, TriggerError> {
        // `urlencode` as aiohttp sends it: `:` left as is, `+` escaped.
        let (start, end) = (isoformat(start_date), isoformat(ctx.now()));
        let query = format!(
            "StartDateTime={start}&Page={page}&PageSize=1000&api-version=2.0&EndDateTime={end}"
        );
        let url = format!(
            "{}/audit/api/audit-events?{}",
            ctx.module_configuration().base_url,
            query.replace('+', "%2B")
        );
        let response = client.get(url).allow_error_status().send()?;
        if response.status() != 200 {
            return Err(TriggerError::msg(format!(
                "Error {}: {}",
                response.status(),
                response.text()
            )));
        }
        Ok(response.exact_json()?["auditEvents"]
            .as_array()
            .unwrap_or_default()
            .to_vec())
    }

    fn push(
        &mut self,
        ctx: &Ctx,
        events: &mut Vec<Json>,
        checkpoint_to: Timestamp,
    ) -> Result<(), TriggerError> {
        let acknowledged = ctx.push_events(events.drain(..))?;
        let cached: Vec<&String> = self.events_cache.iter().collect();
        ctx.context_file()
            .update(|context| context.insert("cached_events".into(), serde_json::json!(cached)))?;
        let mut checkpoint = ctx
            .checkpoint_datetime()
            .start_at(SEVEN_DAYS)
            .ignore_older_than(Some(SEVEN_DAYS));
        checkpoint.advance(checkpoint_to, &acknowledged)?;
        Ok(())
    }

    fn get_events(&mut self, ctx: &Ctx, client: &VendorClient) -> Result<usize, TriggerError> {
        let checkpoint = ctx.checkpoint_datetime().start_at(SEVEN_DAYS);
        let start_date = checkpoint.ignore_older_than(Some(SEVEN_DAYS)).offset()?;
        let (mut new_start_date, mut total_events, mut events) = (start_date, 0, Vec::new());
        for page in 1.. {
            let page_events = Self::audit_events(ctx, client, start_date, page)?;
            if page_events.is_empty() {
                break;
            }
            for event in page_events {
                if let Some(id) = event["eventMessageId"].as_str() {
                    if self.events_cache.iter().any(|seen| seen == id) {
                        continue;
                    }
                    self.events_cache.push_back(id.to_owned());
                    self.events_cache
                        .drain(..self.events_cache.len().saturating_sub(500));
                }
                let date = event["eventDateTime"]
                    .as_str()
                    .and_then(Timestamp::parse_iso8601);
                new_start_date = new_start_date.max(date.unwrap_or(new_start_date));
                events.push(event);
                if events.len() >= ctx.configuration().chunk_size {
                    total_events += events.len();
                    self.push(ctx, &mut events, new_start_date)?;
                }
            }
        }
        if !events.is_empty() {
            total_events += events.len();
            self.push(ctx, &mut events, new_start_date)?;
        }
        match total_events {
            0 => ctx.log(Level::Info, "No new events fetched from Delinea PRA"),
            total => ctx.log(
                Level::Info,
                format!("Fetched {total} events from Delinea PRA"),
            ),
        }
        Ok(total_events)
    }
}

impl Connector for DelineaPraConnector {
    type ModuleConfiguration = DelineaModuleConfiguration;
    type Configuration = DelineaPraConnectorConfig;
    type Event = Json;
    const NAME: &'static str = "";
    const DESCRIPTION: &'static str = "";

    fn run(&mut self, ctx: &Ctx) -> Result<(), TriggerError> {
        let cached = ctx.context_file().get("cached_events")?.unwrap_or_default();
        let cached = cached
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str());
        self.events_cache = cached.map(str::to_owned).collect();
        let client = Self::client(ctx)?;
        while ctx.running() {
            let duration_start = Instant::now();
            let results = self.get_events(ctx, &client).unwrap_or_else(|error| {
                ctx.log(
                    Level::Error,
                    format!("Error while running Delinea PRA: {error}"),
                );
                0
            });
            let data_sleep = ctx
                .configuration()
                .frequency
                .saturating_sub(duration_start.elapsed().as_secs());
            if results == 0 && data_sleep > 0 {
                ctx.sleep(Duration::from_secs(data_sleep));
            }
        }
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    Module::<DelineaModuleConfiguration>::new()
        .register("delinea_pra", DelineaPraConnector::default())
        .run()
}
