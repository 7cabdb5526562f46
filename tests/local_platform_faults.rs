//! The local platform's injected faults: statuses, dropped connections, delays, matching rules.

#[path = "support/local_platform.rs"]
mod local_platform_support;

use local_platform_support::*;

#[test]
fn status_fault_applies_n_times_then_normal() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    platform.inject(Fault::status(503).times(2));
    let answers: Vec<Answer> = (0..3)
        .map(|_| patch(&agent, &platform, &json!({"status": "finished"})))
        .collect();
    assert_eq!(answers[0].status, 503);
    assert_eq!(answers[0].body, json!({"message": "injected fault"}));
    assert_eq!(answers[1].status, 503);
    assert_eq!((answers[2].status, &answers[2].body), (200, &json!({})));
    assert_eq!(statuses(&platform.requests()), [503, 503, 200]);

    // Default budget: one request. Faults apply before authentication.
    platform.clear();
    platform.inject(Fault::status(500));
    assert_eq!(answer(agent.get(platform.secrets_url()).call()).status, 500);
    assert_eq!(answer(agent.get(platform.secrets_url()).call()).status, 401);
    // `times(0)` never applies; `always` until cleared.
    platform.inject(Fault::status(500).times(0));
    assert_eq!(get_secrets(&agent, &platform).status, 200);
    platform.inject(Fault::status(502).always());
    for _ in 0..5 {
        assert_eq!(get_secrets(&agent, &platform).status, 502);
    }
    platform.clear_faults();
    assert_eq!(get_secrets(&agent, &platform).status, 200);
}

#[test]
fn drop_connection_fault_closes_without_answer() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    platform.inject(Fault::drop_connection().on_path_suffix("/batch"));
    let body = r#"{"intake_key": "k", "jsons": ["{}"]}"#;
    let dropped = agent.post(batch_url(&platform)).send(body);
    assert!(dropped.is_err(), "{dropped:?}");
    assert!(!matches!(dropped, Err(ureq::Error::StatusCode(_))));
    let retried = post(&agent, &batch_url(&platform), None, body);
    assert_eq!(retried.status, 200);
    let requests = platform.requests();
    assert_eq!(statuses(&requests), [0, 200]);
    assert_eq!(requests[0].body, body.as_bytes());
    assert_ne!(requests[0].peer, requests[1].peer);

    // The whole request is read first (here: a chunked one).
    let mut connection = raw(&platform);
    platform.inject(Fault::drop_connection());
    send_raw(
        &mut connection,
        b"POST /intake/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    );
    assert!(closed(&mut connection));
    assert_eq!(platform.requests()[2].body, b"{}");
}

#[test]
fn delay_fault_answers_late() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let delay = Duration::from_millis(300);
    platform.inject(Fault::delay(delay).on_method("GET"));
    let started = Instant::now();
    let slow = get_secrets(&agent, &platform);
    let elapsed = started.elapsed();
    assert_eq!((slow.status, slow.body), (200, json!({"value": {}})));
    assert!(elapsed >= delay, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let started = Instant::now();
    assert_eq!(get_secrets(&agent, &platform).status, 200);
    assert!(started.elapsed() < delay);
    // Delayed intake answers still carry their ids.
    platform.inject(Fault::delay(Duration::from_millis(10)));
    let ids = post(
        &agent,
        &batch_url(&platform),
        None,
        r#"{"jsons": ["a", "b"]}"#,
    );
    assert_eq!(ids.body["event_ids"].as_array().unwrap().len(), 2);
}

#[test]
fn faults_match_method_path_and_body() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let token = platform.token().to_owned();
    platform.inject(
        Fault::status(409)
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    platform.inject(Fault::status(500).always().on_path_suffix("/logs"));

    assert_eq!(
        patch(&agent, &platform, &json!({"status": "running"})).status,
        200
    );
    assert_eq!(
        post(
            &agent,
            &platform.logs_url(),
            Some(&token),
            r#"{"logs": []}"#
        )
        .status,
        500
    );
    // A POST with the same body is not a PATCH.
    let event = r#"{"status": "finished", "name": "event"}"#;
    assert_eq!(
        post(&agent, &platform.callback_url(), Some(&token), event).status,
        200
    );
    let finished = patch(
        &agent,
        &platform,
        &json!({"status": "finished", "results": {}}),
    );
    assert_eq!(
        (finished.status, finished.body),
        (409, json!({"message": "injected fault"}))
    );
    // Spent.
    assert_eq!(
        patch(&agent, &platform, &json!({"status": "finished"})).status,
        200
    );
    assert_eq!(
        post(
            &agent,
            &platform.logs_url(),
            Some(&token),
            r#"{"logs": []}"#
        )
        .status,
        500
    );
    assert_eq!(
        statuses(&platform.requests()),
        [200, 500, 200, 409, 200, 500]
    );

    // Several body conditions must all hold; a body that is not JSON never matches.
    platform.clear_faults();
    platform.inject(
        Fault::status(418)
            .always()
            .when_json("intake_key", json!("k"))
            .when_json("n", json!(1)),
    );
    let url = batch_url(&platform);
    assert_eq!(
        post(
            &agent,
            &url,
            None,
            r#"{"intake_key": "k", "n": 2, "jsons": []}"#
        )
        .status,
        200
    );
    assert_eq!(
        post(
            &agent,
            &url,
            None,
            r#"{"intake_key": "k", "n": 1, "jsons": []}"#
        )
        .status,
        418
    );
    assert_eq!(post(&agent, &url, None, "garbage").status, 400);
}

#[test]
fn rules_apply_in_injection_order() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    platform.inject(Fault::status(500).on_method("GET"));
    platform.inject(Fault::status(502).times(2));
    let url = platform.secrets_url();
    let codes: Vec<u16> = (0..4)
        .map(|_| {
            answer(
                agent
                    .get(&url)
                    .header("Authorization", bearer(&platform))
                    .call(),
            )
            .status
        })
        .collect();
    assert_eq!(codes, [500, 502, 502, 200]);
}

fn probabilistic_statuses(seed: u64, count: usize) -> Vec<u16> {
    let platform = LocalPlatform::start().unwrap();
    platform.seed(seed);
    platform.inject(Fault::status(503).always().with_probability(0.3));
    let agent = agent();
    let url = batch_url(&platform);
    let seen: Vec<u16> = (0..count)
        .map(|_| post(&agent, &url, None, r#"{"jsons": []}"#).status)
        .collect();
    assert_eq!(statuses(&platform.requests()), seen);
    seen
}

#[test]
fn probability_is_roughly_right_and_deterministic() {
    let first = probabilistic_statuses(42, 1_000);
    let faulted = first.iter().filter(|&&status| status == 503).count();
    assert!((240..=360).contains(&faulted), "{faulted} of 1000 at 30%");
    assert!(first.iter().all(|&status| status == 503 || status == 200));
    assert_eq!(probabilistic_statuses(42, 1_000), first);
    assert_ne!(probabilistic_statuses(43, 1_000), first);
}

#[test]
fn probabilistic_rules_with_a_budget_only_consume_applied_rolls() {
    let platform = LocalPlatform::start().unwrap();
    platform.seed(7);
    platform.inject(Fault::status(500).times(3).with_probability(0.5));
    let agent = agent();
    let seen: Vec<u16> = (0..100)
        .map(|_| get_secrets(&agent, &platform).status)
        .collect();
    assert_eq!(seen.iter().filter(|&&status| status == 500).count(), 3);
    // Never and always.
    platform.inject(Fault::status(500).always().with_probability(0.0));
    assert!((0..20).all(|_| get_secrets(&agent, &platform).status == 200));
    platform.inject(Fault::status(501).always().with_probability(1.0));
    assert!((0..20).all(|_| get_secrets(&agent, &platform).status == 501));
}

#[test]
fn flaky_platform_errors_and_drops() {
    let platform = LocalPlatform::start().unwrap();
    platform.seed(2024);
    platform.inject(Fault::status(503).always().with_probability(0.3));
    platform.inject(Fault::drop_connection().always().with_probability(0.05));
    let agent = agent();
    let url = batch_url(&platform);
    let mut answered_503 = 0;
    let mut answered_200 = 0;
    let mut errors = 0;
    for i in 0..1_000 {
        let body = json!({"intake_key": "k", "jsons": [i.to_string(), "x"]}).to_string();
        match agent.post(&url).send(body) {
            Ok(mut response) => {
                let text = response.body_mut().read_to_string().unwrap();
                match response.status().as_u16() {
                    503 => answered_503 += 1,
                    200 => {
                        let ids: Value = serde_json::from_str(&text).unwrap();
                        assert_eq!(ids["event_ids"].as_array().unwrap().len(), 2);
                        answered_200 += 1;
                    }
                    other => panic!("unexpected {other}"),
                }
            }
            Err(_) => errors += 1,
        }
    }
    let recorded = statuses(&platform.requests());
    assert_eq!(recorded.len(), 1_000);
    assert_eq!(
        recorded.iter().filter(|&&status| status == 0).count(),
        errors
    );
    assert_eq!(
        recorded.iter().filter(|&&status| status == 503).count(),
        answered_503
    );
    assert_eq!(
        recorded.iter().filter(|&&status| status == 200).count(),
        answered_200
    );
    assert!((240..=360).contains(&answered_503), "{answered_503}");
    // 5% of the 70% left by the first rule.
    assert!((15..=60).contains(&errors), "{errors}");
}
