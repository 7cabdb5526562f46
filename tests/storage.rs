//! The data directory and `PersistentJson`, on real files in temporary
//! directories.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt as _, symlink};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use sekoia_automation::storage::{DataDirectory, PersistentJson, StorageError};
use serde::{Deserialize, Serialize};

/// A data directory in a fresh temporary directory (the guard removes it).
fn data() -> (tempfile::TempDir, DataDirectory) {
    let temporary = tempfile::tempdir().unwrap();
    let data = DataDirectory::new(temporary.path().join("data"));
    fs::create_dir_all(data.root()).unwrap();
    (temporary, data)
}

// ---------------------------------------------------------------- resolve

#[test]
fn resolve_accepts_nested_relative_paths() {
    let (_guard, data) = data();
    let root = data.root().to_owned();
    assert_eq!(data.resolve("a.json").unwrap(), root.join("a.json"));
    assert_eq!(data.resolve("a/b/c.json").unwrap(), root.join("a/b/c.json"));
    assert_eq!(data.resolve("./a/./b/").unwrap(), root.join("a/b"));
    assert_eq!(data.resolve("a/../b.json").unwrap(), root.join("b.json"));
    assert_eq!(data.resolve(".").unwrap(), root);
    // Existing paths too.
    fs::create_dir_all(root.join("x/y")).unwrap();
    fs::write(root.join("x/y/z.json"), "{}").unwrap();
    assert_eq!(data.resolve("x/y/z.json").unwrap(), root.join("x/y/z.json"));
}

#[test]
fn resolve_works_before_the_data_directory_exists() {
    let temporary = tempfile::tempdir().unwrap();
    let data = DataDirectory::new(temporary.path().join("not/yet"));
    assert_eq!(
        data.resolve("a/b.json").unwrap(),
        temporary.path().join("not/yet/a/b.json")
    );
    assert!(matches!(
        data.resolve("../b.json"),
        Err(StorageError::Escape { .. })
    ));
}

#[test]
fn resolve_accepts_symlinks_that_stay_inside() {
    let (_guard, data) = data();
    let root = data.root().to_owned();
    fs::create_dir_all(root.join("real/deeper")).unwrap();
    fs::write(root.join("real/file.json"), "{}").unwrap();
    // Relative and absolute link targets, a directory and a file.
    symlink("real", root.join("relative_link")).unwrap();
    symlink(root.join("real"), root.join("absolute_link")).unwrap();
    symlink("real/file.json", root.join("file_link")).unwrap();
    symlink("../file.json", root.join("real/deeper/up_link")).unwrap();
    symlink("real/not_yet.json", root.join("dangling_inside")).unwrap();

    for path in [
        "relative_link/file.json",
        "relative_link/new.json",
        "relative_link/new_dir/new.json",
        "absolute_link/file.json",
        "file_link",
        "real/deeper/up_link",
        "dangling_inside",
    ] {
        assert_eq!(data.resolve(path).unwrap(), root.join(path), "{path}");
    }
}

#[test]
fn resolve_refuses_an_empty_path() {
    let (_guard, data) = data();
    let error = data.resolve("").unwrap_err();
    assert!(matches!(error, StorageError::EmptyPath { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&data.root().display().to_string())
    );
}

#[test]
fn resolve_refuses_absolute_paths() {
    let (_guard, data) = data();
    for path in ["/etc/passwd", "/", "//x"] {
        let error = data.resolve(path).unwrap_err();
        assert!(
            matches!(error, StorageError::AbsolutePath { .. }),
            "{path}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&format!("`{path}`")), "{message}");
        assert!(
            message.contains(&data.root().display().to_string()),
            "{message}"
        );
    }
    // Even an absolute path that happens to be inside.
    let inside = data.root().join("a.json");
    assert!(matches!(
        data.resolve(&inside),
        Err(StorageError::AbsolutePath { .. })
    ));
}

#[test]
fn resolve_refuses_dot_dot_escapes() {
    let (_guard, data) = data();
    for path in ["..", "../x", "a/../../x", "./a/b/../../../x", "a/../.."] {
        let error = data.resolve(path).unwrap_err();
        assert!(
            matches!(error, StorageError::Escape { .. }),
            "{path}: {error:?}"
        );
    }
    let data = DataDirectory::new("/symphony_data");
    assert_eq!(
        data.resolve("../etc/passwd").unwrap_err().to_string(),
        "the path `../etc/passwd` leaves the data directory `/symphony_data`: give a path relative to it without `..`"
    );
}

#[test]
fn resolve_refuses_symlink_escapes() {
    let (_guard, data) = data();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "s3cr3t").unwrap();
    let root = data.root().to_owned();
    fs::create_dir(root.join("sub")).unwrap();
    // A link to a file elsewhere, to a directory elsewhere, a dangling link
    // to elsewhere, a link climbing out, a link chain ending outside.
    symlink(outside.path().join("secret.txt"), root.join("file_out")).unwrap();
    symlink(outside.path(), root.join("dir_out")).unwrap();
    symlink(outside.path().join("new.json"), root.join("dangling_out")).unwrap();
    symlink("../..", root.join("sub/up")).unwrap();
    symlink("dir_out", root.join("chain")).unwrap();
    symlink("dangling_out", root.join("dangling_chain")).unwrap();

    for path in [
        "file_out",
        "dir_out",
        "dir_out/secret.txt",
        "dir_out/new/deeper.json",
        "dangling_out",
        "sub/up",
        "sub/up/etc",
        "chain/secret.txt",
        "dangling_chain",
    ] {
        let error = data.resolve(path).unwrap_err();
        let StorageError::SymlinkEscape {
            path: reported,
            data_directory,
            resolved,
            ..
        } = &error
        else {
            panic!("{path}: {error:?}");
        };
        assert_eq!(reported, Path::new(path));
        assert_eq!(data_directory, &root);
        assert!(!resolved.starts_with(fs::canonicalize(&root).unwrap()));
        let message = error.to_string();
        assert!(message.contains(&format!("`{path}`")), "{message}");
        assert!(message.contains("symbolic link"), "{message}");
        assert!(!message.contains("s3cr3t"));
    }
}

#[test]
fn resolve_follows_a_data_directory_that_is_itself_a_symlink() {
    let temporary = tempfile::tempdir().unwrap();
    fs::create_dir(temporary.path().join("real")).unwrap();
    symlink("real", temporary.path().join("data")).unwrap();
    let data = DataDirectory::new(temporary.path().join("data"));
    assert!(data.resolve("a/b.json").is_ok());
    // The sibling of the real directory is outside.
    symlink("../elsewhere", temporary.path().join("real/out")).unwrap();
    assert!(matches!(
        data.resolve("out/x"),
        Err(StorageError::SymlinkEscape { .. })
    ));
}

// ---------------------------------------------------------------- sub_folder

#[test]
fn sub_folder_narrows_the_data_directory() {
    let (_guard, data) = data();
    let tenant = data.with_sub_folder("tenant/a").unwrap();
    assert_eq!(tenant.root(), data.root().join("tenant/a"));
    assert_eq!(
        tenant.resolve("x.json").unwrap(),
        data.root().join("tenant/a/x.json")
    );
    // The sub-folder is the new boundary.
    assert!(matches!(
        tenant.resolve("../b/x.json"),
        Err(StorageError::Escape { .. })
    ));
    // Empty: no sub-folder, as in the Python SDK.
    assert_eq!(data.with_sub_folder("").unwrap(), data);
    let written = tenant.write("f.txt", "x").unwrap();
    assert!(data.root().join("tenant/a").join(written).is_file());
}

#[test]
fn a_relative_sub_folder_must_stay_inside() {
    let (_guard, data) = data();
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), data.root().join("out")).unwrap();
    for (sub_folder, check) in [
        (
            "../other",
            (|e| matches!(e, StorageError::Escape { .. })) as fn(&StorageError) -> bool,
        ),
        ("a/../../other", |e| {
            matches!(e, StorageError::Escape { .. })
        }),
        ("out", |e| matches!(e, StorageError::SymlinkEscape { .. })),
    ] {
        let error = data.with_sub_folder(sub_folder).unwrap_err();
        let StorageError::SubFolder {
            sub_folder: reported,
            reason,
            ..
        } = &error
        else {
            panic!("{sub_folder}: {error:?}");
        };
        assert_eq!(reported, sub_folder);
        assert!(check(reason), "{sub_folder}: {reason:?}");
        assert!(error.to_string().contains("`sub_folder`"));
    }
}

#[test]
fn an_absolute_sub_folder_is_used_as_given_and_arguments_stay_inside_it() {
    let (_guard, data) = data();
    let elsewhere = tempfile::tempdir().unwrap();
    let sub_folder = elsewhere.path().to_str().unwrap();
    let tenant = data.with_sub_folder(sub_folder).unwrap();
    assert_eq!(tenant.root(), elsewhere.path());
    assert_eq!(
        tenant.resolve("x.json").unwrap(),
        elsewhere.path().join("x.json")
    );
    // A path given as an argument is still refused when absolute.
    assert!(matches!(
        tenant.resolve("/etc/passwd"),
        Err(StorageError::AbsolutePath { .. })
    ));
    assert!(matches!(
        tenant.resolve("../x.json"),
        Err(StorageError::Escape { .. })
    ));
}

// ---------------------------------------------------------------- write

#[test]
fn write_returns_a_relative_path_in_a_fresh_directory() {
    let temporary = tempfile::tempdir().unwrap();
    let data = DataDirectory::new(temporary.path().join("created/by/write"));
    let first = data.write("result.txt", "first").unwrap();
    let second = data.write("result.txt", b"second".as_slice()).unwrap();
    for (relative, content) in [(&first, "first"), (&second, "second")] {
        assert!(relative.is_relative());
        let components: Vec<_> = relative.components().collect();
        assert_eq!(components.len(), 2, "{relative:?}");
        assert!(relative.ends_with("result.txt"));
        let directory = relative.parent().unwrap().to_str().unwrap();
        assert!(uuid::Uuid::try_parse(directory).is_ok(), "{directory}");
        assert_eq!(
            fs::read_to_string(data.resolve(relative).unwrap()).unwrap(),
            content
        );
    }
    assert_ne!(first.parent(), second.parent());
}

#[test]
fn write_json_is_compact() {
    let (_guard, data) = data();
    let value = serde_json::json!({"b": [1, 2], "a": {"c": "d"}});
    let relative = data.write_json("events.json", &value).unwrap();
    assert_eq!(
        fs::read_to_string(data.root().join(relative)).unwrap(),
        serde_json::to_string(&value).unwrap()
    );
}

#[test]
fn write_json_of_an_unserializable_value_creates_nothing() {
    let (_guard, data) = data();
    let value = BTreeMap::from([((1, 2), 3)]);
    let error = data.write_json("x.json", &value).unwrap_err();
    assert!(matches!(error, StorageError::Serialize { .. }), "{error:?}");
    assert_eq!(fs::read_dir(data.root()).unwrap().count(), 0);
}

#[test]
fn write_refuses_file_names_that_are_not_plain() {
    let (_guard, data) = data();
    for filename in ["", ".", "..", "a/b", "../x", "/etc/passwd", "a/", "a\0b"] {
        let error = data.write(filename, "x").unwrap_err();
        assert!(
            matches!(error, StorageError::InvalidFileName { .. }),
            "{filename:?}: {error:?}"
        );
        assert!(data.write_json(filename, &1).is_err());
    }
    // Nothing was created for them.
    assert_eq!(fs::read_dir(data.root()).unwrap().count(), 0);
    // Dots inside a name are fine.
    assert!(data.write(".hidden..json", "x").is_ok());
}

// ---------------------------------------------------------------- temp_directory

#[test]
fn temp_directory_creates_a_fresh_directory() {
    let temporary = tempfile::tempdir().unwrap();
    let data = DataDirectory::new(temporary.path().join("missing/root"));
    let first = data.temp_directory().unwrap();
    let second = data.temp_directory().unwrap();
    assert_ne!(first, second);
    for directory in [&first, &second] {
        assert!(directory.is_relative());
        assert_eq!(directory.components().count(), 1);
        assert!(uuid::Uuid::try_parse(directory.to_str().unwrap()).is_ok());
        let path = data.root().join(directory);
        assert!(path.is_dir());
        assert_eq!(fs::read_dir(path).unwrap().count(), 0);
    }
}

// ---------------------------------------------------------------- PersistentJson

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    most_recent_date_seen: Option<String>,
    count: u64,
}

fn checkpoint(date: &str, count: u64) -> Checkpoint {
    Checkpoint {
        most_recent_date_seen: Some(date.to_owned()),
        count,
    }
}

/// The names in the directory of `path` other than its own: leftovers.
fn leftovers(path: &Path) -> Vec<String> {
    let name = path.file_name().unwrap();
    fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != name)
        .map(|n| n.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn missing_file_gives_the_default_and_no_file_until_saved() {
    let (_guard, data) = data();
    let state = data.persistent_json::<Checkpoint>("context.json").unwrap();
    assert_eq!(*state, Checkpoint::default());
    assert_eq!(state.path(), data.root().join("context.json"));
    assert!(!state.path().exists());
    let path = state.path().to_owned();
    drop(state);
    // The first save creates it, as the Python SDK does.
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        r#"{"most_recent_date_seen":null,"count":0}"#
    );
}

#[test]
fn round_trip_through_drop() {
    let (_guard, data) = data();
    {
        let mut state = data.persistent_json::<Checkpoint>("context.json").unwrap();
        state.most_recent_date_seen = Some("2026-01-02T03:04:05Z".into());
        state.count = 3;
    }
    let state = data.persistent_json::<Checkpoint>("context.json").unwrap();
    assert_eq!(*state, checkpoint("2026-01-02T03:04:05Z", 3));
    assert!(leftovers(state.path()).is_empty());
}

#[test]
fn explicit_save_and_close() {
    let (_guard, data) = data();
    let path = data.resolve("state.json").unwrap();
    let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
    state.count = 1;
    state.save().unwrap();
    assert_eq!(
        serde_json::from_slice::<Checkpoint>(&fs::read(&path).unwrap()).unwrap(),
        Checkpoint {
            most_recent_date_seen: None,
            count: 1
        }
    );
    state.count = 2;
    state.close().unwrap();
    assert_eq!(
        PersistentJson::<Checkpoint>::open(&path)
            .unwrap()
            .discard()
            .count,
        2
    );
    assert!(leftovers(&path).is_empty());
}

#[test]
fn discard_does_not_save() {
    let (_guard, data) = data();
    let path = data.resolve("state.json").unwrap();
    fs::write(&path, r#"{"most_recent_date_seen":"x","count":1}"#).unwrap();
    let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
    state.count = 100;
    assert_eq!(state.discard(), checkpoint("x", 100));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        r#"{"most_recent_date_seen":"x","count":1}"#
    );
}

#[test]
fn corrupt_file_is_an_error_and_left_untouched() {
    let (_guard, data) = data();
    let path = data.resolve("context.json").unwrap();
    for content in [
        &b"{\"most_recent_date_seen\": \"2026"[..],
        b"",
        b"not json",
        b"\xff\xfe{}",
        b"{} trailing",
        // A shape mismatch before the syntax error: still corrupt.
        b"{\"count\": \"2026\", \"most_recent_date_seen\": ",
        b"[1, 2026",
    ] {
        fs::write(&path, content).unwrap();
        let error = PersistentJson::<Checkpoint>::open(&path).unwrap_err();
        assert!(
            matches!(error, StorageError::CorruptJson { .. }),
            "{content:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("delete it"), "{message}");
        assert!(!message.contains("2026"), "{message}");
        assert_eq!(fs::read(&path).unwrap(), content);
    }
}

#[test]
fn wrongly_shaped_file_is_an_error_and_left_untouched() {
    let (_guard, data) = data();
    let path = data.resolve("context.json").unwrap();
    for content in [
        r#"[1, 2]"#,
        r#"{"most_recent_date_seen": 12, "count": 1}"#,
        r#"{"most_recent_date_seen": null, "count": "top-secret-value"}"#,
        r#"null"#,
    ] {
        fs::write(&path, content).unwrap();
        let error = PersistentJson::<Checkpoint>::open(&path).unwrap_err();
        assert!(
            matches!(error, StorageError::WrongShape { .. }),
            "{content}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("Checkpoint"), "{message}");
        assert!(!message.contains("top-secret-value"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), content);
    }
}

#[test]
fn unreadable_path_is_an_io_error() {
    let (_guard, data) = data();
    fs::create_dir(data.root().join("a_directory.json")).unwrap();
    let error = data
        .persistent_json::<Checkpoint>("a_directory.json")
        .unwrap_err();
    let StorageError::Io { path, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(path, &data.root().join("a_directory.json"));
    assert!(error.to_string().contains("a_directory.json"));
    // A path that names no file.
    assert!(matches!(
        PersistentJson::<Checkpoint>::open(data.root().join("a/..")),
        Err(StorageError::NotAFile { .. })
    ));
}

#[test]
fn persistent_json_refuses_escaping_paths() {
    let (_guard, data) = data();
    assert!(matches!(
        data.persistent_json::<Checkpoint>("../context.json"),
        Err(StorageError::Escape { .. })
    ));
    assert!(matches!(
        data.persistent_json::<Checkpoint>("/tmp/context.json"),
        Err(StorageError::AbsolutePath { .. })
    ));
}

/// Captures `log` records, to check what `Drop` logs.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{}: {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

/// The captured error logs that mention `path`.
fn logged_errors_about(path: &Path) -> Vec<String> {
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Trace);
    let needle = path.display().to_string();
    CAPTURE
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.starts_with("ERROR") && m.contains(&needle))
        .cloned()
        .collect()
}

#[test]
fn serialization_failure_leaves_the_old_file_intact() {
    let _ = logged_errors_about(Path::new("")); // install the logger
    let (_guard, data) = data();
    let path = data.resolve("map.json").unwrap();
    fs::write(&path, "{}").unwrap();
    let inode = fs::metadata(&path).unwrap().ino();

    // Keys that are not strings cannot be JSON object keys.
    let mut state = PersistentJson::<BTreeMap<Vec<u8>, u8>>::open(&path).unwrap();
    state.insert(vec![1, 2], 3);
    let error = state.save().unwrap_err();
    let StorageError::Serialize { path: reported, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(reported, &path);
    assert!(error.to_string().contains("nothing was written"));
    assert_eq!(fs::read_to_string(&path).unwrap(), "{}");

    // Dropping it fails too: logged with the path, no panic.
    drop(state);
    assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
    assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
    assert!(leftovers(&path).is_empty(), "{:?}", leftovers(&path));
    let logged = logged_errors_about(&path);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].contains("could not be saved"), "{logged:?}");

    // close reports it.
    let mut state = PersistentJson::<BTreeMap<Vec<u8>, u8>>::open(&path).unwrap();
    state.insert(vec![4], 5);
    assert!(matches!(state.close(), Err(StorageError::Serialize { .. })));
    assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
}

/// A value whose serialization panics.
#[derive(Default, Deserialize)]
struct PanicsWhenSerialized;

impl Serialize for PanicsWhenSerialized {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialization panicked on purpose")
    }
}

#[test]
fn drop_never_panics() {
    let _ = logged_errors_about(Path::new(""));
    let (_guard, data) = data();
    let path = data.resolve("panics.json").unwrap();
    let state = PersistentJson::<PanicsWhenSerialized>::open(&path).unwrap();
    drop(state); // no panic escapes
    assert!(!path.exists());
    assert_eq!(logged_errors_about(&path).len(), 1);

    // Not even while unwinding (that would abort the process).
    let state = PersistentJson::<PanicsWhenSerialized>::open(&path).unwrap();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _state = state;
        panic!("the action failed");
    }));
    assert!(unwound.is_err());
    assert_eq!(logged_errors_about(&path).len(), 2);
}

#[test]
fn drop_saves_while_unwinding() {
    let (_guard, data) = data();
    let path = data.resolve("state.json").unwrap();
    let unwound = std::panic::catch_unwind(|| {
        let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
        state.count = 9;
        panic!("the action failed");
    });
    assert!(unwound.is_err());
    assert_eq!(
        PersistentJson::<Checkpoint>::open(&path)
            .unwrap()
            .discard()
            .count,
        9
    );
}

#[test]
fn no_write_when_unchanged() {
    let (_guard, data) = data();
    let path = data.resolve("context.json").unwrap();
    {
        let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
        *state = checkpoint("2026-01-02T03:04:05Z", 1);
    }
    let before = fs::metadata(&path).unwrap();
    // Make an unexpected rewrite visible in the modification time too.
    std::thread::sleep(Duration::from_millis(20));

    // Read-only uses, through drop, save and close.
    {
        let state = PersistentJson::<Checkpoint>::open(&path).unwrap();
        assert_eq!(state.count, 1);
    }
    let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
    state.count = 1; // same value
    state.save().unwrap();
    state.close().unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.ino(), before.ino());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());

    // A real change does replace the file (so the check above means something).
    let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
    state.count = 2;
    state.save().unwrap();
    let changed = fs::metadata(&path).unwrap();
    assert_ne!(changed.ino(), before.ino());
    // And saving it again writes nothing more.
    state.save().unwrap();
    drop(state);
    assert_eq!(fs::metadata(&path).unwrap().ino(), changed.ino());
}

#[test]
fn an_unchanged_file_in_another_format_is_rewritten_once() {
    let (_guard, data) = data();
    let path = data.resolve("pretty.json").unwrap();
    fs::write(&path, "{\n  \"a\": 1\n}\n").unwrap();
    drop(PersistentJson::<BTreeMap<String, u32>>::open(&path).unwrap());
    assert_eq!(fs::read_to_string(&path).unwrap(), r#"{"a":1}"#);
    let inode = fs::metadata(&path).unwrap().ino();
    drop(PersistentJson::<BTreeMap<String, u32>>::open(&path).unwrap());
    assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
}

#[test]
fn nested_parent_directories_are_created() {
    let (_guard, data) = data();
    let path: PathBuf = data.resolve("a/b/c/state.json").unwrap();
    let mut state = PersistentJson::<Checkpoint>::open(&path).unwrap();
    assert!(data.root().join("a/b/c").is_dir());
    state.count = 5;
    state.close().unwrap();
    assert!(path.is_file());
}

#[test]
fn stale_temporary_files_are_removed_when_opening() {
    let (_guard, data) = data();
    let path = data.resolve("context.json").unwrap();
    let stale = data
        .root()
        .join(format!(".context.json.{}.tmp", uuid::Uuid::new_v4()));
    let recent = data
        .root()
        .join(format!(".context.json.{}.tmp", uuid::Uuid::new_v4()));
    let other = data
        .root()
        .join(format!(".other.json.{}.tmp", uuid::Uuid::new_v4()));
    let unrelated = data.root().join(".context.json.not-a-uuid.tmp");
    let abandoned = data
        .root()
        .join(format!(".context.json.{}.tmp", uuid::Uuid::new_v4()));
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    for file in [&stale, &recent, &other, &unrelated, &abandoned] {
        fs::write(file, "{\"partial").unwrap();
        if file != &recent && file != &abandoned {
            fs::File::options()
                .write(true)
                .open(file)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
    }
    // A save in progress holds a lock on its temporary file.
    let writer = fs::File::open(&recent).unwrap();
    {
        use std::os::fd::AsRawFd as _;
        // SAFETY: flock(2) on a descriptor owned by `writer`.
        assert_eq!(unsafe { libc::flock(writer.as_raw_fd(), libc::LOCK_EX) }, 0);
    }
    let state = PersistentJson::<Checkpoint>::open(&path).unwrap();
    assert_eq!(*state, Checkpoint::default());
    assert!(!stale.exists());
    assert!(!abandoned.exists(), "recent, but its writer is gone");
    assert!(recent.exists(), "a save in progress");
    drop(writer);
    assert!(other.exists() && unrelated.exists(), "not ours");
    state.discard();
}

#[test]
fn debug_shows_the_path_and_the_value() {
    let (_guard, data) = data();
    let state = data.persistent_json::<Checkpoint>("context.json").unwrap();
    let debug = format!("{state:?}");
    assert!(debug.contains("context.json"), "{debug}");
    assert!(debug.contains("most_recent_date_seen"), "{debug}");
    state.discard();
}

#[test]
fn persistent_json_of_a_json_value() {
    let (_guard, data) = data();
    let path = data.resolve("any.json").unwrap();
    {
        let mut state = PersistentJson::<serde_json::Value>::open(&path).unwrap();
        assert!(state.is_null());
        *state = serde_json::json!({"z": 1, "a": [true, null]});
    }
    let state = PersistentJson::<serde_json::Value>::open(&path).unwrap();
    assert_eq!(*state, serde_json::json!({"z": 1, "a": [true, null]}));
    state.discard();
}

#[test]
fn a_symlinked_file_is_saved_through_the_link() {
    let (_guard, data) = data();
    let root = data.root().to_owned();
    fs::create_dir(root.join("real")).unwrap();
    fs::write(
        root.join("real/state.json"),
        r#"{"most_recent_date_seen":"x","count":1}"#,
    )
    .unwrap();
    symlink("real/state.json", root.join("link.json")).unwrap();
    symlink("real/new.json", root.join("dangling.json")).unwrap();
    {
        let mut state = data.persistent_json::<Checkpoint>("link.json").unwrap();
        assert_eq!(*state, checkpoint("x", 1));
        assert_eq!(state.path(), root.join("link.json"));
        state.count = 2;
        let mut new = data.persistent_json::<Checkpoint>("dangling.json").unwrap();
        new.count = 3;
    }
    assert!(
        fs::symlink_metadata(root.join("link.json"))
            .unwrap()
            .is_symlink()
    );
    assert!(
        fs::symlink_metadata(root.join("dangling.json"))
            .unwrap()
            .is_symlink()
    );
    let saved = |name: &str| {
        serde_json::from_slice::<Checkpoint>(&fs::read(root.join(name)).unwrap()).unwrap()
    };
    assert_eq!(saved("real/state.json"), checkpoint("x", 2));
    assert_eq!(saved("real/new.json").count, 3);
    assert!(leftovers(&root.join("real/state.json")).contains(&"new.json".to_owned()));
    assert_eq!(leftovers(&root.join("real/state.json")).len(), 1);
}
