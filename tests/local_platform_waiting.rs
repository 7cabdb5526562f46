//! Waiting on the local platform's recorded requests, bounded.

#[path = "support/local_platform.rs"]
mod local_platform_support;

use local_platform_support::*;

#[test]
fn wait_for_wakes_when_a_request_arrives() {
    let platform = LocalPlatform::start().unwrap();
    let started = Instant::now();
    assert!(!platform.wait_for(Duration::from_millis(100), |requests| !requests.is_empty()));
    assert!(started.elapsed() >= Duration::from_millis(100));

    let url = platform.logs_url();
    let token = platform.token().to_owned();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let agent = agent();
        for _ in 0..3 {
            post(&agent, &url, Some(&token), r#"{"logs": []}"#);
        }
    });
    let started = Instant::now();
    let seen = platform.wait_for(TIMEOUT, |requests| requests.len() >= 3);
    let elapsed = started.elapsed();
    assert!(seen);
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    sender.join().unwrap();
    // Already true: at once.
    assert!(platform.wait_for(Duration::ZERO, |requests| requests.len() == 3));

    platform.clear();
    assert!(platform.requests().is_empty());
    assert!(!platform.wait_for(Duration::from_millis(10), |requests| !requests.is_empty()));
}
