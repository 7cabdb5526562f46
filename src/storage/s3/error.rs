//! Why an S3 request failed, and whether the trigger counts it.

use std::error::Error as StdError;

use crate::connector::CheckpointError;
use crate::storage::data_directory::StorageError;
use crate::trigger::SendEventError;
use crate::wire::http::HttpError;

/// Why an S3 request failed. Names the operation and the object; never
/// holds a secret key, a session token or a signature (requests are signed
/// in a header, and error bodies are cut down to S3's `Code` and `Message`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum S3Error {
    /// The request failed: an error status, no answer, or a stop during a wait.
    #[error("S3 {operation} of `{target}` failed: {cause}")]
    Request {
        /// `GetObject`, `PutObject`...
        operation: &'static str,
        /// `bucket/key`.
        target: String,
        /// What the crate's retry loop reported.
        cause: Box<HttpError>,
    },
    /// A conditional write lost: the object changed since it was read (or
    /// exists, for a create-only write).
    #[error(
        "S3 {operation} of `{target}` was refused because the object changed since it was read (HTTP {status}): read it again and retry"
    )]
    PreconditionFailed {
        /// `PutObject`.
        operation: &'static str,
        /// `bucket/key`.
        target: String,
        /// 412, or 409 for a concurrent conditional write.
        status: u16,
    },
    /// The bucket does not exist (or the credentials cannot see it).
    #[error(
        "the S3 bucket `{bucket}` does not exist at `{endpoint}`: check `aws_bucket_name` and `aws_s3_endpoint_url`"
    )]
    MissingBucket {
        /// The bucket.
        bucket: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The answer is not what S3 answers.
    #[error("S3 {operation} of `{target}` answered something unexpected: {detail}")]
    InvalidResponse {
        /// The operation.
        operation: &'static str,
        /// `bucket/key`.
        target: String,
        /// What was missing.
        detail: String,
    },
    /// `ca_cert`, `client_cert` or `client_key` is not usable PEM.
    #[error("the S3 file backend cannot use `{key}`: {detail}")]
    Tls {
        /// The key.
        key: &'static str,
        /// What is wrong (never the key's content).
        detail: String,
    },
}

impl S3Error {
    /// The HTTP status S3 answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            S3Error::Request { cause, .. } => cause.status(),
            S3Error::PreconditionFailed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the store is at fault (5xx such as `SlowDown`, no answer): as
    /// the Python SDK's `_handle_s3_exception`, a trigger logs these without
    /// counting them as its own errors; 4xx and the rest are counted.
    pub fn is_internal(&self) -> bool {
        match self {
            S3Error::Request { cause, .. } => match cause.as_ref() {
                HttpError::Status { status, .. } => *status >= 500,
                HttpError::Transport { .. } | HttpError::Interrupted { .. } => true,
                _ => false,
            },
            _ => false,
        }
    }
}

/// The S3 error behind `error`, if there is one: `error` itself, the cause
/// of a [`StorageError::S3`] (also inside a checkpoint's error, or an
/// event's refused or removed directory), or the first of these in its
/// `source` chain or behind an [`io::Error`](std::io::Error) that wraps one.
pub(crate) fn s3_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a S3Error> {
    fn of_storage(error: &StorageError) -> Option<&S3Error> {
        match error {
            StorageError::S3 { cause, .. } => Some(cause),
            _ => None,
        }
    }
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(s3) = current.downcast_ref::<S3Error>() {
            return Some(s3);
        }
        if let Some(storage) = current.downcast_ref::<StorageError>() {
            return of_storage(storage);
        }
        if let Some(CheckpointError::Storage(storage)) = current.downcast_ref::<CheckpointError>() {
            return of_storage(storage);
        }
        next = match current.downcast_ref::<SendEventError>() {
            Some(SendEventError::Refused { cause, .. }) => return of_storage(cause),
            Some(SendEventError::RemoveDirectory { cause, .. }) => cause
                .get_ref()
                .map(|inner| inner as &(dyn StdError + 'static)),
            _ => match current.downcast_ref::<std::io::Error>() {
                Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
                None => current.source(),
            },
        };
    }
    None
}
