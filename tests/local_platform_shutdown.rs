//! The local platform's shutdown.

#[path = "support/local_platform.rs"]
mod local_platform_support;

use local_platform_support::*;

#[test]
fn drop_does_not_hang_on_idle_connections() {
    let platform = LocalPlatform::start().unwrap();
    let address = platform.address();
    // An agent keeps its connection alive in its pool.
    let agent = agent();
    assert_eq!(get_secrets(&agent, &platform).status, 200);
    // A raw connection that never sends anything, one that sent half a head.
    let mut idle = raw(&platform);
    let mut partial = raw(&platform);
    send_raw(
        &mut partial,
        b"GET /api/v1/symphony/secrets HTTP/1.1\r\nHost:",
    );
    assert!(platform.wait_for(TIMEOUT, |requests| requests.len() == 1));

    let started = Instant::now();
    drop(platform);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert!(closed(&mut idle));
    assert!(closed(&mut partial));
    // The listener is gone.
    assert!(TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err());
    // The agent's pooled connection is dead: its next request fails.
    assert!(agent.get(format!("http://{address}/")).call().is_err());
}

#[test]
fn drop_interrupts_a_delay() {
    let platform = LocalPlatform::start().unwrap();
    platform.inject(Fault::delay(Duration::from_secs(60)));
    let url = platform.secrets_url();
    let token = platform.token().to_owned();
    let client = std::thread::spawn(move || {
        agent()
            .get(url)
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .map(|response| response.status().as_u16())
    });
    assert!(platform.wait_for(TIMEOUT, |requests| requests.len() == 1));
    let started = Instant::now();
    drop(platform);
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(client.join().unwrap().is_err());
}
