//! The automation library's `Shodan` module: six `GenericAPIAction`s whose
//! `get_url` puts the API key in the query, and an account validator. Names,
//! descriptions and uuids stay in the module's manifest files.

use sekoia_automation::action::AccountValidator;
use sekoia_automation::action::{NotValid, ValidationError};
use sekoia_automation::config::Documented;
use sekoia_automation::vendor::{Api, ApiAuthentication, ApiRequest, Json, RetryPolicy, urljoin};
use sekoia_automation::{Action, ActionContext, ActionError};
use sekoia_automation::{Module, Outcome};

type Shodan = Api<Documented>;

/// `ShodanAPIAction`: the key in the query, only `Accept` as header, big integers as strings.
const fn shodan(endpoint: &'static str, query: &'static [&'static str]) -> Shodan {
    let api = Api::get(endpoint).query(query).get_url(with_key);
    api.authentication(ApiAuthentication::None)
        .stringify_big_integers()
}

fn with_key(request: &mut ApiRequest<'_>) -> Result<(), String> {
    let key = request
        .configuration("api_key")
        .map_or("None".into(), Json::to_python_str);
    request.append_query("key", &key);
    Ok(())
}

/// `GetDNSResolve` and `GetDNSReverse`: a list argument joined by commas.
fn joined(request: &mut ApiRequest<'_>, name: &str) -> Result<(), String> {
    with_key(request)?;
    let values = request
        .take_argument(name)
        .ok_or(format!("KeyError: '{name}'"))?;
    let values: Vec<String> = values
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(Json::to_python_str)
        .collect();
    request.append_query(name, &values.join(","));
    Ok(())
}

/// `GetShodanHostSearch.get_url`: the page after the key.
fn paged(request: &mut ApiRequest<'_>) -> Result<(), String> {
    with_key(request)?;
    let page = request.take_argument("page").unwrap_or_default();
    request.append_query("page", &page.to_python_str());
    Ok(())
}

const SEARCH: Shodan = shodan("shodan/host/search", &["query", "facets", "minify"]).get_url(paged);

/// `GetShodanHostSearch.run`: up to `max_pages` pages, one second apart.
struct GetShodanHostSearch;

impl Action for GetShodanHostSearch {
    type ModuleConfiguration = Documented;
    type Arguments = serde_json::Value;
    type Results = Option<Json>;
    const NAME: &'static str = "";
    const DESCRIPTION: &'static str = "";

    fn run(
        &self,
        ctx: &ActionContext<'_, Documented>,
        mut arguments: serde_json::Value,
    ) -> Result<Outcome<Option<Json>>, ActionError> {
        let max_pages = arguments
            .as_object_mut()
            .and_then(|a| a.remove("max_pages"))
            .and_then(|m| m.as_u64())
            .unwrap_or(1);
        let mut result: Option<Json> = None;
        for page in 1..=max_pages {
            arguments["page"] = page.into();
            let Some(mut page_result) = SEARCH.call(ctx, &arguments)? else {
                return Ok(Outcome::none());
            };
            let total = page_result["total"].as_f64().unwrap_or_default();
            match result
                .as_mut()
                .and_then(|r| r.get_mut("matches"))
                .and_then(Json::as_array_mut)
            {
                Some(matches) => {
                    matches.append(page_result["matches"].as_array_mut().unwrap_or(&mut vec![]))
                }
                None => result = Some(page_result),
            }
            if total / 100.0 <= page as f64 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(1)); // rate-limited to 1 request a second
        }
        Ok(Outcome::success(result))
    }
}

/// `AccountValidation`: `GET account/profile?key=...` answers 2xx.
struct AccountValidation;

impl AccountValidator for AccountValidation {
    type ModuleConfiguration = Documented;

    fn validate(&self, ctx: &ActionContext<'_, Documented>) -> Result<(), ValidationError> {
        let configuration = ctx.configuration();
        let base_url = configuration["base_url"]
            .as_str()
            .unwrap_or("https://api.shodan.io/");
        let key = configuration["api_key"].as_str().unwrap_or_default();
        let url = urljoin(base_url, &format!("account/profile?key={key}"));
        // tenacity: 10 attempts on connection errors; a status is an answer.
        let retry = RetryPolicy::default().retries(9).status_forcelist([]);
        let response = ctx
            .vendor()
            .get(url)
            .retry(retry)
            .allow_error_status()
            .send()?;
        if response.status() >= 400 {
            return Err(NotValid.into());
        }
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    Module::<Documented>::new()
        .register(
            "get-shodan/host/{ip}",
            shodan("shodan/host/{ip}", &["history", "minify"]),
        )
        .register(
            "get-shodan/host/count",
            shodan("shodan/host/count", &["query", "facets"]),
        )
        .register("get-shodan/host/search", GetShodanHostSearch)
        .register(
            "get-dns/domain/{domain}",
            shodan("dns/domain/{domain}", &[]),
        )
        .register(
            "get-dns/resolve",
            shodan("dns/resolve", &[]).get_url(|r| joined(r, "hostnames")),
        )
        .register(
            "get-dns/reverse",
            shodan("dns/reverse", &[]).get_url(|r| joined(r, "ips")),
        )
        .register_account_validator(AccountValidation)
        .run()
}
