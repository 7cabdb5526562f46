//! [`Fault`]: rules that make the local platform misbehave on purpose.

use std::time::Duration;

use serde_json::Value;

/// A fault injection rule, built with chained calls and handed to
/// [`LocalPlatform::inject`](super::LocalPlatform::inject).
///
/// A rule has one effect ([`status`](Fault::status),
/// [`drop_connection`](Fault::drop_connection) or [`delay`](Fault::delay)),
/// optional conditions ([`on_method`](Fault::on_method),
/// [`on_path_suffix`](Fault::on_path_suffix), [`when_json`](Fault::when_json),
/// all of which must hold) and a budget: the next matching request by default,
/// [`times`](Fault::times) or [`always`](Fault::always).
///
/// For each request, the rules are checked in the order they were injected;
/// the first one whose conditions match and whose probability roll (if any)
/// succeeds applies, and only that one: its budget is decremented, and it is
/// removed once spent. A failed roll consumes nothing and the next rule is
/// checked, so with two probabilistic rules the second one applies to the
/// requests the first one left alone. Faults apply before authentication and
/// routing, as a failing proxy or platform would.
///
/// ```
/// use sekoia_automation::testing::{Fault, LocalPlatform};
/// use serde_json::json;
/// use std::time::Duration;
///
/// let platform = LocalPlatform::start()?;
/// // The run was already closed: the final PATCH is refused.
/// platform.inject(Fault::status(409).on_method("PATCH").when_json("status", json!("finished")));
/// // The platform is flaky: 30% of event batches answer 503, 5% of the rest
/// // lose their connection.
/// platform.inject(Fault::status(503).always().on_path_suffix("/batch").with_probability(0.3));
/// platform.inject(Fault::drop_connection().always().on_path_suffix("/batch").with_probability(0.05));
/// // The logs endpoint is slow, twice.
/// platform.inject(Fault::delay(Duration::from_millis(10)).on_path_suffix("/logs").times(2));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a fault does nothing until it is injected with LocalPlatform::inject"]
pub struct Fault {
    effect: Effect,
    /// `None`: unlimited.
    remaining: Option<usize>,
    method: Option<String>,
    path_suffix: Option<String>,
    json: Vec<(String, Value)>,
    probability: Option<f64>,
    /// Header fields added to an injected status's answer.
    headers: Vec<(String, String)>,
}

/// What a fault does to the request it applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Effect {
    /// Answer this status with `{"message": "injected fault"}`.
    Status(u16),
    /// Read the request, close the connection without answering.
    DropConnection,
    /// Wait, then answer normally.
    Delay(Duration),
}

/// The body of an injected status.
pub(crate) const INJECTED_BODY: &[u8] = br#"{"message":"injected fault"}"#;

impl Fault {
    fn new(effect: Effect) -> Fault {
        Fault {
            effect,
            remaining: Some(1),
            method: None,
            path_suffix: None,
            json: Vec::new(),
            probability: None,
            headers: Vec::new(),
        }
    }

    /// Answer `code` with the body `{"message": "injected fault"}`.
    ///
    /// # Panics
    ///
    /// When `code` is not a final status (200 to 599): an informational
    /// `1xx` answer would leave the client waiting.
    pub fn status(code: u16) -> Fault {
        assert!(
            (200..=599).contains(&code),
            "an injected status must be in 200..=599, got {code}"
        );
        Fault::new(Effect::Status(code))
    }

    /// Read the whole request, then close the connection without answering:
    /// the client sees the connection closed (recorded with status `0`).
    pub fn drop_connection() -> Fault {
        Fault::new(Effect::DropConnection)
    }

    /// Wait `duration`, then answer normally. The wait ends early when the
    /// platform is dropped (the connection is then closed without an answer).
    pub fn delay(duration: Duration) -> Fault {
        Fault::new(Effect::Delay(duration))
    }

    /// Apply to the next `n` matching requests (the default is 1); `times(0)`
    /// never applies.
    pub fn times(mut self, n: usize) -> Fault {
        self.remaining = Some(n);
        self
    }

    /// Apply to every matching request, until
    /// [`clear_faults`](super::LocalPlatform::clear_faults).
    pub fn always(mut self) -> Fault {
        self.remaining = None;
        self
    }

    /// Only requests with this method (compared case-insensitively).
    pub fn on_method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_owned());
        self
    }

    /// Only requests whose path (without the query string) ends with `suffix`,
    /// e.g. `"/callback"`, `"/logs"`, `"/secrets"`, `"/batch"`.
    pub fn on_path_suffix(mut self, suffix: &str) -> Fault {
        self.path_suffix = Some(suffix.to_owned());
        self
    }

    /// Only requests whose body is a JSON object with the top-level field
    /// `key` equal to `value`, e.g. `("status", json!("finished"))`. Several
    /// calls add conditions that must all hold.
    pub fn when_json(mut self, key: &str, value: Value) -> Fault {
        self.json.push((key.to_owned(), value));
        self
    }

    /// Apply to a matching request with probability `p` (clamped to 0..=1),
    /// rolled with the platform's deterministic generator (see
    /// [`LocalPlatform::seed`](super::LocalPlatform::seed)). A failed roll
    /// does not consume the rule's budget.
    pub fn with_probability(mut self, p: f64) -> Fault {
        self.probability = Some(if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) });
        self
    }

    /// Add this header field to the answer of an injected
    /// [`status`](Fault::status), e.g. `Retry-After` on a 429, or
    /// `Location` on a redirect (no effect on the other faults). Several
    /// calls add several fields.
    ///
    /// ```
    /// use sekoia_automation::testing::Fault;
    /// let _ = Fault::status(429).with_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT");
    /// // A batch redirected elsewhere: the module must not follow it.
    /// let _ = Fault::status(307)
    ///     .on_path_suffix("/batch")
    ///     .with_header("Location", "http://127.0.0.1:9/elsewhere");
    /// ```
    ///
    /// # Panics
    ///
    /// When the name is not an HTTP token or the value holds a control
    /// character (a CR or LF would split the answer's head).
    pub fn with_header(mut self, name: &str, value: &str) -> Fault {
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)),
            "an injected header name must be an HTTP token, got {name:?}"
        );
        assert!(
            value.chars().all(|c| c == '\t' || !c.is_control()),
            "an injected header value must hold no control character, got {value:?}"
        );
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    pub(crate) fn effect(&self) -> Effect {
        self.effect
    }

    pub(crate) fn probability(&self) -> Option<f64> {
        self.probability
    }

    /// No budget left: the rule never applies again.
    pub(crate) fn is_spent(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Whether the method and path conditions hold.
    pub(crate) fn matches_target(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|expected| expected.eq_ignore_ascii_case(method))
            && self
                .path_suffix
                .as_deref()
                .is_none_or(|suffix| path.ends_with(suffix))
    }

    /// Whether the rule has body conditions (the body must then be parsed).
    pub(crate) fn has_json_conditions(&self) -> bool {
        !self.json.is_empty()
    }

    /// Whether the body conditions hold for this parsed body.
    pub(crate) fn matches_json(&self, body: Option<&Value>) -> bool {
        let object = body.and_then(Value::as_object);
        self.json
            .iter()
            .all(|(key, value)| object.and_then(|object| object.get(key)) == Some(value))
    }

    /// Uses one unit of budget; true when the rule is now spent.
    pub(crate) fn consume(&mut self) -> bool {
        match &mut self.remaining {
            Some(remaining) => {
                *remaining = remaining.saturating_sub(1);
                *remaining == 0
            }
            None => false,
        }
    }
}

/// The deterministic generator behind [`Fault::with_probability`]: xorshift64*.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from any seed (0 included): the seed is mixed first.
    pub(crate) fn new(seed: u64) -> Rng {
        let mut state = seed;
        let mixed = splitmix64(&mut state);
        Rng(if mixed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            mixed
        })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One step of splitmix64 (advances `state`).
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions() {
        let fault = Fault::status(409)
            .on_method("patch")
            .on_path_suffix("/callback")
            .when_json("status", json!("finished"));
        assert!(fault.matches_target("PATCH", "/api/v1/symphony/callback"));
        assert!(!fault.matches_target("POST", "/api/v1/symphony/callback"));
        assert!(!fault.matches_target("PATCH", "/api/v1/symphony/logs"));
        assert!(fault.matches_json(Some(&json!({"status": "finished"}))));
        assert!(!fault.matches_json(Some(&json!({"status": "running"}))));
        assert!(!fault.matches_json(Some(&json!(["status"]))));
        assert!(!fault.matches_json(None));
    }

    #[test]
    fn budget() {
        let mut fault = Fault::drop_connection().times(2);
        assert!(!fault.consume());
        assert!(fault.consume());
        assert!(fault.is_spent());
        let mut always = Fault::delay(Duration::ZERO).always();
        assert!(!always.consume());
        assert!(!always.is_spent());
        assert!(Fault::status(500).times(0).is_spent());
    }

    #[test]
    fn generator_is_deterministic_and_uniform() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut below = 0;
        for _ in 0..10_000 {
            let x = a.next_f64();
            assert_eq!(x, b.next_f64());
            assert!((0.0..1.0).contains(&x));
            if x < 0.25 {
                below += 1;
            }
        }
        assert!((2_200..2_800).contains(&below), "{below}");
        assert_ne!(Rng::new(0).next_u64(), 0);
    }

    #[test]
    #[should_panic(expected = "no control character")]
    fn header_values_cannot_split_the_head() {
        let _ = Fault::status(429).with_header("Retry-After", "1\r\nX-Evil: 1");
    }

    #[test]
    #[should_panic(expected = "200..=599")]
    fn invalid_status() {
        let _ = Fault::status(101);
    }
}
