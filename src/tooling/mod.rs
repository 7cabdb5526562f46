//! The reserved invocations every module binary answers, besides its items.
//!
//! | invocation | what it does |
//! | --- | --- |
//! | `generate-files [DIR]` | writes `manifest.json` and the item manifests ([`generate`](crate::tooling::generate)); a missing `manifest.json` is started ([`starter_manifest`](crate::tooling::generate::starter_manifest)) |
//! | `check-module [DIR]` | checks the module directory against the code ([`check`](crate::tooling::check)); exit 1 with the list of problems |
//! | `run-local COMMAND [OPTIONS]` | runs one item against the embedded local platform ([`local_run`](crate::tooling::local_run)) |
//! | `generate-documentation [DIR] [--output FILE]` | writes the module's Markdown page ([`documentation`](crate::tooling::documentation)) |
//! | `help-module`, `--help`, `-h` | lists the items and these invocations ([`help`]); with no argument at all, the same on stderr and exit 2 (unless an item is registered under the empty command) |
//!
//! `DIR`, the module directory, defaults to the directory of the manifest
//! path (`manifest.json` in the working directory unless
//! `SEKOIA_AUTOMATION_MANIFEST` or
//! [`Module::manifest_path`](crate::Module::manifest_path) says otherwise).
//! Registering an item under one of [`RESERVED_COMMANDS`] is refused: the
//! module reports it and exits with code 2.
//!
//! ```no_run
//! # use sekoia_automation::{Module, Action};
//! # fn module() -> Module<(), sekoia_automation::typestate::Registered> { unimplemented!() }
//! // $ my-module generate-files          # writes ./manifest.json, ./action_*.json...
//! // $ my-module check-module            # exit 0, or 1 and a list of problems
//! // $ my-module run-local greet name=world
//! let code = module().run_invocation("check-module", vec!["path/to/module".into()]);
//! ```

pub(crate) mod check;
#[cfg(feature = "cli")]
pub(crate) mod compare;
pub(crate) mod documentation;
pub(crate) mod generate;
pub(crate) mod local_run;
pub(crate) mod manifest_text;
#[cfg(feature = "cli")]
pub(crate) mod port;
#[cfg(feature = "cli")]
pub(crate) mod scaffold;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};

use crate::config::settings::Settings;
use crate::item::manifest::{ItemManifest, file_name};
use crate::item::registration::{ItemKind, Registration};
use crate::tooling::generate::GenerateError;

/// Generates the module's files: `generate-files [DIR]`.
pub const GENERATE_FILES: &str = "generate-files";
/// Checks the module directory: `check-module [DIR]`.
pub const CHECK_MODULE: &str = "check-module";
/// Runs one item locally: `run-local COMMAND [OPTIONS]`.
pub const RUN_LOCAL: &str = "run-local";
/// Writes the documentation: `generate-documentation [DIR] [--output FILE]`.
pub const GENERATE_DOCUMENTATION: &str = "generate-documentation";
/// Lists the items and the reserved invocations.
pub const HELP_MODULE: &str = "help-module";

/// The commands reserved for the tooling: no item may be registered under
/// one of them.
pub const RESERVED_COMMANDS: &[&str] = &[
    GENERATE_FILES,
    CHECK_MODULE,
    RUN_LOCAL,
    GENERATE_DOCUMENTATION,
    HELP_MODULE,
];

/// Whether `command` is reserved for the tooling.
///
/// ```
/// use sekoia_automation::unversioned::is_reserved;
/// assert!(is_reserved("generate-files"));
/// assert!(!is_reserved("greet"));
/// ```
pub fn is_reserved(command: &str) -> bool {
    RESERVED_COMMANDS.contains(&command)
}

/// One registered item, as the tooling sees it (no generics): what the
/// code states, and once [linked](ModuleItems::link) what its manifest
/// file gives for the rest.
#[derive(Clone)]
pub struct ItemRef<'a> {
    /// The command (`argv[1]`) it is registered under.
    pub command: &'a str,
    /// Its kind.
    pub kind: ItemKind,
    /// Its name; empty when neither the code nor a linked file gives one.
    pub name: Cow<'a, str>,
    /// Its description; empty when neither gives one.
    pub description: Cow<'a, str>,
    /// Its uuid, stated or linked; `None`: derived from the name.
    pub uuid: Option<Cow<'a, str>>,
    /// Its slug, stated or linked; `None`: no slug.
    pub slug: Option<Cow<'a, str>>,
    /// Its manifest file, stated or linked; `None`: derived from the name.
    pub file: Option<Cow<'a, str>>,
    /// What its manifest holds.
    pub manifest: &'a dyn ItemManifest,
}

impl std::fmt::Debug for ItemRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemRef")
            .field("command", &self.command)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The registered items of a module, as the tooling sees them.
///
/// ```
/// use sekoia_automation::unversioned::ModuleItems;
/// use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
/// # struct Ping;
/// # impl Action for Ping {
/// #     type ModuleConfiguration = ();
/// #     type Arguments = serde_json::Value;
/// #     type Results = serde_json::Value;
/// #     const NAME: &'static str = "Ping";
/// #     const DESCRIPTION: &'static str = "Answer pong";
/// #     fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> { Ok(Outcome::none()) }
/// # }
/// let module = Module::<()>::new().register("ping", Ping);
/// let items = ModuleItems::new(module.items());
/// assert_eq!(items.find("ping").unwrap().name, "Ping");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ModuleItems<'a> {
    items: Vec<ItemRef<'a>>,
    /// The module directory the items were [linked](Self::link) to.
    linked_to: Option<PathBuf>,
}

impl<'a> ModuleItems<'a> {
    /// The items of a module ([`Module::items`](crate::Module::items)).
    pub fn new<C>(registrations: &'a [Registration<C>]) -> Self {
        ModuleItems {
            items: registrations
                .iter()
                .map(|registration| {
                    let identity = registration.manifest().identity();
                    ItemRef {
                        command: registration.command(),
                        kind: registration.kind(),
                        name: registration.name().into(),
                        description: registration.description().into(),
                        uuid: identity.stated_uuid().map(Cow::from),
                        slug: identity.stated_slug().map(Cow::from),
                        file: identity.stated_file().map(Cow::from),
                        manifest: registration.manifest(),
                    }
                })
                .collect(),
            linked_to: None,
        }
    }

    /// The items linked to the manifests of `directory`, as the Python
    /// SDK's tooling links them: an item that states no manifest file gets
    /// the `<prefix>_*.json` whose `docker_parameters` is its command (the
    /// one named after the item when several are), and from it what the
    /// code does not state: uuid, slug, name and description. The code
    /// owns only what it states. Fails for an item left without a name
    /// (no such file, and no name in the code).
    /// Items already linked to `directory` are given back as they are.
    pub fn link(&self, directory: &Path) -> Result<ModuleItems<'a>, GenerateError> {
        if self.linked_to.as_deref() == Some(directory) {
            return Ok(self.clone());
        }
        let mut manifests: Vec<(String, Map<String, Value>)> = Vec::new();
        if let Ok(entries) = std::fs::read_dir(directory) {
            for entry in entries.flatten() {
                let Ok(file) = entry.file_name().into_string() else {
                    continue;
                };
                if !file.ends_with(".json") || file == generate::MANIFEST_FILE {
                    continue;
                }
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if let Ok(Value::Object(map)) = serde_json::from_str(&text) {
                    manifests.push((file, map));
                }
            }
        }
        manifests.sort_by(|a, b| a.0.cmp(&b.0));
        let text = |map: &Map<String, Value>, key: &str| -> Option<Cow<'a, str>> {
            map.get(key)
                .and_then(Value::as_str)
                .map(|text| Cow::Owned(text.to_string()))
        };
        let mut items = self.items.clone();
        for item in &mut items {
            let Some(kind) = item.manifest.kind() else {
                continue;
            };
            if item.file.is_none() {
                let derived = file_name(kind.prefix, &item.name);
                let mut candidates = manifests.iter().filter(|(file, map)| {
                    file.strip_prefix(kind.prefix)
                        .is_some_and(|rest| rest.starts_with('_'))
                        && map.get("docker_parameters").and_then(Value::as_str)
                            == Some(item.command)
                });
                let first = candidates.clone().next();
                let linked = candidates.find(|(file, _)| *file == derived).or(first);
                if let Some((file, map)) = linked {
                    item.file = Some(Cow::Owned(file.clone()));
                    item.uuid = item.uuid.take().or_else(|| text(map, "uuid"));
                    item.slug = item.slug.take().or_else(|| text(map, "slug"));
                    if item.name.is_empty() {
                        item.name = text(map, "name").unwrap_or_default();
                    }
                    if item.description.is_empty() {
                        item.description = text(map, "description").unwrap_or_default();
                    }
                }
            }
            if item.name.is_empty() {
                return Err(GenerateError::Unnamed {
                    command: item.command.to_string(),
                    prefix: kind.prefix,
                    directory: directory.to_path_buf(),
                });
            }
        }
        Ok(ModuleItems {
            items,
            linked_to: Some(directory.to_path_buf()),
        })
    }

    /// The items, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &ItemRef<'a>> {
        self.items.iter()
    }

    /// The item registered under `command`.
    pub fn find(&self, command: &str) -> Option<&ItemRef<'a>> {
        self.items.iter().find(|item| item.command == command)
    }

    /// The registered commands, quoted and comma-separated (for messages).
    pub fn command_list(&self) -> String {
        self.items
            .iter()
            .map(|item| format!("`{}`", item.command))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The module directory: `argument` when given, else the directory of the
/// manifest path (the working directory for a bare `manifest.json`).
pub fn module_directory(settings: &Settings, argument: Option<&str>) -> PathBuf {
    if let Some(directory) = argument {
        return PathBuf::from(directory);
    }
    match settings.manifest_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Runs the reserved invocation `command` with the arguments that follow it;
/// `None` when `command` is not reserved.
pub(crate) fn dispatch<C>(
    command: &str,
    arguments: &[String],
    settings: &Settings,
    registrations: &[Registration<C>],
) -> Option<ExitCode> {
    if !is_reserved(command) {
        return None;
    }
    let items = ModuleItems::new(registrations);
    let code = match command {
        GENERATE_FILES => generate_files(&items, settings, arguments),
        CHECK_MODULE => check_module(&items, settings, arguments),
        RUN_LOCAL => crate::tooling::local_run::main(&items, settings, arguments),
        GENERATE_DOCUMENTATION => generate_documentation(&items, settings, arguments),
        _ => {
            print_help(&items);
            ExitCode::SUCCESS
        }
    };
    Some(code)
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// `[DIR]`: at most one positional argument, no option.
fn directory_argument<'a>(
    invocation: &str,
    arguments: &'a [String],
) -> Result<Option<&'a str>, ExitCode> {
    match arguments {
        [] => Ok(None),
        [directory] if !directory.starts_with('-') => Ok(Some(directory)),
        _ => Err(usage_error(&format!(
            "`{invocation}` takes one optional argument, the module directory: `{invocation} [DIR]`"
        ))),
    }
}

fn generate_files(items: &ModuleItems<'_>, settings: &Settings, arguments: &[String]) -> ExitCode {
    let directory = match directory_argument(GENERATE_FILES, arguments) {
        Ok(directory) => module_directory(settings, directory),
        Err(code) => return code,
    };
    let manifest_path = directory.join(crate::tooling::generate::MANIFEST_FILE);
    if !manifest_path.exists() {
        // A module written by hand: start its manifest, with a fresh uuid.
        let starter = crate::tooling::generate::starter_manifest(&program_name());
        let text = crate::tooling::generate::to_file_text(&serde_json::Value::Object(starter));
        if let Err(error) = std::fs::write(&manifest_path, text) {
            return usage_error(&format!(
                "cannot write {}: {error}",
                manifest_path.display()
            ));
        }
        eprintln!(
            "note: {} did not exist: started it with a fresh uuid; review its name, slug and description, and keep it (the uuid names the module on the platform)",
            manifest_path.display()
        );
    }
    let files = match crate::tooling::generate::generate(&directory, items) {
        Ok(files) => files,
        Err(error) => return usage_error(&error.to_string()),
    };
    let changed = match crate::tooling::generate::write(&directory, &files) {
        Ok(changed) => changed,
        Err(error) => return usage_error(&error.to_string()),
    };
    for (file, changed) in files.iter().zip(changed) {
        let state = if changed { "wrote" } else { "unchanged" };
        println!("{state:>9} {}", directory.join(&file.file_name).display());
    }
    for stale in crate::tooling::check::stale_files(&directory, &files) {
        eprintln!(
            "warning: {} matches no registered item: remove it if the item is gone",
            directory.join(stale).display()
        );
    }
    ExitCode::SUCCESS
}

fn check_module(items: &ModuleItems<'_>, settings: &Settings, arguments: &[String]) -> ExitCode {
    let directory = match directory_argument(CHECK_MODULE, arguments) {
        Ok(directory) => module_directory(settings, directory),
        Err(code) => return code,
    };
    let problems = crate::tooling::check::check(
        &directory,
        Some(items),
        &crate::tooling::check::Rules::default(),
    );
    let checked = crate::tooling::check::checked(&directory, Some(items));
    crate::tooling::check::report(CHECK_MODULE, &directory, &checked, &problems)
}

fn generate_documentation(
    items: &ModuleItems<'_>,
    settings: &Settings,
    arguments: &[String],
) -> ExitCode {
    let mut directory = None;
    let mut output = None;
    let mut rest = arguments.iter();
    while let Some(argument) = rest.next() {
        match argument.as_str() {
            "--output" | "-o" => match rest.next() {
                Some(path) => output = Some(path.clone()),
                None => return usage_error("`--output` needs a file (`-` for stdout)"),
            },
            other if !other.starts_with('-') && directory.is_none() => {
                directory = Some(other.to_string());
            }
            other => {
                return usage_error(&format!(
                    "unexpected `{other}`: `{GENERATE_DOCUMENTATION} [DIR] [--output FILE]`"
                ));
            }
        }
    }
    let directory = module_directory(settings, directory.as_deref());
    let files = match crate::tooling::generate::generate(&directory, items) {
        Ok(files) => files,
        Err(error) => return usage_error(&error.to_string()),
    };
    let page = match crate::tooling::documentation::from_generated(&files) {
        Ok(page) => page,
        Err(error) => return usage_error(&error.to_string()),
    };
    write_output(
        &page,
        output.as_deref(),
        &directory.join(crate::tooling::documentation::DEFAULT_FILE),
    )
}

/// Writes `text` to `output` (`-`: stdout), else to `default`.
pub(crate) fn write_output(text: &str, output: Option<&str>, default: &Path) -> ExitCode {
    match output {
        Some("-") => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        _ => {
            let path = output.map_or_else(|| default.to_path_buf(), PathBuf::from);
            match std::fs::write(&path, text) {
                Ok(()) => {
                    println!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(error) => usage_error(&format!("cannot write {}: {error}", path.display())),
            }
        }
    }
}

/// A kind's name, for messages.
pub(crate) fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Action => "action",
        ItemKind::Trigger => "trigger",
        ItemKind::Connector => "connector",
        ItemKind::AssetConnector => "asset connector",
        ItemKind::AccountValidator => "account validator",
    }
}

/// The module's help: its items (with their kind and name) and the
/// reserved invocations, as `--help`, `-h`, `help-module` and a bare call
/// print it.
pub(crate) fn help(program: &str, items: &ModuleItems<'_>) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(text, "usage: {program} COMMAND [ARGUMENTS]\n");
    let _ = writeln!(
        text,
        "Items (the platform runs `{program} COMMAND` with its configuration in /symphony):"
    );
    for item in items.iter() {
        let command = if item.command.is_empty() {
            "(no command)"
        } else {
            item.command
        };
        let kind = kind_name(item.kind);
        if item.name.is_empty() {
            let _ = writeln!(text, "  {command:<38} {kind} (named by its manifest file)");
        } else {
            let _ = writeln!(
                text,
                "  {command:<38} {kind} \"{}\": {}",
                item.name, item.description
            );
        }
    }
    let _ = writeln!(text, "\nTooling:");
    for (usage, what) in [
        (
            format!("{GENERATE_FILES} [DIR]"),
            "write manifest.json and the item manifests from the code",
        ),
        (
            format!("{CHECK_MODULE} [DIR]"),
            "check the module directory against the code",
        ),
        (
            format!("{RUN_LOCAL} COMMAND [OPTIONS]"),
            "run one item against an embedded local platform (run-local --help)",
        ),
        (
            format!("{GENERATE_DOCUMENTATION} [DIR] [-o FILE]"),
            "write the module's Markdown page",
        ),
        (format!("{HELP_MODULE}, --help, -h"), "print this help"),
    ] {
        let _ = writeln!(text, "  {usage:<38} {what}");
    }
    let _ = write!(
        text,
        "\nDIR is the module directory (default: the directory of the manifest, ./manifest.json)."
    );
    text
}

/// The name this binary was called by, for the help.
pub(crate) fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "module".into())
}

fn print_help(items: &ModuleItems<'_>) {
    println!("{}", help(&program_name(), items));
}

/// What a call without a command, or with `--help`, prints; `None` when
/// `command` selects an item or a reserved invocation.
pub(crate) fn help_request<C>(
    command: &str,
    registrations: &[Registration<C>],
) -> Option<ExitCode> {
    let items = ModuleItems::new(registrations);
    match command {
        "--help" | "-h" => {
            print_help(&items);
            Some(ExitCode::SUCCESS)
        }
        "" if items.find("").is_none() => {
            eprintln!("{}", help(&program_name(), &items));
            eprintln!("error: no command given: give an item's command as the first argument");
            Some(ExitCode::from(2))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, ActionContext, ActionError, Module, Outcome};

    struct Ping;

    impl Action for Ping {
        type ModuleConfiguration = ();
        type Arguments = serde_json::Value;
        type Results = serde_json::Value;
        const NAME: &'static str = "Ping";
        const DESCRIPTION: &'static str = "Answer pong";
        fn run(
            &self,
            _: &ActionContext<'_, ()>,
            _: serde_json::Value,
        ) -> Result<Outcome<serde_json::Value>, ActionError> {
            Ok(Outcome::none())
        }
    }

    #[test]
    fn the_help_lists_the_items_then_every_reserved_invocation() {
        let module = Module::<()>::new().register("ping", Ping);
        let text = help("my-module", &ModuleItems::new(module.items()));
        assert!(text.starts_with("usage: my-module COMMAND [ARGUMENTS]\n"));
        assert!(
            text.contains("  ping ") && text.contains("action \"Ping\": Answer pong"),
            "{text}"
        );
        let tooling = &text[text.find("Tooling:").expect("a tooling section")..];
        for command in RESERVED_COMMANDS {
            assert!(tooling.contains(command), "{command} missing from {text}");
        }
        assert!(tooling.contains("--help"), "{text}");
    }
}
