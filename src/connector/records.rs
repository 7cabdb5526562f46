//! Records handed to a playbook run rather than pushed to an intake: the
//! Python SDK's older `Connector.send_records` and `forward_events`
//! ([`ConnectorContext::send_records`](crate::ConnectorContext::send_records),
//! [`ConnectorContext::forward_events`](crate::ConnectorContext::forward_events)),
//! on the same wire: the same trigger event, directory and `event.json`
//! bytes.

use std::path::PathBuf;

use crate::connector::chunk::{MAX_CHUNK_CHARS, MAX_EVENT_CHARS};
use crate::connector::event::{EventError, IntakeEvent};
use crate::storage::data_directory::StorageError;
use crate::trigger::SendEventError;

/// How records are handed over by
/// [`send_records`](crate::ConnectorContext::send_records) and
/// [`forward_events`](crate::ConnectorContext::forward_events): the Python
/// SDK's `self.name`, `to_file` and `records_var_name`.
///
/// ```
/// use sekoia_automation::connector::RecordsOptions;
/// let options = RecordsOptions::new("aws_s3_logs_trigger");
/// assert!(options.to_file());
/// assert_eq!(options.records_var_name(), "records");
/// let inline = options.with_to_file(false).with_records_var_name("events");
/// assert_eq!((inline.to_file(), inline.records_var_name()), (false, "events"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsOptions {
    item_name: String,
    to_file: bool,
    records_var_name: String,
}

impl RecordsOptions {
    /// Options for the item registered as `item_name`: the Python item's
    /// `self.name`, which is the command it is registered under
    /// (`module.register(AwsS3LogsTrigger, "aws_s3_logs_trigger")`) unless
    /// its class sets `name`. It names the directory of the files
    /// (`<item_name>_events/`) and the events `forward_events` sends.
    /// Records go to a file, under the name `records`.
    pub fn new(item_name: impl Into<String>) -> Self {
        RecordsOptions {
            item_name: item_name.into(),
            to_file: true,
            records_var_name: "records".into(),
        }
    }

    /// `false`: the records are sent in the event itself,
    /// `{"<records_var_name>": [...]}`, with no file (Python's
    /// `to_file=False`). `true` (the default): written to `event.json`.
    #[must_use]
    pub fn with_to_file(mut self, to_file: bool) -> Self {
        self.to_file = to_file;
        self
    }

    /// The event's key (`records` by default; `<name>_path` when the
    /// records are in a file): Python's `records_var_name`.
    #[must_use]
    pub fn with_records_var_name(mut self, name: impl Into<String>) -> Self {
        self.records_var_name = name.into();
        self
    }

    /// The item's name, as given to [`new`](Self::new).
    pub fn item_name(&self) -> &str {
        &self.item_name
    }

    /// Whether records go to `event.json`.
    pub fn to_file(&self) -> bool {
        self.to_file
    }

    /// The event's key.
    pub fn records_var_name(&self) -> &str {
        &self.records_var_name
    }

    /// The directory, relative to the data directory, holding one directory
    /// per file of records: `<item_name>_events`.
    pub(crate) fn events_directory(&self) -> String {
        format!("{}_events", self.item_name)
    }

    /// The name of the events `forward_events` sends:
    /// `<item name, lower case, spaces as dashes>_00:00:00`. The Python SDK
    /// appends `str(datetime.time())`, the time of midnight, where it meant
    /// the current time; the name is kept as it is on the wire.
    pub(crate) fn forward_event_name(&self) -> String {
        format!(
            "{}_00:00:00",
            self.item_name.to_lowercase().replace(' ', "-")
        )
    }
}

/// Why records could not be handed to a playbook run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordsError {
    /// An event does not serialize: nothing more was sent.
    #[error("cannot forward the events: an event does not serialize: {cause}")]
    Event {
        /// Why.
        #[source]
        cause: EventError,
    },
    /// The records' `event.json` could not be written to the data
    /// directory: nothing was sent for them.
    #[error("cannot write the records to {}: {cause}", path.display())]
    Write {
        /// The file, in the data directory.
        path: PathBuf,
        /// Why.
        #[source]
        cause: StorageError,
    },
    /// The trigger event carrying the records was not sent.
    #[error(transparent)]
    Send(#[from] SendEventError),
}

/// Groups events' strings into chunks as the Python SDK's `_chunk_events`
/// does: an event over [`MAX_EVENT_CHARS`] characters is discarded, and a
/// chunk is closed before its characters would pass [`MAX_CHUNK_CHARS`].
/// `full` is called with each chunk as it closes (the last one included,
/// when not empty); the discarded events are counted.
pub(crate) struct Chunker {
    chunk: Vec<String>,
    chars: usize,
    pub(crate) discarded: u64,
}

impl Chunker {
    pub(crate) fn new() -> Self {
        Chunker {
            chunk: Vec::new(),
            chars: 0,
            discarded: 0,
        }
    }

    /// Adds an event; returns the chunk it closed, if any.
    pub(crate) fn add(
        &mut self,
        event: &impl IntakeEvent,
    ) -> Result<Option<Vec<String>>, RecordsError> {
        let text = event
            .to_event_string()
            .map_err(|cause| RecordsError::Event { cause })?;
        let chars = text.chars().count();
        if chars > MAX_EVENT_CHARS {
            self.discarded += 1;
            return Ok(None);
        }
        let closed = if self.chars + chars > MAX_CHUNK_CHARS {
            self.chars = 0;
            Some(std::mem::take(&mut self.chunk))
        } else {
            None
        };
        self.chunk.push(text);
        self.chars += chars;
        Ok(closed)
    }

    /// The last chunk, if not empty.
    pub(crate) fn finish(&mut self) -> Option<Vec<String>> {
        self.chars = 0;
        Some(std::mem::take(&mut self.chunk)).filter(|chunk| !chunk.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_close_before_passing_the_python_character_total() {
        let mut chunker = Chunker::new();
        let big = "é".repeat(MAX_EVENT_CHARS);
        let mut closed = Vec::new();
        // 37 events of 250000 characters fill 9250000 ≤ 9437184; the 38th
        // closes the chunk.
        for _ in 0..38 {
            closed.extend(chunker.add(&big.as_str()).unwrap());
        }
        assert!(chunker.add(&format!("{big}x")).unwrap().is_none());
        assert_eq!(chunker.discarded, 1);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].len(), 37);
        assert_eq!(chunker.finish().map(|chunk| chunk.len()), Some(1));
        assert_eq!(chunker.finish(), None);
    }

    #[test]
    fn forwarded_events_are_named_as_the_python_sdk_names_them() {
        let options = RecordsOptions::new("AWS S3 Logs");
        assert_eq!(options.forward_event_name(), "aws-s3-logs_00:00:00");
        assert_eq!(options.events_directory(), "AWS S3 Logs_events");
    }
}
