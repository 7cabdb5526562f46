//! The OCSF asset models against the Python SDK's (sekoia-automation-models):
//! fixtures written by `scripts/asset_fixtures.py` with pydantic. Each
//! valid case is read from what was given and from Python's dump, and both
//! serialize to Python's dump byte for byte; each invalid case, refused by
//! pydantic, is refused here.

use std::path::{Path, PathBuf};

use sekoia_automation::asset::{
    AssetItem, AssetList, Device, DeviceOCSFModel, DeviceTypeId, DeviceTypeStr, Fingerprint,
    FingerprintAlgorithmId, Metadata, Product, schema_fingerprint,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/assets")
}

fn cases(directory: &Path, suffix: &str) -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let stem = name.strip_suffix(suffix)?.to_owned();
            (!stem.contains('.') && stem != "fingerprints").then_some((stem, path))
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn python_dumps_read_and_written_byte_identical() {
    let cases = cases(&fixtures(), ".json");
    assert!(cases.len() >= 12, "fixtures missing: {cases:?}");
    for (name, path) in cases {
        let dumped = std::fs::read(&path).unwrap();
        let list: AssetList = serde_json::from_slice(&dumped)
            .unwrap_or_else(|error| panic!("{name}: Python's dump refused: {error}"));
        let written = list.to_python_json().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&dumped),
            "{name}: re-serialized differently"
        );
    }
}

#[test]
fn given_values_serialize_as_pydantic_dumps_them() {
    let cases = cases(&fixtures(), ".input.json");
    assert!(cases.len() >= 12, "fixtures missing: {cases:?}");
    for (name, path) in cases {
        let given = std::fs::read(&path).unwrap();
        let expected = std::fs::read(fixtures().join(format!("{name}.json"))).unwrap();
        let list: AssetList = serde_json::from_slice(&given)
            .unwrap_or_else(|error| panic!("{name}: refused what pydantic takes: {error}"));
        let written = list.to_python_json().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&expected),
            "{name}: not pydantic's dump"
        );
    }
}

#[test]
fn what_pydantic_refuses_is_refused() {
    let cases = cases(&fixtures().join("invalid"), ".json");
    assert!(cases.len() >= 20, "fixtures missing: {cases:?}");
    for (name, path) in cases {
        let given = std::fs::read(&path).unwrap();
        let read = serde_json::from_slice::<AssetList>(&given);
        assert!(read.is_err(), "{name}: accepted: {read:?}");
    }
}

#[test]
fn what_pydantic_coerces_in_lax_mode_is_refused_here() {
    // An intended difference (src/asset/mod.rs): a number as a string, an
    // integral float for an integer, 1 or "true" for a boolean, an
    // integer beyond 64 bits.
    let cases = cases(&fixtures().join("lax"), ".json");
    assert!(cases.len() >= 7, "fixtures missing: {cases:?}");
    for (name, path) in cases {
        let given = std::fs::read(&path).unwrap();
        let read = serde_json::from_slice::<AssetList>(&given);
        assert!(read.is_err(), "{name}: accepted: {read:?}");
    }
}

#[test]
fn the_union_picks_the_model_pydantic_picks() {
    let read = |name: &str| -> AssetList {
        serde_json::from_slice(
            &std::fs::read(fixtures().join(format!("{name}.input.json"))).unwrap(),
        )
        .unwrap()
    };
    let kinds = |list: &AssetList| -> Vec<&'static str> {
        list.items
            .iter()
            .map(|item| match item {
                AssetItem::Vulnerability(_) => "vulnerability",
                AssetItem::Device(_) => "device",
                AssetItem::User(_) => "user",
                AssetItem::Software(_) => "software",
            })
            .collect()
    };
    assert_eq!(
        kinds(&read("mixed_and_ignored_keys")),
        ["device", "user", "vulnerability"]
    );
    assert_eq!(kinds(&read("software_null_only")), ["software"]);
    assert_eq!(
        kinds(&read("software_invalid_read_as_device")),
        ["device"; 4]
    );
    assert_eq!(
        kinds(&read("device_invalid_enrichments_read_as_software")),
        ["software"; 2]
    );
}

fn device() -> DeviceOCSFModel {
    let mut device: DeviceOCSFModel =
        serde_json::from_slice(&std::fs::read(fixtures().join("device_minimal.json")).unwrap())
            .map(|list: AssetList| match list.items.into_iter().next() {
                Some(AssetItem::Device(device)) => *device,
                other => panic!("not a device: {other:?}"),
            })
            .unwrap();
    device.metadata = Metadata {
        product: Product {
            name: "Vendor".into(),
            vendor_name: None,
            version: None,
        },
        version: "1.5.0".into(),
    };
    device
}

#[test]
fn values_built_in_rust_serialize_as_pydantic_validates_them() {
    // Built in Rust, not read: the validators' filling happens on output.
    let fingerprint = Fingerprint {
        algorithm: None,
        algorithm_id: Some(FingerprintAlgorithmId::Sha256),
        value: "abc".into(),
    };
    assert_eq!(
        serde_json::to_string(&fingerprint).unwrap(),
        r#"{"algorithm":"SHA-256","algorithm_id":3,"value":"abc"}"#
    );
    let mut model = device();
    model.device = Device {
        risk_score: Some(i64::MAX),
        ..model.device
    };
    model.device.r#type = DeviceTypeStr::Firewall;
    model.device.type_id = DeviceTypeId::Firewall;
    let list = AssetList {
        version: 1,
        items: vec![model.into()],
    };
    let text = String::from_utf8(list.to_python_json().unwrap()).unwrap();
    assert!(
        text.contains(r#""device": {"type_id": 9, "type": "Firewall", "uid": "dev-1", "hostname": "srv-01", "risk_score": 9223372036854775807}"#),
        "{text}"
    );
}

#[test]
fn fingerprints_are_pythons() {
    let text = std::fs::read_to_string(fixtures().join("fingerprints.json")).unwrap();
    let cases: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 3);
    for (name, case) in cases {
        let fields: Vec<(String, String)> = serde_json::from_value(case["fields"].clone()).unwrap();
        assert_eq!(
            schema_fingerprint(&fields),
            case["fingerprint"].as_str().unwrap(),
            "{name}"
        );
    }
}
