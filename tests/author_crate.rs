//! A module author's own serde types are read as serde_json reads them
//! without this crate: `tests/author_crate/` is a crate that depends on this
//! checkout with its default features and reads an untagged enum holding
//! an `f64` and a `#[serde(flatten)]` struct, through `serde_json::from_str`
//! and `VendorResponse::json` (issue 24, point 1). Cargo unifies a
//! dependency's features across a build: had this crate turned on
//! serde_json's `arbitrary_precision`, both would fail.
//!
//! The nested build shares the scaffold test's target directory (the same
//! dependencies, built once).

#[path = "support/child.rs"]
mod child;

use child::Bounded;
use std::path::Path;
use std::process::Command;

#[test]
fn an_authors_untagged_and_flattened_types_deserialize() {
    // Copied out of this package, with this checkout's lock file (the same
    // dependency versions, offline) and its path made absolute.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir(copy.path().join("src")).unwrap();
    let source = checkout.join("tests/author_crate");
    let cargo_toml = std::fs::read_to_string(source.join("Cargo.toml"))
        .unwrap()
        .replace(
            r#"path = "../..""#,
            &format!("path = {:?}", checkout.display().to_string()),
        );
    std::fs::write(copy.path().join("Cargo.toml"), cargo_toml).unwrap();
    std::fs::copy(source.join("src/main.rs"), copy.path().join("src/main.rs")).unwrap();
    std::fs::copy(checkout.join("Cargo.lock"), copy.path().join("Cargo.lock")).unwrap();
    let manifest = copy.path().join("Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output_within(child::BUILD_DEADLINE);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "author types read\n"
    );
}
