//! Rust names and literals for generated code: identifiers from JSON keys
//! and Python names (keywords and leading digits avoided), type names in
//! `CamelCase`, string literals that say exactly the text.

/// Rust's keywords, strict and reserved (none is a valid field name as is).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Words of a name: runs of letters and digits, split at lower-to-upper
/// case changes (`queryParameters`, `HTTPServer`, `max-pages`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (index, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let previous = index.checked_sub(1).map(|i| chars[i]);
        let next = chars.get(index + 1);
        let boundary = c.is_ascii_uppercase()
            && previous.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(char::is_ascii_lowercase))
            });
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A `snake_case` field or module name for `name`: never a keyword
/// (`type` is `type_`), never starting with a digit (`2fa` is `f_2fa`),
/// never empty (`field`).
///
/// ```
/// use sekoia_automation::unversioned::port::rust_names::snake;
/// assert_eq!(snake("queryParameters"), "query_parameters");
/// assert_eq!(snake("type"), "type_");
/// assert_eq!(snake("date[created_at]"), "date_created_at");
/// assert_eq!(snake("2fa"), "f_2fa");
/// assert_eq!(snake("$"), "field");
/// ```
pub fn snake(name: &str) -> String {
    let joined = words(name)
        .iter()
        .map(|word| word.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if joined.is_empty() {
        return "field".into();
    }
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("f_{joined}");
    }
    if KEYWORDS.contains(&joined.as_str()) {
        return format!("{joined}_");
    }
    joined
}

/// A `CamelCase` type or variant name for `name` (`T` before a leading
/// digit, `Empty` for a name without letters or digits).
///
/// ```
/// use sekoia_automation::unversioned::port::rust_names::camel;
/// assert_eq!(camel("get_shodan_host"), "GetShodanHost");
/// assert_eq!(camel("GetDNSDomain"), "GetDnsDomain");
/// assert_eq!(camel("4xx"), "T4xx");
/// assert_eq!(camel(""), "Empty");
/// ```
pub fn camel(name: &str) -> String {
    let joined: String = words(name)
        .iter()
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    if joined.is_empty() {
        return "Empty".into();
    }
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("T{joined}");
    }
    if joined == "Self" {
        return "Self_".into();
    }
    joined
}

/// A Rust string literal whose value is exactly `text`.
///
/// ```
/// use sekoia_automation::unversioned::port::rust_names::string_literal;
/// assert_eq!(string_literal("a \"b\"\n𝔗"), r#""a \"b\"\n𝔗""#);
/// ```
pub fn string_literal(text: &str) -> String {
    format!("{text:?}")
}

/// A raw string literal (`r#"..."#`) holding `text`, with enough `#`s.
///
/// ```
/// use sekoia_automation::unversioned::port::rust_names::raw_string_literal;
/// assert_eq!(raw_string_literal(r#"{"a": "b"}"#), r###"r#"{"a": "b"}"#"###);
/// // A text holding `"#` needs two.
/// assert_eq!(raw_string_literal(r##"a"#b"##), r###"r##"a"#b"##"###);
/// ```
pub fn raw_string_literal(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

/// `text` as `//` comment lines, each prefixed with `indent`.
pub fn comment_lines(text: &str, indent: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim().is_empty() {
                format!("{indent}//\n")
            } else {
                format!("{indent}// {line}\n")
            }
        })
        .collect()
}

/// `text` as `///` doc lines, each prefixed with `indent`.
pub fn doc_lines(text: &str, indent: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                format!("{indent}///\n")
            } else {
                // Backticks left unbalanced would open a code block in rustdoc.
                format!("{indent}/// {}\n", line.replace("```", "'''"))
            }
        })
        .collect()
}

/// A name not in `used`, made from `wanted` by appending 2, 3... and
/// remembered in `used`.
pub fn unique(wanted: String, used: &mut Vec<String>) -> String {
    let mut name = wanted.clone();
    let mut counter = 2;
    while used.contains(&name) {
        name = format!("{wanted}{counter}");
        counter += 1;
    }
    used.push(name.clone());
    name
}
