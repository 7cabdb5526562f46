//! Finds a NaN or infinite float in a value before it is written as JSON:
//! serde_json writes them as `null`, which silently changes the value (and
//! makes a typed file unreadable at the next load).

use std::fmt;

use serde::Serialize;
use serde::ser;

/// The JSON path (`cursor.rates[2]`) of the first NaN or infinite float in
/// `value`, if any.
pub(crate) fn first_non_finite<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut path = Vec::new();
    match value.serialize(Walker { path: &mut path }) {
        Err(Found(Some(at))) => Some(at),
        _ => None,
    }
}

/// The walk's "error": the path of a non-finite float (`None`: another
/// failure, left to the real serializer to report).
#[derive(Debug)]
struct Found(Option<String>);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "non-finite float at {:?}", self.0)
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Found(None)
    }
}

struct Walker<'a> {
    path: &'a mut Vec<String>,
}

impl Walker<'_> {
    fn float(&self, value: f64) -> Result<(), Found> {
        if value.is_finite() {
            return Ok(());
        }
        let mut at = String::new();
        for part in self.path.iter() {
            if part.starts_with('[') || at.is_empty() {
                at.push_str(part);
            } else {
                at.push('.');
                at.push_str(part);
            }
        }
        Err(Found(Some(if at.is_empty() {
            "the value".into()
        } else {
            at
        })))
    }
}

macro_rules! ok {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), Found> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for Walker<'a> {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    ok! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_i128(i128); serialize_u8(u8); serialize_u16(u16);
        serialize_u32(u32); serialize_u64(u64); serialize_u128(u128); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_f32(self, value: f32) -> Result<(), Found> {
        self.float(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> Result<(), Found> {
        self.float(value)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        self.path.push(variant.to_string());
        let result = value.serialize(Walker { path: self.path });
        self.path.pop();
        result
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Found> {
        Ok(Compound::new(self.path))
    }
}

struct Compound<'a> {
    path: &'a mut Vec<String>,
    index: usize,
    key: Option<String>,
}

impl<'a> Compound<'a> {
    fn new(path: &'a mut Vec<String>) -> Self {
        Compound {
            path,
            index: 0,
            key: None,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        self.path.push(format!("[{}]", self.index));
        self.index += 1;
        let result = value.serialize(Walker { path: self.path });
        self.path.pop();
        result
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Found> {
        self.path.push(key);
        let result = value.serialize(Walker { path: self.path });
        self.path.pop();
        result
    }
}

macro_rules! sequence {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Found;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
                self.element(value)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        })*
    };
}

sequence!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! structure {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Found;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Found> {
                self.field(key.to_string(), value)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        })*
    };
}

structure!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Found;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
        self.key = Some(match serde_json::to_value(key) {
            Ok(serde_json::Value::String(text)) => text,
            Ok(other) => other.to_string(),
            Err(_) => "?".to_string(),
        });
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        let key = self.key.take().unwrap_or_default();
        self.field(key, value)
    }

    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Cursor {
        last: Option<f64>,
        rates: Vec<f32>,
        by_name: BTreeMap<String, (u8, f64)>,
    }

    #[test]
    fn names_the_path_of_the_first_non_finite_float() {
        let mut cursor = Cursor {
            last: Some(1.5),
            rates: vec![1.0, 2.0],
            by_name: BTreeMap::from([("a b".to_string(), (1, 2.0))]),
        };
        assert_eq!(first_non_finite(&cursor), None);
        cursor.by_name.insert("zed".into(), (1, f64::NEG_INFINITY));
        assert_eq!(first_non_finite(&cursor).as_deref(), Some("by_name.zed[1]"));
        cursor.rates[1] = f32::NAN;
        assert_eq!(first_non_finite(&cursor).as_deref(), Some("rates[1]"));
        cursor.last = Some(f64::INFINITY);
        assert_eq!(first_non_finite(&cursor).as_deref(), Some("last"));
        assert_eq!(first_non_finite(&f64::NAN).as_deref(), Some("the value"));
        let value = serde_json::json!({"ok": [1, 2.5, "x"]});
        assert_eq!(first_non_finite(&value), None);
    }
}
