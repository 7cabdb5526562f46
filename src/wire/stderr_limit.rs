//! stderr bounded like the platform's logs: the same line is written at
//! most once per [`WINDOW`]; the next time it is written, it tells how many
//! copies were left out. A trigger failing or panicking in a loop writes a
//! few lines a minute, not hundreds of megabytes.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The same line is written at most once within this time.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Distinct lines remembered.
const ENTRIES: usize = 4096;

struct Seen {
    until: Instant,
    suppressed: u64,
}

static SEEN: Mutex<Option<HashMap<String, Seen>>> = Mutex::new(None);

/// Whether `line` may be written now: `Some(n)` with the number of copies
/// left out since it was last written, `None` to leave it out.
pub(crate) fn admit(line: &str) -> Option<u64> {
    let now = Instant::now();
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashMap::new);
    if let Some(entry) = seen.get_mut(line) {
        if entry.until > now {
            entry.suppressed += 1;
            return None;
        }
        let suppressed = entry.suppressed;
        entry.until = now + WINDOW;
        entry.suppressed = 0;
        return Some(suppressed);
    }
    if seen.len() >= ENTRIES {
        seen.retain(|_, entry| entry.until > now || entry.suppressed > 0);
        if seen.len() >= ENTRIES {
            seen.clear();
        }
    }
    seen.insert(
        line.to_string(),
        Seen {
            until: now + WINDOW,
            suppressed: 0,
        },
    );
    Some(0)
}

/// `line`, with the count of the copies left out before it, if any.
pub(crate) fn with_count(line: String, suppressed: u64) -> String {
    if suppressed == 0 {
        line
    } else {
        format!("{line} (the same line was left out {suppressed} time(s) in the last minute)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_line_is_written_once_per_window() {
        let line = "stderr_limit test: the feed answered 401";
        assert_eq!(admit(line), Some(0));
        for _ in 0..1000 {
            assert_eq!(admit(line), None);
        }
        assert_eq!(admit("stderr_limit test: another line"), Some(0));
        // Once the window has passed, the line is written with the count.
        SEEN.lock()
            .unwrap()
            .as_mut()
            .unwrap()
            .get_mut(line)
            .unwrap()
            .until = Instant::now();
        assert_eq!(admit(line), Some(1000));
        assert!(
            with_count(line.to_string(), 1000)
                .ends_with("left out 1000 time(s) in the last minute)")
        );
    }
}
