//! The two shapes of the models' enumerations: Python's `IntEnum`
//! (serialized as its number) and `StrEnum` / `Literal` (serialized as its
//! text). A value outside the enumeration is refused when read, as pydantic
//! refuses it, with the values it takes.
//!
//! Each variant also knows its Python member name (`member`), which the
//! models' validators use to fill a `type` from its `type_id` and back.

/// An `IntEnum`: `Name { Variant = number, ... }`.
macro_rules! int_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:expr),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            /// Every value, in Python's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The number it is serialized as.
            pub const fn value(self) -> i64 {
                match self {
                    $($name::$variant => $value),*
                }
            }

            /// The value whose number is `value`.
            pub fn from_value(value: i64) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.value() == value)
            }

            /// The member's name (shared by the `…Id` and `…Str` pair).
            #[allow(dead_code)]
            pub(crate) const fn member(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),*
                }
            }

            #[allow(dead_code)]
            pub(crate) fn from_member(member: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.member() == member)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.value())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = i64::deserialize(deserializer)?;
                $name::from_value(value).ok_or_else(|| {
                    let expected: Vec<String> =
                        $name::ALL.iter().map(|v| v.value().to_string()).collect();
                    serde::de::Error::custom(format!(
                        "{value} is not a {}: expected one of {}",
                        stringify!($name),
                        expected.join(", ")
                    ))
                })
            }
        }
    };
}

/// A `StrEnum` or a `Literal` of strings: `Name { Variant = "text", ... }`.
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:expr),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            /// Every value, in Python's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The text it is serialized as.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),*
                }
            }

            /// The value whose text is `text`.
            pub fn from_text(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            /// The member's name (shared by the `…Id` and `…Str` pair).
            #[allow(dead_code)]
            pub(crate) const fn member(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),*
                }
            }

            #[allow(dead_code)]
            pub(crate) fn from_member(member: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.member() == member)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                $name::from_text(&text).ok_or_else(|| {
                    let expected: Vec<String> =
                        $name::ALL.iter().map(|v| format!("{:?}", v.as_str())).collect();
                    serde::de::Error::custom(format!(
                        "{:?} is not a {}: expected one of {}",
                        text,
                        stringify!($name),
                        expected.join(", ")
                    ))
                })
            }
        }
    };
}

pub(crate) use {int_enum, str_enum};
