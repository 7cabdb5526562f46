//! The ureq agent behind every outgoing request to the platform and the
//! intake, and the three things it does beyond ureq's defaults.
//!
//! - **No redirect is followed**: a 3xx answer is handed to the caller as
//!   it is, and the caller treats it as that request's failure (a POST
//!   redirected and answered 200 elsewhere is not a delivery: ureq would
//!   follow a 301, 302 or 303 as a GET).
//! - **One overall deadline per attempt** (default 30 s, [protocol §2](crate::protocol#2-requests-to-the-platform)): the
//!   agent's global timeout, which bounds the whole exchange however the
//!   server trickles its answer. ureq resolves host names on a thread of its
//!   own once a timeout is set; IP literals (the in-cluster platform, the
//!   local platform) skip the resolver, so a keep-alive POST stays a plain
//!   write and read on the caller's thread.
//! - **An early answer is read, not lost**: a platform that refuses a large
//!   body (`413`, any 4xx) answers while the module is still writing it and
//!   closes its side. The write then fails with a broken pipe or a reset;
//!   the guard drops the rest of the body and lets ureq read the answer
//!   that is already there, so the caller sees the status, not a network
//!   error to retry. Reads interrupted by a signal (`EINTR`, which socket
//!   reads with a timeout return even under `SA_RESTART`) are resumed, never
//!   reported as a network failure.
//! - **The container's environment** ([`environment`](super::environment)):
//!   its certificate authority bundle and its proxies, as `requests` reads them.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

use super::environment::Environment;
use super::http::USER_AGENT;

/// The agent for requests with `deadline` per attempt: one per distinct
/// deadline in the process (in practice one), so connections are pooled and
/// kept alive across every client.
pub(crate) fn agent(deadline: Duration) -> ureq::Agent {
    static AGENTS: OnceLock<Mutex<Vec<(Duration, ureq::Agent)>>> = OnceLock::new();
    let mut agents = AGENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, agent)) = agents.iter().find(|(d, _)| *d == deadline) {
        return agent.clone();
    }
    let agent = build(deadline, None);
    agents.push((deadline, agent.clone()));
    agent
}

/// An agent like [`agent`]'s that trusts its own certificate authority or
/// presents a client certificate (the S3 file backend's `ca_cert`,
/// `client_cert`): one per store, not shared.
pub(crate) fn agent_with_tls(deadline: Duration, tls: ureq::tls::TlsConfig) -> ureq::Agent {
    build(deadline, Some(tls))
}

fn build(deadline: Duration, tls: Option<ureq::tls::TlsConfig>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(deadline))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .max_idle_connections_per_host(8);
    // The S3 store's own TLS settings, else the environment's bundle.
    if let Some(tls) = tls.or_else(|| Environment::process().tls_config()) {
        config = config.tls_config(tls);
    }
    ureq::Agent::with_parts(
        config.build(),
        DefaultConnector::default().chain(Guard),
        LiteralFirst(DefaultResolver::default()),
    )
}

/// Resolves IP literals in place; host names through ureq's resolver.
#[derive(Debug)]
struct LiteralFirst(DefaultResolver);

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.authority().and_then(|authority| {
            let host = authority.host();
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let ip: IpAddr = host.parse().ok()?;
            let port = authority.port_u16().or_else(|| match uri.scheme_str() {
                Some(scheme) if scheme.eq_ignore_ascii_case("https") => Some(443),
                Some(scheme) if scheme.eq_ignore_ascii_case("http") => Some(80),
                _ => None,
            })?;
            Some(SocketAddr::new(ip, port))
        });
        match literal {
            Some(address) => {
                let mut addresses = self.empty();
                addresses.push(address);
                Ok(addresses)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// Wraps each connection in a [`Guarded`] transport.
#[derive(Debug)]
struct Guard;

impl Connector<Box<dyn Transport>> for Guard {
    type Out = Guarded;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Guarded>, ureq::Error> {
        Ok(chained.map(|inner| Guarded {
            inner,
            peer_stopped_reading: false,
        }))
    }
}

/// A connection whose failed writes let the answer be read (see the module
/// docs) and whose interrupted reads are resumed.
#[derive(Debug)]
struct Guarded {
    inner: Box<dyn Transport>,
    /// The server closed its side while the request was being written: the
    /// rest of the request is dropped, and the connection is not reused.
    peer_stopped_reading: bool,
}

impl Transport for Guarded {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.peer_stopped_reading {
            return Ok(());
        }
        match self.inner.transmit_output(amount, timeout) {
            Err(ureq::Error::Io(error)) if stopped_reading(&error) => {
                // Whatever it answered is in the receive buffer, or the read
                // that follows fails as a network error.
                self.peer_stopped_reading = true;
                Ok(())
            }
            other => other,
        }
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        loop {
            match self.inner.await_input(timeout) {
                Err(ureq::Error::Io(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        !self.peer_stopped_reading && self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// A write failed because the peer stopped reading (it answered early,
/// then closed): its answer may still be there to read.
pub(crate) fn stopped_reading(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}
