//! Panic catching shared by every item kind: a panicking item is reported
//! (its location and message, secrets scrubbed), never a silent crash.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use crate::wire::redact;

thread_local! {
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// [`catch_panic`] calls running on this thread: a panic here is caught,
    /// and reported to Sentry by the item's runner, not by the hook.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}

/// How a caught panic's text begins (see [`catch_panic`]).
const PANIC_TEXT: &str = "the item panicked";

/// Whether `text` is (or begins with) a panic caught by [`catch_panic`].
pub(crate) fn is_panic_text(text: &str) -> bool {
    text.starts_with(PANIC_TEXT)
}

/// Installs, once, the panic hook of a module run: it remembers where the
/// panic happened (for [`catch_panic`]'s message) and prints the panic to
/// stderr as the default hook does, but scrubbed of secrets, and at most
/// once a minute per distinct message and place (a trigger panicking in a
/// loop does not flood stderr).
pub(crate) fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".into());
            let thread = std::thread::current();
            let line = format!(
                "thread '{}' panicked at {}:\n{}",
                thread.name().unwrap_or("<unnamed>"),
                location.as_deref().unwrap_or("<unknown>"),
                redact::scrub(&message)
            );
            LAST_PANIC_LOCATION.with(|last| *last.borrow_mut() = location.clone());
            if let Some(suppressed) = crate::wire::stderr_limit::admit(&line) {
                if CATCHING.with(Cell::get) == 0 {
                    crate::runtime::sentry::capture_panic(&format!(
                        "{PANIC_TEXT} at {} (thread '{}'): {message}",
                        location.as_deref().unwrap_or("<unknown>"),
                        thread.name().unwrap_or("<unnamed>"),
                    ));
                }
                let line = crate::wire::stderr_limit::with_count(line, suppressed);
                let backtrace = std::backtrace::Backtrace::capture();
                if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
                    eprintln!(
                        "{line}\nstack backtrace:\n{}",
                        redact::scrub(&backtrace.to_string())
                    );
                } else {
                    eprintln!(
                        "{line}\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
                    );
                }
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err("the item panicked at <file:line>: <message>")`.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_panic_hook();
    CATCHING.with(|catching| catching.set(catching.get() + 1));
    let caught = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|catching| catching.set(catching.get().saturating_sub(1)));
    caught.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic payload".into());
        let location = LAST_PANIC_LOCATION.with(|last| last.borrow_mut().take());
        let message = match location {
            Some(location) => {
                format!("{PANIC_TEXT} at {location}: {message}")
            }
            None => format!("{PANIC_TEXT}: {message}"),
        };
        redact::scrub(&message).into_owned()
    })
}
