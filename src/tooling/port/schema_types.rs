//! The JSON Schema → Rust types generator: serde types read from a
//! manifest's schema (arguments, results, configurations).
//!
//! | schema | Rust |
//! | --- | --- |
//! | `"type": "object"` with `properties` | a struct, one field per property, in order |
//! | a required property | `T` |
//! | a property with a `default` | `T` with `#[serde(default = "...")]` returning it |
//! | any other property | `Option<T>` (absent when `None`) |
//! | a property named in `secrets`, or `"secret": true` | `Secret<T>` |
//! | `"enum"` of strings | an enum, one variant per value |
//! | `"type": "string"`, `"integer"`, `"number"`, `"boolean"` | `String`, `i64`, `f64`, `bool` |
//! | `"type": "array"` | `Vec<T>` of its `items` (`Vec<Value>` without) |
//! | an object without `properties` | `Map<String, Value>` |
//! | `$ref` to `#/definitions/X` or `#/$defs/X` | the type of `X`, written once |
//! | `["T", "null"]`, `anyOf`/`oneOf` of `T` and `null` | `Option<T>` |
//! | anything else (`anyOf` of several types, `allOf`, a type list) | `serde_json::Value` |
//!
//! A struct written for a root schema keeps the keys its schema does not
//! name in a flattened `other` map, so that a value read and written
//! again loses nothing. The generated types are always used as
//! `Documented<T>`: the manifest keeps its schema byte for byte, and the
//! type reads what the schema describes.

use serde_json::{Map, Value};

use super::rust_names::{camel, doc_lines, raw_string_literal, snake, string_literal, unique};

/// Writes Rust types for JSON Schemas; one writer per Rust file, so that
/// type names are unique in it.
#[derive(Debug, Default)]
pub struct TypeWriter {
    used: Vec<String>,
    /// `$ref` targets already written: (root number, reference) → type.
    references: Vec<((usize, String), String)>,
    /// How many roots were written (references are the root's own).
    roots: usize,
    /// Enums written: type → (value, variant).
    enums: Vec<(String, Vec<(String, String)>)>,
    code: String,
}

/// One field being written.
struct Field {
    name: String,
    rename: Option<String>,
    ty: String,
    attributes: Vec<String>,
    doc: String,
}

impl TypeWriter {
    /// A writer with no type yet.
    pub fn new() -> Self {
        TypeWriter {
            used: [
                "Value",
                "Map",
                "Secret",
                "Option",
                "Vec",
                "String",
                "Result",
                "Box",
                "Documented",
                "Module",
                "Some",
                "None",
                "Ok",
                "Err",
                "Default",
            ]
            .iter()
            .map(|name| name.to_string())
            .collect(),
            ..TypeWriter::default()
        }
    }

    /// Reserves a name (an item's struct) so that no type takes it.
    pub fn reserve(&mut self, name: &str) -> String {
        unique(camel(name), &mut self.used)
    }

    /// Writes the types of `schema` and returns the Rust type that reads
    /// it, named after `name` when it is a struct or an enum. `secrets` are
    /// the root's properties to type as `Secret<T>` (`configuration.secrets`).
    ///
    /// ```
    /// use sekoia_automation::unversioned::port::schema_types::TypeWriter;
    /// use serde_json::json;
    ///
    /// let mut writer = TypeWriter::new();
    /// let schema = json!({"type": "object", "properties": {"ip": {"type": "string"}}, "required": ["ip"]});
    /// assert_eq!(writer.root("HostArguments", &schema, &[]), "HostArguments");
    /// assert!(writer.code().contains("pub ip: String,"));
    /// assert_eq!(writer.root("Count", &json!({"type": "integer"}), &[]), "i64");
    /// ```
    pub fn root(&mut self, name: &str, schema: &Value, secrets: &[String]) -> String {
        self.roots += 1;
        let mut context = Context {
            root: schema,
            root_number: self.roots,
            secrets,
        };
        self.type_of(schema, name, &mut context, true)
    }

    /// The Rust code written so far.
    pub fn code(&self) -> &str {
        &self.code
    }

    fn type_of(
        &mut self,
        schema: &Value,
        name: &str,
        context: &mut Context<'_>,
        root: bool,
    ) -> String {
        let Value::Object(schema) = schema else {
            return "serde_json::Value".into();
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return self.reference(reference, context);
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return self.enumeration(name, schema, values);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
                let not_null: Vec<&Value> = alternatives
                    .iter()
                    .filter(|alternative| alternative.get("type") != Some(&Value::from("null")))
                    .collect();
                if let [only] = not_null.as_slice()
                    && alternatives.len() == 2
                {
                    let inner = self.type_of(only, name, context, false);
                    return format!("Option<{inner}>");
                }
                return "serde_json::Value".into();
            }
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(single)) => vec![single.as_str()],
            Some(Value::Array(several)) => several.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let not_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        let nullable = not_null.len() < types.len();
        let ty = match not_null.as_slice() {
            [] if schema.contains_key("properties") => self.structure(name, schema, context, root),
            [] => "serde_json::Value".to_string(),
            ["string"] => "String".into(),
            ["integer"] => "i64".into(),
            ["number"] => "f64".into(),
            ["boolean"] => "bool".into(),
            ["array"] => match schema.get("items") {
                Some(items @ Value::Object(_)) => {
                    let item = self.type_of(items, &format!("{name}Item"), context, false);
                    format!("Vec<{item}>")
                }
                _ => "Vec<serde_json::Value>".into(),
            },
            ["object"] => {
                if schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|properties| !properties.is_empty())
                {
                    self.structure(name, schema, context, root)
                } else {
                    "serde_json::Map<String, serde_json::Value>".into()
                }
            }
            _ => "serde_json::Value".into(),
        };
        if nullable && ty != "serde_json::Value" {
            format!("Option<{ty}>")
        } else {
            ty
        }
    }

    fn reference(&mut self, reference: &str, context: &mut Context<'_>) -> String {
        let key = (context.root_number, reference.to_string());
        if let Some((_, ty)) = self.references.iter().find(|(known, _)| *known == key) {
            return ty.clone();
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| context.root.pointer(pointer));
        let Some(target) = target else {
            return "serde_json::Value".into();
        };
        let name = reference
            .rsplit('/')
            .next()
            .unwrap_or("Definition")
            .to_string();
        // A recursive definition reads as any value where it recurs: the
        // placeholder is what a reference met while writing it gives.
        self.references
            .push((key.clone(), "serde_json::Value".into()));
        let mut inner = Context {
            root: context.root,
            root_number: context.root_number,
            secrets: &[],
        };
        let ty = self.type_of(target, &name, &mut inner, false);
        if let Some(entry) = self.references.iter_mut().find(|(known, _)| *known == key) {
            entry.1 = ty.clone();
        }
        ty
    }

    fn enumeration(&mut self, name: &str, schema: &Map<String, Value>, values: &[Value]) -> String {
        if values.is_empty() {
            return "serde_json::Value".into();
        }
        if values.iter().all(Value::is_i64) {
            return "i64".into();
        }
        let strings: Option<Vec<&str>> = values.iter().map(Value::as_str).collect();
        let Some(strings) = strings else {
            return "serde_json::Value".into();
        };
        let type_name = unique(camel(name), &mut self.used);
        let mut variants = Vec::new();
        let mut code = doc_of(schema, "");
        code.push_str(
            "#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]\n",
        );
        code.push_str(&format!("pub enum {type_name} {{\n"));
        let mut values = Vec::new();
        for value in strings {
            let variant = unique(camel(value), &mut variants);
            code.push_str(&format!(
                "    #[serde(rename = {})]\n    {variant},\n",
                string_literal(value)
            ));
            values.push((value.to_string(), variant));
        }
        self.enums.push((type_name.clone(), values));
        code.push_str("}\n\n");
        self.code.push_str(&code);
        type_name
    }

    fn structure(
        &mut self,
        name: &str,
        schema: &Map<String, Value>,
        context: &mut Context<'_>,
        root: bool,
    ) -> String {
        let type_name = unique(camel(name), &mut self.used);
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|required| required.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut field_names: Vec<String> = Vec::new();
        let mut fields = Vec::new();
        let mut defaults = String::new();
        for (key, property) in &properties {
            let field_name = unique(snake(key), &mut field_names);
            let secret = (root && context.secrets.iter().any(|secret| secret == key))
                || property.get("secret") == Some(&Value::Bool(true));
            let mut ty = self.type_of(property, &format!("{type_name}_{key}"), context, false);
            let mut attributes = Vec::new();
            let default = property.get("default");
            let optional_inner = ty
                .strip_prefix("Option<")
                .and_then(|inner| inner.strip_suffix('>'))
                .map(str::to_string);
            match default {
                Some(Value::Null) | None if !required.contains(&key.as_str()) => {
                    if optional_inner.is_none() && ty != "serde_json::Value" {
                        ty = format!("Option<{ty}>");
                    }
                    if ty == "serde_json::Value" {
                        attributes.push(
                            "#[serde(default, skip_serializing_if = \"serde_json::Value::is_null\")]"
                                .into(),
                        );
                    } else {
                        attributes.push(
                            "#[serde(default, skip_serializing_if = \"Option::is_none\")]".into(),
                        );
                    }
                }
                Some(default) if !default.is_null() => {
                    let function = format!("default_{}_{field_name}", snake(&type_name));
                    let (literal, fitted) = match self.variant(&ty, default) {
                        Some(variant) => (variant, ty.clone()),
                        None => default_literal(default, &ty),
                    };
                    ty = fitted;
                    defaults.push_str(&format!(
                        "fn {function}() -> {} {{\n    {}\n}}\n\n",
                        wrap_secret(&ty, secret),
                        wrap_secret_value(&literal, secret)
                    ));
                    attributes.push(format!("#[serde(default = {})]", string_literal(&function)));
                }
                _ => {}
            }
            let ty = wrap_secret(&ty, secret);
            fields.push(Field {
                rename: (field_name != *key).then(|| key.clone()),
                name: field_name,
                ty,
                attributes,
                doc: doc_of(property.as_object().unwrap_or(&Map::new()), "    "),
            });
        }
        let mut code = doc_of(schema, "");
        code.push_str("#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]\n");
        code.push_str(&format!("pub struct {type_name} {{\n"));
        for field in &fields {
            code.push_str(&field.doc);
            if let Some(rename) = &field.rename {
                code.push_str(&format!(
                    "    #[serde(rename = {})]\n",
                    string_literal(rename)
                ));
            }
            for attribute in &field.attributes {
                code.push_str(&format!("    {attribute}\n"));
            }
            code.push_str(&format!("    pub {}: {},\n", field.name, field.ty));
        }
        if root && schema.get("additionalProperties") != Some(&Value::Bool(false)) {
            let other = unique("other".into(), &mut field_names);
            code.push_str(
                "    /// The keys the schema does not name, as they came.\n    #[serde(flatten)]\n",
            );
            code.push_str(&format!(
                "    pub {other}: serde_json::Map<String, serde_json::Value>,\n"
            ));
        }
        code.push_str("}\n\n");
        code.push_str(&defaults);
        self.code.push_str(&code);
        type_name
    }
}

impl TypeWriter {
    /// `Type::Variant` when `ty` is an enum written here and `default` one of its values.
    fn variant(&self, ty: &str, default: &Value) -> Option<String> {
        let (inner, optional) = match ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>')) {
            Some(inner) => (inner, true),
            None => (ty, false),
        };
        let (_, values) = self.enums.iter().find(|(name, _)| name == inner)?;
        let (_, variant) = values
            .iter()
            .find(|(value, _)| Some(value.as_str()) == default.as_str())?;
        let path = format!("{inner}::{variant}");
        Some(if optional {
            format!("Some({path})")
        } else {
            path
        })
    }
}

struct Context<'a> {
    root: &'a Value,
    root_number: usize,
    secrets: &'a [String],
}

fn wrap_secret(ty: &str, secret: bool) -> String {
    if !secret {
        return ty.to_string();
    }
    match ty
        .strip_prefix("Option<")
        .and_then(|inner| inner.strip_suffix('>'))
    {
        Some(inner) => format!("Option<sekoia_automation::Secret<{inner}>>"),
        None => format!("sekoia_automation::Secret<{ty}>"),
    }
}

fn wrap_secret_value(literal: &str, secret: bool) -> String {
    if secret {
        format!("({literal}).into()")
    } else {
        literal.to_string()
    }
}

/// The Rust expression of a default value for a field of type `ty`, and
/// the field's type (`serde_json::Value` when the default does not fit `ty`).
fn default_literal(default: &Value, ty: &str) -> (String, String) {
    let (inner, optional) = match ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>')) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    let simple = match (inner, default) {
        ("String", Value::String(text)) => Some(format!("{}.to_string()", string_literal(text))),
        ("i64", Value::Number(number)) if number.is_i64() => Some(format!("{number}")),
        ("f64", Value::Number(number)) => number
            .as_f64()
            .filter(|float| {
                float.is_finite() && float.to_string().parse::<f64>().ok() == Some(*float)
            })
            .map(|float| format!("{float:?}")),
        ("bool", Value::Bool(flag)) => Some(flag.to_string()),
        ("Vec<String>", Value::Array(items)) if items.iter().all(Value::is_string) => {
            Some(format!(
                "vec![{}]",
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|item| format!("{}.to_string()", string_literal(item)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        ("Vec<i64>", Value::Array(items)) if items.iter().all(Value::is_i64) => Some(format!(
            "vec![{}]",
            items
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    };
    match simple {
        Some(literal) if optional => (format!("Some({literal})"), ty.to_string()),
        Some(literal) => (literal, ty.to_string()),
        None => (
            format!(
                "serde_json::from_str({}).unwrap_or_default()",
                raw_string_literal(&default.to_string())
            ),
            "serde_json::Value".into(),
        ),
    }
}

/// A schema's `description` (else its `title`) as doc lines.
fn doc_of(schema: &Map<String, Value>, indent: &str) -> String {
    schema
        .get("description")
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
        .map(|text| doc_lines(text, indent))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_fields_are_options_absent_when_none() {
        let mut writer = TypeWriter::new();
        let schema = json!({"type": "object", "properties": {"limit": {"type": "integer"}}});
        assert_eq!(writer.root("Arguments", &schema, &[]), "Arguments");
        assert!(writer.code().contains(
            "    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub limit: Option<i64>,\n"
        ));
    }

    #[test]
    fn a_default_that_fits_no_type_is_read_as_any_value() {
        let mut writer = TypeWriter::new();
        let schema =
            json!({"type": "object", "properties": {"x": {"type": "integer", "default": "ten"}}});
        writer.root("Arguments", &schema, &[]);
        assert!(
            writer.code().contains("pub x: serde_json::Value,"),
            "{}",
            writer.code()
        );
        assert!(
            writer
                .code()
                .contains(r###"serde_json::from_str(r#""ten""#).unwrap_or_default()"###)
        );
    }

    #[test]
    fn type_names_stay_unique_in_one_file() {
        let mut writer = TypeWriter::new();
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert_eq!(writer.root("Value", &schema, &[]), "Value2");
        assert_eq!(writer.root("Results", &schema, &[]), "Results");
        assert_eq!(writer.root("Results", &schema, &[]), "Results2");
    }
}
