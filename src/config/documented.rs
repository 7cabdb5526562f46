//! [`Documented`]: a value whose JSON Schema is the one written by hand in
//! the manifest, not one derived from the code.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value (arguments, results, a configuration) whose JSON Schema is
/// documented by hand in the manifest file: `generate-files` keeps the
/// schema the file has, and `check-module` does not compare it with the
/// code.
///
/// On the wire it is exactly its content (`T`, by default any JSON value):
/// an action whose `Results` is `Documented` passes the vendor's JSON
/// through byte for byte while its manifest keeps the documented `results`
/// schema. Its own schema accepts anything (`{}`), the same as
/// [`serde_json::Value`]'s: for every type whose schema is `{}`,
/// `generate-files` keeps what the manifest says, and writes `{}` (what
/// the Python SDK's generator writes for an item without a model) only
/// when the manifest has nothing yet.
///
/// `Documented<T>` with a typed `T` reads typed arguments (or a typed
/// module configuration) while keeping a hand-written schema: the
/// schema is then the author's to keep true.
///
/// ```
/// use sekoia_automation::{Action, ActionContext, ActionError, Outcome};
/// use sekoia_automation::config::Documented;
/// use serde_json::{json, Value};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Arguments { ip: String }
///
/// struct GetHost;
///
/// impl Action for GetHost {
///     type ModuleConfiguration = ();
///     type Arguments = Arguments;
///     // The vendor's answer as it came, under the manifest's own schema.
///     type Results = Documented;
///     const NAME: &'static str = "Get host";
///     const DESCRIPTION: &'static str = "Everything known about a host";
///
///     fn run(&self, _: &ActionContext<'_, ()>, args: Arguments) -> Result<Outcome<Documented>, ActionError> {
///         Ok(Outcome::success(Documented(json!({"ip": args.ip, "ports": [22, 443]}))))
///     }
/// }
///
/// let answer = Documented(json!({"score": 0.30000000000000004, "org": "𝔗idewatch"}));
/// assert_eq!(serde_json::to_string(&answer)?, r#"{"score":0.30000000000000004,"org":"𝔗idewatch"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Documented<T = serde_json::Value>(pub T);

impl<T> Documented<T> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Documented<T> {
    fn from(value: T) -> Self {
        Documented(value)
    }
}

impl<T> Deref for Documented<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Documented<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Serialize> Serialize for Documented<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Documented<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Documented)
    }
}

impl<T> JsonSchema for Documented<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Documented".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        Schema::from(true)
    }
}

/// The name of `T` as its author wrote it, for error messages:
/// [`std::any::type_name`] with every `Documented<X>` written `X` (the
/// wrapper only says where the schema comes from; its crate path
/// `sekoia_automation::config::documented` is not one the author can use).
pub(crate) fn author_type_name<T: ?Sized>() -> String {
    const WRAPPER: &str = "sekoia_automation::config::documented::Documented<";
    let mut name = std::any::type_name::<T>().to_owned();
    while let Some(start) = name.find(WRAPPER) {
        let inner = start + WRAPPER.len();
        let mut depth = 1usize;
        let Some(end) = name[inner..].char_indices().find_map(|(index, c)| {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(inner + index)
        }) else {
            break;
        };
        name = format!(
            "{}{}{}",
            &name[..start],
            &name[inner..end],
            &name[end + 1..]
        );
    }
    // `Documented` with its default parameter is named without it.
    name.replace(
        "sekoia_automation::config::documented::Documented",
        "serde_json::value::Value",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Arguments;

    #[test]
    fn the_author_type_name_has_no_documented_wrapper() {
        assert_eq!(
            author_type_name::<Documented<Arguments>>(),
            "sekoia_automation::config::documented::tests::Arguments"
        );
        assert_eq!(
            author_type_name::<Option<Documented<Vec<Documented<Arguments>>>>>(),
            "core::option::Option<alloc::vec::Vec<sekoia_automation::config::documented::tests::Arguments>>"
        );
        assert_eq!(author_type_name::<Documented>(), "serde_json::value::Value");
        assert_eq!(author_type_name::<u32>(), "u32");
    }
}
