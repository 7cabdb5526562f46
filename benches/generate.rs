//! Generating the files of the sample module (`examples/sample_module.rs`):
//! `cargo bench --bench generate`.
//!
//! - `generate_sample_module`: what `generate-files` does in-process, the
//!   manifest read included (schemas from the types, normalized, secrets
//!   extracted, uuids, pretty JSON), and `generate_and_write` with the files
//!   compared and written;
//! - baseline, measured in the same run: `schemars::schema_for!` of the
//!   same types and `serde_json::to_string_pretty` of them.
//!
//! The whole invocation as a process (start-up included) is timed by
//! `cargo run --release --example sample_module -- generate-files DIR`.

#[path = "../examples/sample_module.rs"]
#[allow(dead_code)]
mod sample_module;

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use sekoia_automation::unversioned::ModuleItems;
use sekoia_automation::unversioned::generate;

fn generate_sample_module(c: &mut Criterion) {
    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sample_module/input/manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    let module = sample_module::module();
    let items = ModuleItems::new(module.items());
    let mut group = c.benchmark_group("generate_sample_module");
    group.bench_function("generate", |b| {
        b.iter(|| generate::generate(directory.path(), &items).unwrap())
    });
    let written = tempfile::tempdir().unwrap();
    std::fs::copy(
        directory.path().join("manifest.json"),
        written.path().join("manifest.json"),
    )
    .unwrap();
    group.bench_function("generate_and_write", |b| {
        b.iter(|| {
            let files = generate::generate(written.path(), &items).unwrap();
            generate::write(written.path(), &files).unwrap()
        })
    });
    group.bench_function("baseline_schema_for_and_to_string_pretty", |b| {
        b.iter(|| {
            let schemas = [
                schemars::schema_for!(sample_module::Config),
                schemars::schema_for!(sample_module::LookupArguments),
                schemars::schema_for!(sample_module::LookupResults),
                schemars::schema_for!(sample_module::WatchConfiguration),
                schemars::schema_for!(sample_module::Indicator),
            ];
            schemas
                .iter()
                .map(|schema| serde_json::to_string_pretty(schema).unwrap().len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, generate_sample_module);
criterion_main!(benches);
