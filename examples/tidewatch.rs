//! The Tidewatch module (`tests/fixtures/tidewatch/python/`) ported from
//! Python: the worked example of `docs/migrating.md`, proved by
//! `tests/migrate.rs` (manifests unchanged, traffic identical).

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::typestate::Registered;
use sekoia_automation::vendor::{Api, ApiAction, Method, RetryPolicy, VendorClient, VendorRequest};
use sekoia_automation::{AccountValidator, Action, ActionContext, Documented, Identity};
use sekoia_automation::{Module, NotValid, Outcome, Secret, ValidationError};
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

/// `GetHost(GenericAPIAction)` of the Python module.
pub struct GetHost;

impl ApiAction for GetHost {
    type ModuleConfiguration = Configuration;
    const NAME: &'static str = "Get host";
    const DESCRIPTION: &'static str = "Get everything Tidewatch knows about a host";
    const IDENTITY: Identity = Identity::new()
        .uuid("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52")
        .slug("get_host")
        .file("action_get_tidewatch_host.json");
    const VERB: Method = Method::Get;
    const ENDPOINT: &'static str = "host/{ip}";
    const QUERY_PARAMETERS: &'static [&'static str] = &["history", "minify"];
}

/// `SearchHosts(GenericAPIAction)` of the Python module.
pub struct SearchHosts;

impl ApiAction for SearchHosts {
    type ModuleConfiguration = Configuration;
    const NAME: &'static str = "Search hosts";
    const DESCRIPTION: &'static str = "Search the hosts matching a Tidewatch query";
    const IDENTITY: Identity = Identity::new()
        .uuid("c3f19a64-7d2b-4b8e-8f05-1e6a9c2d4b70")
        .slug("search_hosts")
        .file("action_search_tidewatch_hosts.json");
    const VERB: Method = Method::Get;
    const ENDPOINT: &'static str = "search";
    const QUERY_PARAMETERS: &'static [&'static str] = &["query", "page"];
}

/// `TagHost(GenericAPIAction)` of the Python module.
pub struct TagHost;

impl ApiAction for TagHost {
    type ModuleConfiguration = Configuration;
    const NAME: &'static str = "Tag host";
    const DESCRIPTION: &'static str = "Add tags to a host in your Tidewatch workspace";
    const IDENTITY: Identity = Identity::new()
        .uuid("5e2a8c1d-4f6b-4a93-b7d0-8c3e1f9a6b24")
        .file("action_tag_tidewatch_host.json");
    const VERB: Method = Method::Post;
    const ENDPOINT: &'static str = "host/{ip}/tags";
}

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

/// `requests.get(url, headers={"Authorization": f"Bearer {api_key}"})`.
fn get(ctx: &Ctx, url: String) -> VendorRequest {
    let client = VendorClient::builder().retry(RetryPolicy::never()).build();
    let bearer = format!("Bearer {}", ctx.configuration().api_key.expose());
    let request = client.expect("a client without a base URL builds").get(url);
    request.header("Authorization", bearer)
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

    fn run(&self, ctx: &Ctx, args: ResolveArguments) -> Outcome<ResolveResults> {
        let base = ctx.configuration().base_url.trim_end_matches('/');
        let request = get(ctx, format!("{base}/dns/{}", args.domain));
        let request = request.query("types", args.record_types.join(","));
        request.send_json::<ResolveResults>().into()
    }
}

/// `TidewatchAccountValidator`: valid when `GET account` answers 200.
pub struct CheckAccount;

impl AccountValidator for CheckAccount {
    type ModuleConfiguration = Configuration;

    fn validate(&self, ctx: &Ctx) -> Result<(), ValidationError> {
        let base = &ctx.configuration().base_url; // urljoin(base_url, "account")
        let url = match base.rfind('/') {
            Some(at) if at > base.find("//").map_or(0, |at| at + 1) => base[..=at].to_string(),
            _ => format!("{base}/"),
        };
        let response = get(ctx, url + "account").allow_error_status().send()?;
        let valid = response.status() == 200;
        valid.then_some(()).ok_or_else(|| NotValid.into())
    }
}

/// Registers the items on `module` under the Python module's commands
/// (`main.py`'s `module.register`).
pub fn register(module: Module<Configuration>) -> Module<Configuration, Registered> {
    module
        .register("get-host", Api(GetHost))
        .register("search-hosts", Api(SearchHosts))
        .register("tag-host", Api(TagHost))
        .register("ResolveDomain", ResolveDomain)
        .register_account_validator(CheckAccount)
}

#[allow(dead_code)]
fn main() -> ExitCode {
    register(Module::new()).run()
}
