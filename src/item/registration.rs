//! How items are registered on a [`Module`](crate::Module): the [`Item`]
//! trait ties an item to its module configuration type, and a
//! [`Registration`] stores it type-erased, so the module's type stays
//! `Module<Configuration, State>` whatever it holds.

use std::process::ExitCode;

use crate::action::Action;
use crate::action::validator::AccountValidator;
use crate::runtime::environment::Environment;
use crate::trigger::Trigger;

/// Marks items registered as actions.
#[derive(Debug)]
pub enum ActionKind {}
/// Marks account validators.
#[derive(Debug)]
pub enum ValidatorKind {}
/// Marks items registered as triggers.
#[derive(Debug)]
pub enum TriggerKind {}
/// Marks items registered as connectors.
#[derive(Debug)]
pub enum ConnectorKind {}
/// Marks items registered as asset connectors.
#[derive(Debug)]
pub enum AssetConnectorKind {}
/// Marks declarative HTTP actions ([`Api`](crate::vendor::Api)).
#[derive(Debug)]
pub enum ApiKind {}

/// What kind of item a registration holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ItemKind {
    /// An [`Action`].
    Action,
    /// An [`AccountValidator`].
    AccountValidator,
    /// A [`Trigger`].
    Trigger,
    /// A [`Connector`](crate::Connector).
    Connector,
    /// An [`AssetConnector`](crate::asset::AssetConnector).
    AssetConnector,
}

/// An item that can be registered on a `Module<C, _>`.
///
/// Implemented for every [`Action`], [`Trigger`],
/// [`Connector`](crate::Connector) and
/// [`AssetConnector`](crate::asset::AssetConnector) whose
/// `ModuleConfiguration` is `C`, and for [`Api<C>`](crate::vendor::Api); `Kind` only tells the item kinds apart and
/// is inferred. Sealed: implement one of those traits instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be registered on a module whose configuration is `{C}`",
    label = "this item is not an action, trigger, connector or asset connector of a module configured with `{C}`",
    note = "an item is registered on the module whose configuration type is its `ModuleConfiguration`: implement `Action` (or `Trigger`, `Connector`, `AssetConnector`) for `{Self}` with `type ModuleConfiguration = {C};` (an `Api` action: declare it as `Api<{C}>`, or inline in `.register(...)`), or register it on the module it was written for"
)]
pub trait Item<C, Kind>: sealed::Sealed<Kind> {
    /// Erases the item's type.
    #[doc(hidden)]
    fn into_registration(self, command: &str) -> Registration<C>;
}

mod sealed {
    pub trait Sealed<Kind> {}
    impl<A: super::Action> Sealed<super::ActionKind> for A {}
    impl<T: super::Trigger> Sealed<super::TriggerKind> for T {}
    impl<T: crate::connector::Connector> Sealed<super::ConnectorKind> for T {}
    impl<T: crate::asset::AssetConnector> Sealed<super::AssetConnectorKind> for T {}
    impl<C> Sealed<super::ApiKind> for crate::vendor::Api<C> {}
    pub trait Same<T> {}
    impl<T> Same<T> for T {}
}

/// `Self` is the same type as `T`: how a registration checks that an item
/// belongs to the module's configuration type with a readable error.
#[diagnostic::on_unimplemented(
    message = "this item belongs to a module configured with `{T}`, but it is registered on a module configured with `{Self}`",
    label = "registered on the wrong module",
    note = "an item is registered on the module whose configuration type is its `ModuleConfiguration`"
)]
pub trait SameAs<T>: sealed::Same<T> {}
impl<T> SameAs<T> for T {}

impl<C, A> Item<C, ActionKind> for A
where
    A: Action,
    C: SameAs<A::ModuleConfiguration> + 'static,
{
    fn into_registration(self, command: &str) -> Registration<C> {
        Registration::new(
            command,
            ItemKind::Action,
            A::NAME,
            A::DESCRIPTION,
            Box::new(ActionItem(self)),
        )
        .with_manifest(crate::item::manifest::ActionManifest::<A>::boxed())
    }
}

impl<C, T> Item<C, TriggerKind> for T
where
    T: Trigger,
    C: SameAs<T::ModuleConfiguration> + 'static,
{
    fn into_registration(self, command: &str) -> Registration<C> {
        Registration::new(
            command,
            ItemKind::Trigger,
            T::NAME,
            T::DESCRIPTION,
            Box::new(TriggerItem(self)),
        )
        .with_manifest(crate::item::manifest::TriggerManifest::<T>::boxed())
    }
}

impl<C, K> Item<C, ConnectorKind> for K
where
    K: crate::connector::Connector,
    C: SameAs<K::ModuleConfiguration> + 'static,
{
    fn into_registration(self, command: &str) -> Registration<C> {
        Registration::new(
            command,
            ItemKind::Connector,
            K::NAME,
            K::DESCRIPTION,
            Box::new(ConnectorRunner(self)),
        )
        .with_manifest(crate::item::manifest::ConnectorManifest::<K>::boxed())
    }
}

impl<C, K> Item<C, AssetConnectorKind> for K
where
    K: crate::asset::AssetConnector,
    C: SameAs<K::ModuleConfiguration> + 'static,
{
    fn into_registration(self, command: &str) -> Registration<C> {
        Registration::new(
            command,
            ItemKind::AssetConnector,
            K::NAME,
            K::DESCRIPTION,
            Box::new(AssetConnectorRunner(self)),
        )
        .with_manifest(crate::asset::manifest::AssetConnectorManifest::<K>::boxed())
    }
}

// Not suggested in the errors about other items (an `Action` of another
// module): the message of `Item` says what to do.
#[diagnostic::do_not_recommend]
impl<C> Item<C, ApiKind> for crate::vendor::Api<C>
where
    C: serde::de::DeserializeOwned
        + serde::Serialize
        + schemars::JsonSchema
        + Send
        + Sync
        + 'static,
{
    fn into_registration(self, command: &str) -> Registration<C> {
        crate::vendor::Api::into_registration(self, command)
    }
}

/// A registered item, its type erased.
pub struct Registration<C> {
    command: String,
    kind: ItemKind,
    name: &'static str,
    description: &'static str,
    runner: Box<dyn Runner<C> + Send>,
    manifest: Box<dyn crate::item::manifest::ItemManifest + Send>,
}

impl<C> std::fmt::Debug for Registration<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("command", &self.command)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<C> Registration<C> {
    fn new(
        command: &str,
        kind: ItemKind,
        name: &'static str,
        description: &'static str,
        runner: Box<dyn Runner<C> + Send>,
    ) -> Self {
        Registration {
            command: command.to_string(),
            kind,
            name,
            description,
            runner,
            manifest: Box::new(crate::item::manifest::NoManifest),
        }
    }

    /// An action whose manifest is not its type's (a declarative
    /// [`Api`](crate::vendor::Api) action).
    pub(crate) fn action<A: Action>(
        command: &str,
        name: &'static str,
        description: &'static str,
        action: A,
        manifest: Box<dyn crate::item::manifest::ItemManifest + Send>,
    ) -> Self {
        Registration::new(
            command,
            ItemKind::Action,
            name,
            description,
            Box::new(ActionItem(action)),
        )
        .with_manifest(manifest)
    }

    fn with_manifest(
        mut self,
        manifest: Box<dyn crate::item::manifest::ItemManifest + Send>,
    ) -> Self {
        self.manifest = manifest;
        self
    }

    /// What the tooling writes for the item (its manifest file's fields).
    pub fn manifest(&self) -> &dyn crate::item::manifest::ItemManifest {
        &*self.manifest
    }

    pub(crate) fn validator<V>(validator: V) -> Self
    where
        V: AccountValidator<ModuleConfiguration = C>,
        C: 'static,
    {
        Registration::new(
            crate::action::validator::VALIDATE_COMMAND,
            ItemKind::AccountValidator,
            "Validate module configuration",
            "Check that the module configuration gives access to the service",
            Box::new(ValidatorItem(validator)),
        )
        .with_manifest(crate::item::manifest::ValidatorManifest::<V>::boxed())
    }

    /// The command (`argv[1]`) that selects the item.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The item's kind.
    pub fn kind(&self) -> ItemKind {
        self.kind
    }

    /// The item's name; empty when the code states none (an
    /// [`Api`](crate::vendor::Api) action named by its manifest).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The item's description.
    pub fn description(&self) -> &'static str {
        self.description
    }

    pub(crate) fn execute(self, environment: &Environment) -> ExitCode {
        let _sentry = crate::runtime::sentry::start(environment, Some((self.kind, &self.command)));
        self.runner.execute(environment)
    }
}

/// Runs one kind of item; the only dynamic dispatch of a module.
pub(crate) trait Runner<C> {
    fn execute(self: Box<Self>, environment: &Environment) -> ExitCode;
}

struct ActionItem<A>(A);
struct ValidatorItem<V>(V);
struct TriggerItem<T>(T);
struct ConnectorRunner<K>(K);
struct AssetConnectorRunner<K>(K);

// The runners do not use `C`: registration already checked that it is the
// item's configuration type.
impl<C, A: Action> Runner<C> for ActionItem<A> {
    fn execute(self: Box<Self>, environment: &Environment) -> ExitCode {
        crate::action::runner::run_action(&self.0, environment)
    }
}

impl<C, V: AccountValidator> Runner<C> for ValidatorItem<V> {
    fn execute(self: Box<Self>, environment: &Environment) -> ExitCode {
        crate::action::runner::run_validator(&self.0, environment)
    }
}

impl<C, T: Trigger> Runner<C> for TriggerItem<T> {
    fn execute(self: Box<Self>, environment: &Environment) -> ExitCode {
        crate::trigger::runner::run_trigger(self.0, environment)
    }
}

impl<C, K: crate::connector::Connector> Runner<C> for ConnectorRunner<K> {
    fn execute(self: Box<Self>, environment: &Environment) -> ExitCode {
        crate::trigger::runner::run_trigger(
            crate::connector::item::ConnectorItem::new(self.0),
            environment,
        )
    }
}

impl<C, K: crate::asset::AssetConnector> Runner<C> for AssetConnectorRunner<K> {
    fn execute(self: Box<Self>, environment: &Environment) -> ExitCode {
        crate::trigger::runner::run_trigger(
            crate::asset::item::AssetConnectorItem::new(self.0),
            environment,
        )
    }
}
