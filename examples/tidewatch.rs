//! The Tidewatch module (`tests/fixtures/tidewatch/python/`) ported from
//! Python: the worked example of `docs/migrating.md`, proved by
//! `tests/migrate.rs` (manifests unchanged, traffic identical).

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::action::{AccountValidator, ActionResult, NotValid, ValidationError};
use sekoia_automation::typestate::Registered;
use sekoia_automation::vendor::{Api, RetryPolicy, VendorRequest, urljoin};
use sekoia_automation::{Action, ActionContext, Module, Secret, config::Documented};
use serde::{Deserialize, Serialize};

/// The module configuration; `manifest.json` documents it by hand
/// (`Documented`), so its schema there is kept as it is.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Config {
    pub api_key: Secret<String>,
    pub base_url: String,
}

/// The configuration as the module's items see it.
pub type Configuration = Documented<Config>;
type Ctx<'a> = ActionContext<'a, Configuration>;

/// `ResolveArguments` of the Python module (a pydantic model: the
/// manifest's schema was generated, so the code states it).
#[derive(Deserialize, JsonSchema)]
pub struct ResolveArguments {
    /// The domain to resolve
    pub domain: String,
    #[serde(default = "default_record_types")]
    pub record_types: Vec<String>,
}

fn default_record_types() -> Vec<String> {
    vec!["A".into(), "AAAA".into()]
}

/// One address a domain resolved to.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Resolution {
    pub address: String,
    pub first_seen: Option<String>,
}

/// `ResolveResults` of the Python module.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ResolveResults {
    pub domain: String,
    pub resolutions: Vec<Resolution>,
}

/// `requests.get(url, headers={"Authorization": f"Bearer {api_key}"})`:
/// one attempt, as a plain `requests` call.
fn get(ctx: &Ctx, url: String) -> VendorRequest {
    let bearer = format!("Bearer {}", ctx.configuration().api_key.expose());
    let request = ctx.vendor().get(url).header("Authorization", bearer);
    request.retry(RetryPolicy::never())
}

/// `ResolveDomain` of the Python module: its uuid, file name and
/// `docker_parameters` are what the Python generator derived (uuid5 of the
/// name, the name, the class name), so nothing needs stating.
pub struct ResolveDomain;

impl Action for ResolveDomain {
    type ModuleConfiguration = Configuration;
    type Arguments = ResolveArguments;
    type Results = ResolveResults;
    const NAME: &'static str = "Resolve domain";
    const DESCRIPTION: &'static str = "Resolve a domain with Tidewatch’s passive DNS";

    fn run(&self, ctx: &Ctx, args: ResolveArguments) -> ActionResult<ResolveResults> {
        let base = ctx.configuration().base_url.trim_end_matches('/');
        let request = get(ctx, format!("{base}/dns/{}", args.domain));
        let request = request.query("types", args.record_types.join(","));
        Ok(request.send_json::<ResolveResults>().into())
    }
}

/// `TidewatchAccountValidator`: valid when `GET account` answers 200.
pub struct CheckAccount;

impl AccountValidator for CheckAccount {
    type ModuleConfiguration = Configuration;

    fn validate(&self, ctx: &Ctx) -> Result<(), ValidationError> {
        let url = urljoin(&ctx.configuration().base_url, "account");
        let response = get(ctx, url).allow_error_status().send()?;
        let valid = response.status() == 200;
        valid.then_some(()).ok_or_else(|| NotValid.into())
    }
}

/// Registers the items on `module` under the Python module's commands
/// (`main.py`'s `module.register`). The three `GenericAPIAction`s are one
/// value each: their name, description and uuid stay in their hand-written
/// manifests, found by `docker_parameters` (the command).
pub fn register(module: Module<Configuration>) -> Module<Configuration, Registered> {
    module
        .register(
            "get-host",
            Api::get("host/{ip}").query(&["history", "minify"]),
        )
        .register("search-hosts", Api::get("search").query(&["query", "page"]))
        .register("tag-host", Api::post("host/{ip}/tags"))
        .register("ResolveDomain", ResolveDomain)
        .register_account_validator(CheckAccount)
}

#[allow(dead_code)]
fn main() -> ExitCode {
    register(Module::new()).run()
}
