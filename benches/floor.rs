//! The floor of the action figures: the two PATCH requests an action sends,
//! made by a bare `ureq` program and nothing else. Not a benchmark of its
//! own: `examples/action_figures.rs` builds it
//! (`cargo build --profile dist --bench floor`) and runs it next to the
//! quickstart action, with `URL_CALLBACK`, `TOKEN` and the files named by
//! `FLOOR_RUNNING_BODY` and `FLOOR_FINISHED_BODY` (the two bodies) set.
//! Run without them (by `cargo bench` or `cargo test --all-targets`), it
//! does nothing.

fn main() {
    if std::env::var_os("URL_CALLBACK").is_none() {
        return;
    }
    let variable = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("set {name}"));
    let url = variable("URL_CALLBACK");
    let authorization = format!("Bearer {}", variable("TOKEN"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for body in ["FLOOR_RUNNING_BODY", "FLOOR_FINISHED_BODY"] {
        let body = std::fs::read(variable(body)).expect("read the body");
        let mut response = agent
            .patch(&url)
            .header("Authorization", &authorization)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .expect("PATCH");
        let _ = response.body_mut().read_to_vec();
    }
}
