//! Hot paths of an action run: `cargo bench --bench core`.
//!
//! - `finished_body`: an `Outcome` with results, branches and 20 log records
//!   turned into the finished PATCH body;
//! - `persistent_json_save_1mb`: an atomic, fsynced save of a 1 MB state
//!   (changed, and unchanged: no I/O);
//! - `json_result_10mb`: a 10 MB value written as a file result.
//!
//! Each group has a baseline measured in the same run: `serde_json::to_vec`
//! of the same value; serialize, write in place and fsync (the Python SDK's
//! non-atomic way, plus the fsync); `to_vec` and `std::fs::write`.

use std::collections::BTreeMap;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sekoia_automation::action::LogRecord;
use sekoia_automation::storage::{DataDirectory, PersistentJson};
use sekoia_automation::{ActionContext, Level, Outcome};
use serde_json::{Value, json};

fn results(entries: usize) -> Value {
    Value::Array(
        (0..entries)
            .map(|i| json!({"id": format!("alert-{i}"), "score": i % 100, "tags": ["malware", "c2"], "source": {"ip": "10.0.0.1", "port": 443}}))
            .collect(),
    )
}

fn finished_body(c: &mut Criterion) {
    let value = results(100);
    let logs: Vec<LogRecord> = (0..20)
        .map(|i| {
            let mut record = LogRecord::new(Level::Info, &format!("step {i} done"));
            record.context.insert("step".into(), i.into());
            record
        })
        .collect();
    let mut group = c.benchmark_group("finished_body");
    group.bench_function("outcome_to_body", |b| {
        b.iter(|| {
            let outcome = Outcome::success(value.clone())
                .activate("found")
                .deactivate("clean");
            outcome.into_report(&logs).to_body().unwrap()
        })
    });
    group.bench_function("baseline_serde_json_to_vec", |b| {
        b.iter(|| serde_json::to_vec(&value.clone()).unwrap())
    });
    group.finish();
}

fn persistent_json_save(c: &mut Criterion) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let mut state = PersistentJson::<BTreeMap<String, u64>>::open(&path).unwrap();
    *state = (0..20_000u64)
        .map(|i| {
            (
                format!("{i:08}-5d6e-4f80-9a1b-{:012x}", i * 7919),
                1_767_225_600 + i,
            )
        })
        .collect();
    state.save().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 900_000, "a ~1 MB state");
    let mut group = c.benchmark_group("persistent_json_save_1mb");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(20);
    let mut tick = 0u64;
    group.bench_function("save_changed", |b| {
        b.iter(|| {
            tick += 1;
            *state
                .get_mut("00000000-5d6e-4f80-9a1b-000000000000")
                .unwrap() = tick;
            state.save().unwrap();
        })
    });
    group.bench_function("save_unchanged", |b| b.iter(|| state.save().unwrap()));
    // What the Python SDK does: serialize, truncate and write in place (not
    // crash-safe), here with an fsync so both reach the disk.
    group.bench_function("baseline_serialize_write_fsync", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(&*state).unwrap();
            let file = std::fs::File::create(directory.path().join("plain.json")).unwrap();
            std::io::Write::write_all(&mut &file, &bytes).unwrap();
            file.sync_all().unwrap();
        })
    });
    group.finish();
    state.close().unwrap();
}

fn json_result(c: &mut Criterion) {
    let directory = tempfile::tempdir().unwrap();
    let data = DataDirectory::new(directory.path());
    let value = results(80_000); // ~10 MB
    let size = serde_json::to_vec(&value).unwrap().len();
    let arguments = json!({});
    let ctx = ActionContext::new(&(), &arguments, &data);
    let mut group = c.benchmark_group("json_result_10mb");
    group.throughput(Throughput::Bytes(size as u64));
    group.sample_size(10);
    group.bench_function("json_result", |b| {
        b.iter(|| {
            let result = ctx.json_result("report", &value).unwrap();
            let file = result["report_path"].as_str().unwrap();
            std::fs::remove_file(directory.path().join(file)).unwrap();
        })
    });
    group.bench_function("baseline_to_vec_and_fs_write", |b| {
        b.iter(|| {
            std::fs::write(
                directory.path().join("plain.json"),
                serde_json::to_vec(&value).unwrap(),
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, finished_body, persistent_json_save, json_result);
criterion_main!(benches);
