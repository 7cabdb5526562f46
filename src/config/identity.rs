//! [`Identity`]: what the platform knows an item by (its uuid, its slug and
//! the name of its manifest file), stated by an item that already exists.

/// What the platform knows an item by: its `uuid`, its `slug` and the name
/// of its manifest file.
///
/// Most items state nothing ([`Identity::new`], the default of
/// [`Action::IDENTITY`](crate::Action::IDENTITY) and
/// [`Trigger::IDENTITY`](crate::Trigger::IDENTITY)): the tooling then
/// takes the uuid, slug and file of the existing manifest whose
/// `docker_parameters` is the item's command (a port whose manifests are
/// copied in keeps them that way), and for a new item derives the uuid
/// from the item name (UUIDv5 in the module's uuid), names the file
/// `<kind>_<name>.json` and writes no slug. An item ported from a
/// module that the platform already runs states what it has: a playbook
/// refers to an item by its uuid, so an item whose uuid changes is a new
/// item to the platform, and every playbook using the old one breaks.
///
/// The values are checked when the constant is evaluated, so a mistake is a
/// compile error: the uuid must parse, the file must be a bare
/// `<kind>_….json` name, the slug must not be empty.
///
/// ```
/// use sekoia_automation::{Action, ActionContext, ActionError, Outcome};
/// use sekoia_automation::config::Identity;
///
/// struct GetHost;
///
/// impl Action for GetHost {
///     type ModuleConfiguration = ();
///     type Arguments = serde_json::Value;
///     type Results = serde_json::Value;
///     const NAME: &'static str = "Get host";
///     const DESCRIPTION: &'static str = "Everything known about a host";
///     const IDENTITY: Identity = Identity::new()
///         .uuid("1f8d7a4e-0c1b-4d2e-9a37-5b6c8e0f2a91")
///         .slug("get_host")
///         .file("action_get_tidewatch_host.json");
///
///     fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
///         Ok(Outcome::none())
///     }
/// }
///
/// assert_eq!(GetHost::IDENTITY.stated_uuid(), Some("1f8d7a4e-0c1b-4d2e-9a37-5b6c8e0f2a91"));
/// assert_eq!(GetHost::IDENTITY.stated_file(), Some("action_get_tidewatch_host.json"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Identity {
    uuid: Option<&'static str>,
    slug: Option<&'static str>,
    file: Option<&'static str>,
}

impl Identity {
    /// An identity that states nothing: everything is derived (a new item).
    pub const fn new() -> Self {
        Identity {
            uuid: None,
            slug: None,
            file: None,
        }
    }

    /// States the item's uuid, as written in its manifest (kept verbatim).
    ///
    /// # Panics
    ///
    /// When `uuid` is not a uuid; in a constant, that is a compile error.
    pub const fn uuid(mut self, uuid: &'static str) -> Self {
        if uuid::Uuid::try_parse(uuid).is_err() {
            panic!(
                "Identity::uuid: not a uuid; copy the `uuid` of the item's manifest file (such as 1f8d7a4e-0c1b-4d2e-9a37-5b6c8e0f2a91)"
            );
        }
        self.uuid = Some(uuid);
        self
    }

    /// States the item's slug (the `slug` key of its manifest).
    ///
    /// # Panics
    ///
    /// When `slug` is empty; in a constant, that is a compile error.
    pub const fn slug(mut self, slug: &'static str) -> Self {
        if slug.is_empty() {
            panic!(
                "Identity::slug: the slug is empty; copy the `slug` of the item's manifest file"
            );
        }
        self.slug = Some(slug);
        self
    }

    /// States the name of the item's manifest file, in the module
    /// directory (`action_get_tidewatch_host.json`). Its kind prefix
    /// (`action_`, `trigger_`) is checked by `generate-files`, which knows
    /// the item's kind.
    ///
    /// # Panics
    ///
    /// When `file` does not end with `.json`, has nothing before it, or
    /// holds a `/` or a `\`; in a constant, that is a compile error.
    pub const fn file(mut self, file: &'static str) -> Self {
        let bytes = file.as_bytes();
        let suffix = b".json";
        if bytes.len() <= suffix.len() {
            panic!("Identity::file: expected a file name such as `action_get_host.json`");
        }
        let mut index = 0;
        while index < suffix.len() {
            if bytes[bytes.len() - suffix.len() + index] != suffix[index] {
                panic!("Identity::file: the manifest file name must end with `.json`");
            }
            index += 1;
        }
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'/' || bytes[index] == b'\\' {
                panic!(
                    "Identity::file: a bare file name is expected: manifests are in the module directory"
                );
            }
            index += 1;
        }
        self.file = Some(file);
        self
    }

    /// The stated uuid, if any.
    pub const fn stated_uuid(&self) -> Option<&'static str> {
        self.uuid
    }

    /// The stated slug, if any.
    pub const fn stated_slug(&self) -> Option<&'static str> {
        self.slug
    }

    /// The stated manifest file name, if any.
    pub const fn stated_file(&self) -> Option<&'static str> {
        self.file
    }
}

#[cfg(test)]
mod tests {
    use super::Identity;

    #[test]
    fn nothing_is_stated_by_default() {
        assert_eq!(Identity::new(), Identity::default());
        assert_eq!(Identity::new().stated_uuid(), None);
        assert_eq!(Identity::new().stated_slug(), None);
        assert_eq!(Identity::new().stated_file(), None);
    }

    #[test]
    #[should_panic(expected = "not a uuid")]
    fn a_bad_uuid_is_refused() {
        let _ = Identity::new().uuid("1f8d7a4e-0c1b-4d2e-9a37");
    }

    #[test]
    #[should_panic(expected = "end with `.json`")]
    fn a_file_must_be_json() {
        let _ = Identity::new().file("action_get_host.yaml");
    }

    #[test]
    #[should_panic(expected = "bare file name")]
    fn a_file_must_be_in_the_module_directory() {
        let _ = Identity::new().file("../action_get_host.json");
    }
}
