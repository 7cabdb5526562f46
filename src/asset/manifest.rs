//! The manifest of an [`AssetConnector`]: a `connector_<name>.json` whose
//! `type` is `asset`, as the automation library's asset connectors have.

use std::marker::PhantomData;

use serde_json::{Map, Value};

use crate::asset::connector::AssetConnector;
use crate::config::identity::Identity;
use crate::item::manifest::{CONNECTOR, ItemManifest, ManifestKind, configuration_schema};

pub(crate) struct AssetConnectorManifest<K>(PhantomData<fn() -> K>);

impl<K: AssetConnector> AssetConnectorManifest<K> {
    pub(crate) fn boxed() -> Box<dyn ItemManifest + Send> {
        Box::new(AssetConnectorManifest::<K>(PhantomData))
    }
}

impl<K: AssetConnector> ItemManifest for AssetConnectorManifest<K> {
    fn kind(&self) -> Option<&'static ManifestKind> {
        Some(&CONNECTOR)
    }

    fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("type".into(), Value::String("asset".into()));
        if !K::CAPABILITY.is_empty() {
            fields.insert("capability".into(), Value::String(K::CAPABILITY.into()));
        }
        fields.insert(
            "arguments".into(),
            crate::asset::configuration::schema::<K::Configuration>(),
        );
        fields
    }

    fn module_configuration(&self) -> Value {
        configuration_schema::<K::ModuleConfiguration>()
    }

    fn module_without_configuration(&self) -> bool {
        crate::item::manifest::without_configuration::<K::ModuleConfiguration>()
    }

    fn identity(&self) -> Identity {
        K::IDENTITY
    }
}
