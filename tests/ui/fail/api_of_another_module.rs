use sekoia_automation::Module;
use sekoia_automation::vendor::Api;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct ThisModule {
    base_url: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct OtherModule {
    base_url: String,
}

// A GenericAPIAction declared for another module's configuration.
const GET_HOST: Api<OtherModule> = Api::get("host/{ip}");

fn main() {
    let _ = Module::<ThisModule>::new().register("get-host", GET_HOST).run();
}
