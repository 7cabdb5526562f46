//! Sentry on the wire ([protocol §8](crate::protocol#8-sentry)): the DSN
//! ([`dsn`]), the one place where an event and its envelope are written
//! ([`envelope`]), and the sender thread with its bounded queue
//! ([`sender`]). What goes into an event (tags, contexts, when an event is
//! captured) is the runtime's: [`crate::runtime::sentry`].

pub(crate) mod dsn;
pub(crate) mod envelope;
pub(crate) mod sender;
