//! Panic catching shared by every item kind: a panicking item is reported
//! (its location and message, secrets scrubbed), never a silent crash.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use crate::wire::redact;

thread_local! {
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into `Err("the item panicked at <file:line>: <message>")`.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            LAST_PANIC_LOCATION.with(|last| *last.borrow_mut() = location);
            previous(info);
        }));
    });
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic payload".into());
        let location = LAST_PANIC_LOCATION.with(|last| last.borrow_mut().take());
        let message = match location {
            Some(location) => {
                format!("the item panicked at {location}: {message}")
            }
            None => format!("the item panicked: {message}"),
        };
        redact::scrub(&message).into_owned()
    })
}
