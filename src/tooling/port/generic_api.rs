//! `GenericAPIAction` subclasses read from the Python source: their class
//! attributes (`verb`, `endpoint`, `query_parameters`, `timeout`,
//! `authentication`, `auth_header`, `auth_query_param`, `base_url`),
//! inherited through the subclasses found, written as the `Api` value
//! that does the same request (src/vendor_api/api_action.rs).

use super::python::{PyClass, PySources, PyValue};
use super::rust_names::string_literal;

/// The SDK class the subclasses derive from.
pub const GENERIC_API_ACTION: &str = "GenericAPIAction";

/// A `GenericAPIAction` subclass, as an `Api` value.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiPlan {
    /// The Rust expression building the `Api` (`Api::get("host/{ip}").query(&["history"])`),
    /// without name and identity.
    pub expression: String,
    /// The HTTP method (`GET`).
    pub verb: String,
    /// The endpoint, as the class states it (`host/{ip}`).
    pub endpoint: String,
    /// Methods the Python subclasses define (`get_url`, `run`...): the `Api`
    /// does what `GenericAPIAction` does, not what they do.
    pub overrides: Vec<(String, String)>,
}

impl ApiPlan {
    /// Whether the class only sets attributes (a complete port).
    pub fn is_plain(&self) -> bool {
        self.overrides.is_empty()
    }
}

/// Why a `GenericAPIAction` subclass cannot be written as an `Api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnApi(pub String);

/// The `Api` for `class` when it derives from `GenericAPIAction`; `None`
/// when it does not; `Err` with the reason when an attribute is not a
/// literal the port understands.
pub fn api_plan(sources: &PySources, class: &PyClass) -> Option<Result<ApiPlan, NotAnApi>> {
    if !sources.derives_from(class, GENERIC_API_ACTION) {
        return None;
    }
    let chain = sources.ancestry(class);
    // Below GenericAPIAction only: the first class naming it ends the chain.
    let end = chain
        .iter()
        .position(|class| class.base_names().any(|base| base == GENERIC_API_ACTION))
        .map_or(chain.len(), |position| position + 1);
    let chain = &chain[..end];
    let attribute = |name: &str| -> Option<&PyValue> {
        chain.iter().find_map(|class| {
            class
                .attributes
                .iter()
                .find(|(attribute, _)| attribute == name)
                .map(|(_, value)| value)
        })
    };
    // The `get_headers` that applies (the first in the chain), when it is
    // one of the shapes the library writes, is an authentication.
    let headers = chain.iter().find_map(|class| {
        class
            .methods
            .iter()
            .find(|method| method.name == "get_headers")
    });
    let known_headers = headers.and_then(|method| known_get_headers(&method.source));
    let overrides: Vec<(String, String)> = chain
        .iter()
        .flat_map(|class| {
            class
                .methods
                .iter()
                .filter(|method| known_headers.is_none() || method.name != "get_headers")
                .map(move |method| {
                    (
                        format!("{}.{}", class.name, method.name),
                        method.source.clone(),
                    )
                })
        })
        .collect();
    Some(plan(&attribute, overrides).map(|mut plan| {
        if let Some(authentication) = known_headers {
            if let Some((before, _)) = plan.expression.split_once(".authentication(") {
                plan.expression = before.to_string();
            }
            plan.expression
                .push_str(&format!(".authentication({authentication})"));
        }
        plan
    }))
}

/// The `ApiAuthentication` a `get_headers` override amounts to, for the
/// shapes the library writes:
///
/// - `return {"Accept": "application/json"}`: `ApiAuthentication::None`;
/// - `headers = {"Accept": "application/json"}`, `api_key =
///   self.module.configuration.get("api_key")`, `if api_key:
///   headers["X-Key"] = api_key`, `return headers`: the key in `X-Key`
///   when it is set (`ApiAuthentication::header_from_configuration`);
/// - `return {"Accept": "application/json", "X-Key":
///   self.module.configuration["api_key"]}`: the same.
///
/// Anything else (another header, a helper, a token of its own) is `None`:
/// the method stays an override to port.
///
/// ```
/// use sekoia_automation::unversioned::port::generic_api::known_get_headers;
/// let source = "def get_headers(self):\n    return {'Accept': 'application/json'}";
/// assert_eq!(known_get_headers(source).as_deref(), Some("ApiAuthentication::None"));
/// ```
pub fn known_get_headers(source: &str) -> Option<String> {
    let mut lines: Vec<String> = source
        .lines()
        .map(|line| line.trim().replace('\'', "\""))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    if !lines.first()?.starts_with("def get_headers(self)") {
        return None;
    }
    lines.remove(0);
    if lines.first().is_some_and(|line| {
        line.len() > 6 && line.starts_with("\"\"\"") && line.ends_with("\"\"\"")
    }) {
        lines.remove(0);
    }
    let body = lines.join(" ");
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = body.replace(", }", " }").replace(",}", "}");
    if body == r#"return {"Accept": "application/json"}"# {
        return Some("ApiAuthentication::None".into());
    }
    let header = |text: &str| -> Option<String> {
        let name = text.strip_prefix('"')?.strip_suffix('"')?;
        (!name.is_empty() && !name.contains(['"', '\\']))
            .then(|| format!("ApiAuthentication::header_from_configuration({name:?}, \"api_key\")"))
    };
    if let Some(rest) = body.strip_prefix(
        r#"headers = {"Accept": "application/json"} api_key = self.module.configuration.get("api_key") if api_key: headers["#,
    ) && let Some(name) = rest.strip_suffix("] = api_key return headers")
    {
        return header(name);
    }
    if let Some(rest) = body.strip_prefix(r#"return { "Accept": "application/json", "#)
        && let Some(name) = rest.strip_suffix(r#": self.module.configuration["api_key"] }"#)
    {
        return header(name);
    }
    basic_from_configuration(&body)
}

/// `requests.auth._basic_auth_str` of two configuration values, in the two
/// shapes the library writes (ServiceNow, RiskIQ):
/// `headers = {"Accept": "application/json"}`, `u =
/// self.module.configuration.get("username")`, `p = ...get("password")`,
/// `headers["Authorization"] = basic_auth(u, p)`, `return headers`; or the
/// two reads then `return {"Accept": "application/json", "Authorization":
/// basic_auth(u, p)}`.
fn basic_from_configuration(body: &str) -> Option<String> {
    let (rest, dictionary_first) =
        match body.strip_prefix(r#"headers = {"Accept": "application/json"} "#) {
            Some(rest) => (rest, true),
            None => (body, false),
        };
    // `NAME = self.module.configuration.get("KEY") `: (NAME, KEY, rest).
    let read = |text: &str| -> Option<(String, String, String)> {
        let (name, rest) = text.split_once(" = self.module.configuration.get(\"")?;
        let (key, rest) = rest.split_once("\") ")?;
        let plain = |word: &str| {
            !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        (plain(name) && !key.contains(['"', '\\'])).then(|| (name.into(), key.into(), rest.into()))
    };
    let (user, user_key, rest) = read(rest)?;
    let (password, password_key, rest) = read(&rest)?;
    let call = format!("basic_auth({user}, {password})");
    let expected = if dictionary_first {
        format!(r#"headers["Authorization"] = {call} return headers"#)
    } else {
        format!(r#"return {{ "Accept": "application/json", "Authorization": {call} }}"#)
    };
    (rest == expected).then(|| {
        format!("ApiAuthentication::basic_from_configuration({user_key:?}, {password_key:?})")
    })
}

fn plan<'a>(
    attribute: &dyn Fn(&str) -> Option<&'a PyValue>,
    overrides: Vec<(String, String)>,
) -> Result<ApiPlan, NotAnApi> {
    let text = |name: &str| -> Result<Option<String>, NotAnApi> {
        match attribute(name) {
            None | Some(PyValue::None) => Ok(None),
            Some(PyValue::Str(text)) => Ok(Some(text.clone())),
            Some(other) => Err(NotAnApi(format!(
                "`{name}` is not a string the port can read: {}",
                shown(other)
            ))),
        }
    };
    let verb = text("verb")?.ok_or_else(|| NotAnApi("it sets no `verb`".into()))?;
    let endpoint = text("endpoint")?.ok_or_else(|| NotAnApi("it sets no `endpoint`".into()))?;
    let constructor = match verb.to_ascii_lowercase().as_str() {
        "get" => "get",
        "post" => "post",
        "put" => "put",
        "patch" => "patch",
        "delete" => "delete",
        other => {
            return Err(NotAnApi(format!(
                "its verb `{other}` is not one `Api` sends"
            )));
        }
    };
    let mut expression = format!("Api::{constructor}({})", string_literal(&endpoint));
    match attribute("query_parameters") {
        None | Some(PyValue::None) => {}
        Some(PyValue::List(parameters)) => {
            let names: Option<Vec<String>> = parameters
                .iter()
                .map(|parameter| parameter.as_str().map(string_literal))
                .collect();
            let names = names.ok_or_else(|| {
                NotAnApi("`query_parameters` holds something else than strings".into())
            })?;
            if !names.is_empty() {
                expression.push_str(&format!(".query(&[{}])", names.join(", ")));
            }
        }
        Some(other) => {
            return Err(NotAnApi(format!(
                "`query_parameters` is not a list the port can read: {}",
                shown(other)
            )));
        }
    }
    if let Some(base_url) = text("base_url")?.filter(|url| !url.is_empty()) {
        expression.push_str(&format!(".base_url({})", string_literal(&base_url)));
    }
    match attribute("timeout") {
        None | Some(PyValue::Int(5)) => {}
        Some(PyValue::Int(seconds)) if *seconds >= 0 => {
            expression.push_str(&format!(
                ".timeout(std::time::Duration::from_secs({seconds}))"
            ));
        }
        Some(PyValue::Float(seconds)) if seconds.is_finite() && *seconds >= 0.0 => {
            expression.push_str(&format!(
                ".timeout(std::time::Duration::from_secs_f64({seconds:?}))"
            ));
        }
        Some(other) => {
            return Err(NotAnApi(format!(
                "`timeout` is not a number of seconds the port can read: {}",
                shown(other)
            )));
        }
    }
    let header = text("auth_header")?;
    let query = text("auth_query_param")?;
    let option = |value: &Option<String>| match value {
        Some(value) => format!("Some({})", string_literal(value)),
        None => "None".into(),
    };
    if let Some(authentication) = text("authentication")? {
        let variant = match authentication.to_ascii_lowercase().as_str() {
            "basic" => format!("ApiAuthentication::basic({})", option(&header)),
            "bearer" => format!("ApiAuthentication::bearer({})", option(&header)),
            "apikey" => format!(
                "ApiAuthentication::api_key({}, {})",
                option(&header),
                option(&query)
            ),
            other => {
                return Err(NotAnApi(format!(
                    "its authentication `{other}` is not one `Api` knows (basic, bearer, apiKey)"
                )));
            }
        };
        expression.push_str(&format!(".authentication({variant})"));
    }
    Ok(ApiPlan {
        expression,
        verb: constructor.to_ascii_uppercase(),
        endpoint,
        overrides,
    })
}

fn shown(value: &PyValue) -> String {
    match value {
        PyValue::Unknown(text) | PyValue::Name(text) => format!("`{text}`"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn class(name: &str, bases: &[&str], attributes: Vec<(&str, PyValue)>) -> PyClass {
        PyClass {
            name: name.into(),
            bases: bases.iter().map(|base| base.to_string()).collect(),
            file: Path::new("acme.py").into(),
            line: 1,
            source: String::new(),
            attributes: attributes
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
            methods: Vec::new(),
        }
    }

    fn text(value: &str) -> PyValue {
        PyValue::Str(value.into())
    }

    #[test]
    fn attributes_are_inherited_and_become_the_api_value() {
        let base = class(
            "Base",
            &["GenericAPIAction"],
            vec![
                ("timeout", PyValue::Int(10)),
                ("authentication", text("apiKey")),
                ("auth_query_param", text("key")),
            ],
        );
        let host = class(
            "GetHost",
            &["Base"],
            vec![
                ("verb", text("GET")),
                ("endpoint", text("host/{ip}")),
                (
                    "query_parameters",
                    PyValue::List(vec![text("history"), text("minify")]),
                ),
            ],
        );
        let sources = PySources {
            classes: vec![base, host],
        };
        let plan = api_plan(&sources, &sources.classes[1]).unwrap().unwrap();
        assert_eq!(
            plan.expression,
            r#"Api::get("host/{ip}").query(&["history", "minify"]).timeout(std::time::Duration::from_secs(10)).authentication(ApiAuthentication::api_key(None, Some("key")))"#
        );
        assert!(plan.is_plain());
        assert!(api_plan(&sources, &class("Other", &["Action"], vec![])).is_none());
    }

    #[test]
    fn the_library_shapes_of_get_headers_are_authentications() {
        let shodan = "def get_headers(self):\n        \"\"\"Simplified method.\"\"\"\n        return {'Accept': 'application/json'}";
        assert_eq!(
            known_get_headers(shodan).as_deref(),
            Some("ApiAuthentication::None")
        );
        let binary_edges = "def get_headers(self):\n    headers = {\"Accept\": \"application/json\"}\n    api_key = self.module.configuration.get(\"api_key\")\n    if api_key:\n        headers[\"X-Key\"] = api_key\n    return headers";
        assert_eq!(
            known_get_headers(binary_edges).as_deref(),
            Some(r#"ApiAuthentication::header_from_configuration("X-Key", "api_key")"#)
        );
        let glimps = "def get_headers(self):\n    return {\n        \"Accept\": \"application/json\",\n        \"X-Auth-Token\": self.module.configuration[\"api_key\"],\n    }";
        assert_eq!(
            known_get_headers(glimps).as_deref(),
            Some(r#"ApiAuthentication::header_from_configuration("X-Auth-Token", "api_key")"#)
        );
        let service_now = "def get_headers(self):\n    headers = {\"Accept\": \"application/json\"}\n\n    username = self.module.configuration.get(\"username\")\n    password = self.module.configuration.get(\"password\")\n    headers[\"Authorization\"] = basic_auth(username, password)\n\n    return headers";
        assert_eq!(
            known_get_headers(service_now).as_deref(),
            Some(r#"ApiAuthentication::basic_from_configuration("username", "password")"#)
        );
        let risk_iq = "def get_headers(self):\n    api_key = self.module.configuration.get(\"api_key\")\n    api_secret = self.module.configuration.get(\"api_secret\")\n    return {\n        \"Accept\": \"application/json\",\n        \"Authorization\": basic_auth(api_key, api_secret),\n    }";
        assert_eq!(
            known_get_headers(risk_iq).as_deref(),
            Some(r#"ApiAuthentication::basic_from_configuration("api_key", "api_secret")"#)
        );
        // Another function than `basic_auth`, or the reads swapped: not known.
        let other = risk_iq.replace(
            "basic_auth(api_key, api_secret)",
            "token(api_key, api_secret)",
        );
        assert_eq!(known_get_headers(&other), None);
        let swapped = risk_iq.replace(
            "basic_auth(api_key, api_secret)",
            "basic_auth(api_secret, api_key)",
        );
        assert_eq!(known_get_headers(&swapped), None);
        // A token of its own, one more header: not an authentication `Api` has.
        let harfanglab =
            "def get_headers(self):\n    return {\"Authorization\": f\"Token {self.api_token}\"}";
        assert_eq!(known_get_headers(harfanglab), None);
        let more = "def get_headers(self):\n    return {\"Accept\": \"application/json\", \"X-Key\": self.module.configuration[\"api_key\"], \"X-Other\": \"1\"}";
        assert_eq!(known_get_headers(more), None);
    }

    #[test]
    fn what_is_not_a_literal_is_named() {
        let unknown = class(
            "Dynamic",
            &["GenericAPIAction"],
            vec![
                ("verb", text("post")),
                ("endpoint", PyValue::Unknown("build()".into())),
            ],
        );
        let sources = PySources {
            classes: vec![unknown],
        };
        let error = api_plan(&sources, &sources.classes[0])
            .unwrap()
            .unwrap_err();
        assert_eq!(
            error.0,
            "`endpoint` is not a string the port can read: `build()`"
        );
    }
}
