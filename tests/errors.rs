//! Errors work with the ecosystem (issue 24, point 9): a `TriggerError`
//! goes into `Box<dyn Error + Send + Sync>` with its type intact, and the
//! system error behind a failure is reached by its kind, without parsing
//! the message, through the crate's own errors.

use std::error::Error;
use std::io::ErrorKind;
use std::net::TcpListener;

use sekoia_automation::TriggerError;
use sekoia_automation::storage::{DataDirectory, StorageError};
use sekoia_automation::vendor::VendorClient;

#[test]
fn a_trigger_error_goes_into_the_ecosystems_error_box() {
    fn fails() -> Result<(), TriggerError> {
        Err(TriggerError::from(std::io::Error::from(
            ErrorKind::PermissionDenied,
        )))
    }
    fn caller() -> Result<(), Box<dyn Error + Send + Sync>> {
        fails()?;
        Ok(())
    }
    let error = caller().unwrap_err();
    let io = error.downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), ErrorKind::PermissionDenied);
}

#[test]
fn the_kind_of_a_file_system_failure_is_reached_through_a_storage_error() {
    let root = tempfile::tempdir().unwrap();
    // A regular file where the data directory should be.
    std::fs::write(root.path().join("blocked"), b"a file").unwrap();
    let data = DataDirectory::new(root.path().join("blocked"));
    let storage = data.write("result.json", b"{}").unwrap_err();
    assert!(matches!(storage, StorageError::Io { .. }), "{storage}");
    let error = TriggerError::from(storage);
    let kind = error.io_error().map(std::io::Error::kind);
    assert!(
        matches!(
            kind,
            Some(ErrorKind::NotADirectory | ErrorKind::AlreadyExists)
        ),
        "{kind:?}: {error}"
    );
}

#[test]
fn the_kind_of_a_network_failure_is_reached_through_a_vendor_error() {
    // A port of 127.0.0.1 that nothing listens on any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = VendorClient::builder()
        .retry(sekoia_automation::vendor::RetryPolicy::never())
        .build()
        .unwrap();
    let vendor = client
        .get(format!("http://127.0.0.1:{port}/alerts"))
        .send()
        .unwrap_err();
    assert_eq!(
        vendor.io_error().map(std::io::Error::kind),
        Some(ErrorKind::ConnectionRefused),
        "{vendor:?}"
    );
    let error = TriggerError::from(vendor);
    assert_eq!(
        error.io_error().map(std::io::Error::kind),
        Some(ErrorKind::ConnectionRefused)
    );
    assert!(TriggerError::msg("no system error").io_error().is_none());
}

/// The platform client's errors name their method with the crate's one
/// public `Method` (issue 24, point 3), and give their system error too.
#[test]
fn a_platform_error_names_the_public_method_and_its_system_error() {
    use sekoia_automation::Secret;
    use sekoia_automation::trigger::HttpError;
    use sekoia_automation::unversioned::wire::PlatformClient;
    use sekoia_automation::vendor::Method;

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = PlatformClient::new(Secret::new("token".to_string()))
        .with_backoff(std::time::Duration::from_millis(1));
    let error = client
        .get(&format!("http://127.0.0.1:{port}/secrets"))
        .unwrap_err();
    let method: Option<Method> = match &error {
        HttpError::Transport { method, .. } => Some(*method),
        _ => None,
    };
    assert_eq!(method, Some(Method::Get), "{error:?}");
    assert_eq!(
        error.io_error().map(std::io::Error::kind),
        Some(ErrorKind::ConnectionRefused)
    );
}
