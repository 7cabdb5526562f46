//! The state the crash tests save over and over (`persistent_json_crash`
//! on the local disk, `s3_crash` on S3): a counter and a payload derived
//! from it, so that a saved value mixing two states is detected.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// What the writer saves.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub counter: u64,
    pub payload: String,
}

/// splitmix64: a deterministic pseudo-random generator without a crate.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The payload of the state whose counter is `counter`: `len` hex digits
/// derived from it.
pub fn payload(counter: u64, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut random = SplitMix(counter);
    let mut payload = String::with_capacity(len);
    while payload.len() < len {
        let mut word = random.next();
        for _ in 0..16 {
            payload.push(HEX[(word & 0xf) as usize] as char);
            word >>= 4;
        }
    }
    payload.truncate(len);
    payload
}

/// Checks that `state` is complete and consistent with its counter.
pub fn check(state: &State, len: usize, context: &str) {
    if state.counter == 0 {
        assert!(
            state.payload.is_empty(),
            "{context}: default state with a payload"
        );
    } else {
        assert_eq!(state.payload.len(), len, "{context}: payload length");
        assert!(
            state.payload == payload(state.counter, len),
            "{context}: the payload is not the one of counter {}",
            state.counter
        );
    }
}
