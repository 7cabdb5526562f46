//! The tooling tests' module directory: `manifest.json` written, then
//! `generate-files` and `check-module` run on it for a module's items.

use std::path::Path;

use sekoia_automation::Module;
use sekoia_automation::typestate::Registered;
use sekoia_automation::unversioned::ModuleItems;
use sekoia_automation::unversioned::check::{Rules, check};
use sekoia_automation::unversioned::generate;
use serde_json::{Value, json};

/// A module directory with its `manifest.json` and the files
/// `generate-files` writes for `module`.
pub fn generated(module: &Module<(), Registered>) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("manifest.json"),
        json!({
            "name": "Vendor", "slug": "vendor", "version": "1.0.0",
            "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "description": "A vendor",
        })
        .to_string(),
    )
    .unwrap();
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    generate::write(directory.path(), &files).unwrap();
    directory
}

/// A JSON file of the directory.
pub fn read(directory: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(directory.join(name)).unwrap()).unwrap()
}

/// What `check-module` finds in the directory against `module`'s items.
pub fn problems(directory: &Path, module: &Module<(), Registered>) -> Vec<String> {
    check(
        directory,
        Some(&ModuleItems::new(module.items())),
        &Rules::default(),
    )
    .iter()
    .map(ToString::to_string)
    .collect()
}
