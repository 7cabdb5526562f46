//! The polling loop of a [`PollingConnector`] (docs/protocol.md §4–5,
//! with the reference's flaws fixed): pages fetched and pushed, the lag, duration and
//! forwarded metrics updated, `delivered` called with the acknowledgement,
//! interruptible pauses of `frequency` once the source is caught up.

use std::time::Instant;

use crate::connector::connector::PollingConnector;
use crate::connector::context::ConnectorContext;
use crate::connector::item::MIN_IDLE;
use crate::trigger::TriggerError;
use crate::wire::logging::Level;

pub(crate) fn run<C: PollingConnector>(
    connector: &mut C,
    ctx: &ConnectorContext<'_, C>,
) -> Result<(), TriggerError> {
    while ctx.running() {
        let started = Instant::now();
        // An error (a configuration error included) ends this run: the
        // runtime logs and counts it (docs/protocol.md §4) and runs again after a
        // pause.
        let page = connector.next_page(ctx)?;
        let count = page.events.len() as u64;
        let pushed = if count > 0 {
            Some(ctx.push_events(page.events))
        } else {
            None
        };
        ctx.observe_duration(started.elapsed());
        ctx.count_forwarded(count);
        if let Some(date) = page.most_recent {
            ctx.set_lag(date);
        }
        match pushed {
            Some(Ok(acknowledgement)) => connector.delivered(ctx, acknowledgement)?,
            Some(Err(error)) if error.is_stopped() && !ctx.running() => return Ok(()),
            Some(Err(error)) => return Err(error.into()),
            None => {}
        }
        if page.backlog == crate::connector::Backlog::Waiting && count > 0 {
            continue;
        }
        let frequency = connector.frequency(ctx);
        let wait = frequency.saturating_sub(started.elapsed()).max(MIN_IDLE);
        if !ctx.running() {
            break;
        }
        if count == 0 {
            ctx.log(
                Level::Info,
                format!(
                    "Next batch in the future. Waiting {} seconds",
                    crate::trigger::clock::python_seconds(wait)
                ),
            );
        }
        ctx.sleep(wait);
    }
    Ok(())
}
