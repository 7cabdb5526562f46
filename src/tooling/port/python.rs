//! Reading a Python module's source without running it: its classes (name,
//! bases, class-level attributes, methods, source text), the classes made
//! with `type("Name", (Base,), {...})`, module-level constants, and
//! `main.py`'s `module.register(Class, "command")` calls.
//!
//! A small reader of Python's lexical structure (logical lines, strings,
//! brackets, indentation) and of literal expressions (strings and their
//! `+`, numbers, `True`/`False`/`None`, lists, tuples, dicts, names of
//! module-level constants); anything else is [`PyValue::Unknown`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A literal Python value, or the text of an expression that is not one.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// A string (after `+` concatenation and constant names resolved).
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A list or a tuple.
    List(Vec<PyValue>),
    /// A dict, in source order.
    Dict(Vec<(PyValue, PyValue)>),
    /// A dotted name that is no known constant (`GenericAPIAction`, `x.y`).
    Name(String),
    /// Any other expression, as written.
    Unknown(String),
}

impl PyValue {
    /// The string, when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(text) => Some(text),
            _ => None,
        }
    }
}

/// A method of a class: its name and source text.
#[derive(Debug, Clone, PartialEq)]
pub struct PyMethod {
    /// The method's name.
    pub name: String,
    /// Its source, as written (decorators excluded).
    pub source: String,
}

/// A class found in the module's source.
#[derive(Debug, Clone, PartialEq)]
pub struct PyClass {
    /// The class's name.
    pub name: String,
    /// Its bases, as written (`GenericAPIAction`, `sekoia_automation.action.Action`).
    pub bases: Vec<String>,
    /// The file, relative to the module directory.
    pub file: PathBuf,
    /// The line of its header (from 1).
    pub line: usize,
    /// Its source, as written.
    pub source: String,
    /// Class-level assignments, in order.
    pub attributes: Vec<(String, PyValue)>,
    /// Its methods, in order.
    pub methods: Vec<PyMethod>,
}

impl PyClass {
    /// The last segment of each base (`sekoia_automation.action.Action` is `Action`).
    pub fn base_names(&self) -> impl Iterator<Item = &str> {
        self.bases
            .iter()
            .map(|base| base.rsplit('.').next().unwrap_or(base))
    }
}

/// Every class of the module's Python files.
#[derive(Debug, Default)]
pub struct PySources {
    /// The classes, files in name order, classes in source order.
    pub classes: Vec<PyClass>,
}

impl PySources {
    /// The classes named `name`; the one of `preferred_file` first when given.
    pub fn find(&self, name: &str, preferred_file: Option<&Path>) -> Option<&PyClass> {
        let mut found = self.classes.iter().filter(|class| class.name == name);
        let first = found.clone().next();
        preferred_file
            .and_then(|file| found.find(|class| class.file == file))
            .or(first)
    }

    /// The chain of `class` and its ancestors found in the sources (first
    /// base first), stopping at classes not found.
    pub fn ancestry<'a>(&'a self, class: &'a PyClass) -> Vec<&'a PyClass> {
        let mut chain = vec![class];
        let mut current = class;
        // Bounded: a chain longer than the number of classes loops.
        for _ in 0..self.classes.len() {
            let Some(parent) = current
                .base_names()
                .filter(|base| *base != current.name)
                .find_map(|base| self.find(base, Some(&current.file)))
            else {
                break;
            };
            if chain.iter().any(|known| std::ptr::eq(*known, parent)) {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// Whether `class` derives (through the classes found) from a class
    /// named `base` (`GenericAPIAction`, `Trigger`...).
    pub fn derives_from(&self, class: &PyClass, base: &str) -> bool {
        self.ancestry(class)
            .iter()
            .any(|class| class.base_names().any(|name| name == base))
    }
}

/// A `module.register(...)` call of `main.py`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyRegistration {
    /// The class registered (last segment of the name).
    pub class: String,
    /// The command it is registered under; `None` when `register` was
    /// given none (the Python SDK then uses the class name).
    pub command: Option<String>,
}

/// What `main.py` registers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PyMain {
    /// The items, in order.
    pub registrations: Vec<PyRegistration>,
    /// The account validator's class.
    pub validator: Option<String>,
    /// Imported names: the local name → the module they come from (as a
    /// path: `from a.b import C as D` gives `D` → (`a/b`, `C`)).
    pub imports: HashMap<String, (PathBuf, String)>,
}

/// Reads every `.py` file of `directory` (tests, virtual environments and
/// hidden directories left out).
pub fn read_sources(directory: &Path) -> PySources {
    let mut files = Vec::new();
    collect_python_files(directory, directory, &mut files, 0);
    files.sort();
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter_map(|file| {
            Some((
                file.clone(),
                std::fs::read_to_string(directory.join(&file)).ok()?,
            ))
        })
        .collect();
    // First the constants each file defines, then the classes of each file
    // with the constants it imports from the others (`from pkg import base_url`).
    let constants: HashMap<PathBuf, HashMap<String, PyValue>> = texts
        .iter()
        .map(|(file, text)| (file.clone(), read_classes(text, file, HashMap::new()).1))
        .collect();
    let mut sources = PySources::default();
    for (file, text) in &texts {
        let mut imported = HashMap::new();
        for (local, (module, name)) in imports(text, file) {
            let candidates = [module.with_extension("py"), module.join("__init__.py")];
            if let Some(value) = candidates
                .iter()
                .filter_map(|candidate| constants.get(candidate))
                .find_map(|defined| defined.get(&name))
            {
                imported.insert(local, value.clone());
            }
        }
        sources.classes.extend(read_classes(text, file, imported).0);
    }
    sources
}

/// The `from MODULE import NAME [as LOCAL]` of a file: local name → (the
/// module as a path relative to the module directory, the imported name).
/// Relative imports (`from .base import x`) are resolved from `file`.
fn imports(source: &str, file: &Path) -> HashMap<String, (PathBuf, String)> {
    let mut found = HashMap::new();
    for line in logical_lines(source) {
        let Some(rest) = line.text.trim().strip_prefix("from ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once(" import ") else {
            continue;
        };
        let module = module.trim();
        let dots = module.len() - module.trim_start_matches('.').len();
        let mut path = PathBuf::new();
        if dots > 0 {
            let mut base = file.parent().map(Path::to_path_buf).unwrap_or_default();
            for _ in 1..dots {
                base.pop();
            }
            path.push(base);
        }
        let dotted = module.trim_start_matches('.');
        if !dotted.is_empty() {
            path.push(dotted.replace('.', "/"));
        }
        let names = names.trim().trim_start_matches('(').trim_end_matches(')');
        for name in names.split(',') {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let (original, local) = match name.split_once(" as ") {
                Some((original, local)) => (original.trim(), local.trim()),
                None => (name, name),
            };
            found.insert(local.to_string(), (path.clone(), original.to_string()));
        }
    }
    found
}

fn collect_python_files(root: &Path, directory: &Path, files: &mut Vec<PathBuf>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let skipped = name.starts_with('.')
                || matches!(
                    name.as_str(),
                    "tests" | "test" | "venv" | "node_modules" | "__pycache__"
                );
            if !skipped {
                collect_python_files(root, &path, files, depth + 1);
            }
        } else if name.ends_with(".py")
            && !name.starts_with("test_")
            && let Ok(relative) = path.strip_prefix(root)
        {
            files.push(relative.to_path_buf());
        }
    }
}

/// One logical line: its first physical line (from 1), its indentation,
/// its text (comments removed, continuation lines joined) and the physical
/// lines it spans.
#[derive(Debug)]
struct LogicalLine {
    line: usize,
    last_line: usize,
    indent: usize,
    text: String,
}

/// Splits Python source into logical lines (blank and comment-only lines left out).
fn logical_lines(source: &str) -> Vec<LogicalLine> {
    let chars: Vec<char> = source.chars().collect();
    let mut lines = Vec::new();
    let mut index = 0;
    let mut line = 1;
    while index < chars.len() {
        // Indentation of the physical line.
        let start_line = line;
        let mut indent = 0;
        while index < chars.len() && (chars[index] == ' ' || chars[index] == '\t') {
            indent += if chars[index] == '\t' { 8 } else { 1 };
            index += 1;
        }
        let mut text = String::new();
        let mut depth = 0usize;
        while index < chars.len() {
            let c = chars[index];
            match c {
                '#' => {
                    while index < chars.len() && chars[index] != '\n' {
                        index += 1;
                    }
                }
                '\\' if chars.get(index + 1) == Some(&'\n') => {
                    index += 2;
                    line += 1;
                    text.push(' ');
                }
                '\n' => {
                    index += 1;
                    line += 1;
                    if depth == 0 {
                        break;
                    }
                    text.push(' ');
                }
                '\'' | '"' => {
                    let triple =
                        chars.get(index + 1) == Some(&c) && chars.get(index + 2) == Some(&c);
                    let quote_len = if triple { 3 } else { 1 };
                    for _ in 0..quote_len {
                        text.push(c);
                    }
                    index += quote_len;
                    while index < chars.len() {
                        let d = chars[index];
                        if d == '\\' && index + 1 < chars.len() {
                            text.push(d);
                            text.push(chars[index + 1]);
                            if chars[index + 1] == '\n' {
                                line += 1;
                            }
                            index += 2;
                            continue;
                        }
                        if d == '\n' {
                            line += 1;
                            if !triple {
                                break;
                            }
                        }
                        if d == c
                            && (!triple
                                || (chars.get(index + 1) == Some(&c)
                                    && chars.get(index + 2) == Some(&c)))
                        {
                            for _ in 0..quote_len {
                                text.push(c);
                            }
                            index += quote_len;
                            break;
                        }
                        text.push(d);
                        index += 1;
                    }
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    text.push(c);
                    index += 1;
                }
                ')' | ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    text.push(c);
                    index += 1;
                }
                _ => {
                    text.push(c);
                    index += 1;
                }
            }
        }
        let text = text.trim_end().to_string();
        if !text.is_empty() {
            let last_line = if line > start_line { line - 1 } else { line };
            lines.push(LogicalLine {
                line: start_line,
                last_line: last_line.max(start_line),
                indent,
                text,
            });
        }
    }
    lines
}

/// The classes of one file's source and the constants it defines;
/// `constants` starts with the ones it imports.
fn read_classes(
    source: &str,
    file: &Path,
    mut constants: HashMap<String, PyValue>,
) -> (Vec<PyClass>, HashMap<String, PyValue>) {
    let physical: Vec<&str> = source.lines().collect();
    let excerpt = |from: usize, to: usize| -> String {
        physical
            .get(from.saturating_sub(1)..to.min(physical.len()))
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    };
    let lines = logical_lines(source);
    let mut classes = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = &lines[index];
        if line.indent != 0 {
            index += 1;
            continue;
        }
        if let Some(header) = line.text.strip_prefix("class ") {
            let (name, bases) = class_header(header);
            let body_end = lines[index + 1..]
                .iter()
                .position(|other| other.indent == 0)
                .map_or(lines.len(), |offset| index + 1 + offset);
            let body = &lines[index + 1..body_end];
            let body_indent = body.first().map_or(0, |first| first.indent);
            let mut attributes = Vec::new();
            let mut methods = Vec::new();
            for (position, member) in body.iter().enumerate() {
                if member.indent != body_indent {
                    continue;
                }
                let def = member
                    .text
                    .strip_prefix("def ")
                    .or_else(|| member.text.strip_prefix("async def "));
                if let Some(def) = def {
                    let name: String = def
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let end = body[position + 1..]
                        .iter()
                        .find(|next| next.indent <= body_indent)
                        .map_or(
                            body.last().map_or(member.last_line, |l| l.last_line),
                            |next| next.line - 1,
                        );
                    methods.push(PyMethod {
                        name,
                        source: trim_trailing_blank(&excerpt(member.line, end)),
                    });
                } else if let Some((target, value)) = assignment(&member.text) {
                    attributes.push((target, parse_expression(&value, &constants)));
                }
            }
            let last = body.last().map_or(line.last_line, |l| l.last_line);
            classes.push(PyClass {
                name,
                bases,
                file: file.to_path_buf(),
                line: line.line,
                source: trim_trailing_blank(&excerpt(line.line, last)),
                attributes,
                methods,
            });
            index = body_end;
            continue;
        }
        if let Some((target, value)) = assignment(&line.text) {
            let parsed = parse_expression(&value, &constants);
            if let Some(class) = type_call(&target, &value, &constants) {
                classes.push(PyClass {
                    file: file.to_path_buf(),
                    line: line.line,
                    source: excerpt(line.line, line.last_line),
                    ..class
                });
            } else {
                constants.insert(target, parsed);
            }
        }
        index += 1;
    }
    (classes, constants)
}

fn trim_trailing_blank(text: &str) -> String {
    text.trim_end().to_string()
}

/// `Name(Base1, Base2):` → name and bases (keywords such as `metaclass=` left out).
fn class_header(header: &str) -> (String, Vec<String>) {
    let header = header.trim_end_matches(':').trim();
    let name: String = header
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let bases = header
        .find('(')
        .and_then(|open| header.rfind(')').map(|close| &header[open + 1..close]))
        .map(|inside| {
            split_top_level(inside)
                .into_iter()
                .map(|base| base.trim().to_string())
                .filter(|base| !base.is_empty() && !base.contains('='))
                .map(|base| base.split('[').next().unwrap_or(&base).trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    (name, bases)
}

/// `target = value` or `target: annotation = value` (a plain name as target).
fn assignment(text: &str) -> Option<(String, String)> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() || name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = text[name.len()..].trim_start();
    let rest = if let Some(annotated) = rest.strip_prefix(':') {
        // The annotation runs to the top-level `=`.
        let position = top_level_equals(annotated)?;
        &annotated[position..]
    } else {
        rest
    };
    let value = rest.strip_prefix('=')?;
    if value.starts_with('=') {
        return None;
    }
    Some((name, value.trim().to_string()))
}

fn top_level_equals(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (index, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '=' if depth == 0 => return Some(index),
            _ => {}
        }
    }
    None
}

/// `Name = type("Name", (Base,), {"attribute": value, ...})`.
fn type_call(target: &str, value: &str, constants: &HashMap<String, PyValue>) -> Option<PyClass> {
    let inside = value.strip_prefix("type(")?.strip_suffix(')')?;
    let parts = split_top_level(inside);
    // The class is known by the name it is bound to (`DeletesAssetV2 =
    // type("DeletesAsset", ...)` is registered as `DeletesAssetV2`).
    let [_, bases, attributes] = parts.as_slice() else {
        return None;
    };
    let bases = parse_expression(bases, constants);
    let PyValue::Dict(attributes) = parse_expression(attributes, constants) else {
        return None;
    };
    let PyValue::List(bases) = bases else {
        return None;
    };
    Some(PyClass {
        name: target.to_string(),
        bases: bases
            .into_iter()
            .filter_map(|base| match base {
                PyValue::Name(name) => Some(name),
                _ => None,
            })
            .collect(),
        file: PathBuf::new(),
        line: 0,
        source: String::new(),
        attributes: attributes
            .into_iter()
            .filter_map(|(key, value)| Some((key.as_str()?.to_string(), value)))
            .collect(),
        methods: Vec::new(),
    })
}

/// Splits at top-level commas (outside brackets and strings).
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(open) = quote {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                current.push(c);
            }
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

/// Parses a literal expression; names are looked up in `constants`.
pub fn parse_expression(text: &str, constants: &HashMap<String, PyValue>) -> PyValue {
    let tokens = tokenize(text);
    let mut parser = Parser {
        tokens: &tokens,
        position: 0,
        constants,
    };
    match parser.sum() {
        Some(value) if parser.position == tokens.len() => value,
        _ => PyValue::Unknown(text.trim().to_string()),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(Option<String>),
    Number(String),
    Name(String),
    Punct(char),
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c.is_whitespace() {
            index += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = index;
            while index < chars.len()
                && (chars[index].is_alphanumeric() || chars[index] == '_' || chars[index] == '.')
            {
                index += 1;
            }
            let word: String = chars[start..index].iter().collect();
            let prefix = word.to_ascii_lowercase();
            if index < chars.len()
                && (chars[index] == '\'' || chars[index] == '"')
                && matches!(
                    prefix.as_str(),
                    "r" | "u" | "b" | "f" | "rb" | "br" | "fr" | "rf"
                )
            {
                let (value, next) = string_literal(&chars, index, prefix.contains('r'));
                // An f-string's value is not known from the source.
                let value = if prefix.contains('f') { None } else { value };
                tokens.push(Token::Str(value));
                index = next;
            } else {
                tokens.push(Token::Name(word));
            }
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(index + 1).is_some_and(char::is_ascii_digit) && {
                !matches!(
                    tokens.last(),
                    Some(
                        Token::Number(_) | Token::Name(_) | Token::Str(_) | Token::Punct(')' | ']')
                    )
                )
            })
        {
            let start = index;
            index += 1;
            while index < chars.len()
                && (chars[index].is_ascii_alphanumeric()
                    || chars[index] == '.'
                    || chars[index] == '_')
            {
                index += 1;
            }
            tokens.push(Token::Number(chars[start..index].iter().collect()));
        } else if c == '\'' || c == '"' {
            let (value, next) = string_literal(&chars, index, false);
            tokens.push(Token::Str(value));
            index = next;
        } else {
            tokens.push(Token::Punct(c));
            index += 1;
        }
    }
    tokens
}

/// A string literal starting at `start` (a quote); its value (`None` when an
/// escape is not understood) and the index after it.
fn string_literal(chars: &[char], start: usize, raw: bool) -> (Option<String>, usize) {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let quote_len = if triple { 3 } else { 1 };
    let mut index = start + quote_len;
    let mut value = String::new();
    let mut understood = true;
    while index < chars.len() {
        let c = chars[index];
        if c == quote
            && (!triple
                || (chars.get(index + 1) == Some(&quote) && chars.get(index + 2) == Some(&quote)))
        {
            return (understood.then_some(value), index + quote_len);
        }
        if c == '\\' && index + 1 < chars.len() {
            let next = chars[index + 1];
            index += 2;
            if raw {
                value.push('\\');
                value.push(next);
                continue;
            }
            match next {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                '\\' => value.push('\\'),
                '\'' => value.push('\''),
                '"' => value.push('"'),
                '0' => value.push('\0'),
                '\n' => {}
                'u' | 'x' | 'U' => {
                    let length = match next {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let digits: String = chars[index..(index + length).min(chars.len())]
                        .iter()
                        .collect();
                    match u32::from_str_radix(&digits, 16)
                        .ok()
                        .and_then(char::from_u32)
                    {
                        Some(decoded) => value.push(decoded),
                        None => understood = false,
                    }
                    index += length;
                }
                other => {
                    // Python keeps unknown escapes as written.
                    value.push('\\');
                    value.push(other);
                }
            }
            continue;
        }
        value.push(c);
        index += 1;
    }
    (None, chars.len())
}

struct Parser<'a> {
    tokens: &'a [Token],
    position: usize,
    constants: &'a HashMap<String, PyValue>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    /// `atom (+ atom)*`, and adjacent string literals.
    fn sum(&mut self) -> Option<PyValue> {
        let mut value = self.atom()?;
        loop {
            if self.eat('+') {
                let right = self.atom()?;
                value = match (value, right) {
                    (PyValue::Str(left), PyValue::Str(right)) => PyValue::Str(left + &right),
                    (PyValue::List(mut left), PyValue::List(right)) => {
                        left.extend(right);
                        PyValue::List(left)
                    }
                    _ => return None,
                };
            } else if let (PyValue::Str(left), Some(Token::Str(_))) = (&value, self.peek()) {
                let left = left.clone();
                let PyValue::Str(right) = self.atom()? else {
                    return None;
                };
                value = PyValue::Str(left + &right);
            } else {
                return Some(value);
            }
        }
    }

    fn atom(&mut self) -> Option<PyValue> {
        let token = self.peek()?.clone();
        self.position += 1;
        match token {
            Token::Str(value) => value.map(PyValue::Str),
            Token::Number(text) => {
                let clean = text.replace('_', "");
                clean
                    .parse::<i64>()
                    .map(PyValue::Int)
                    .or_else(|_| clean.parse::<f64>().map(PyValue::Float))
                    .ok()
            }
            Token::Name(name) => Some(match name.as_str() {
                "True" => PyValue::Bool(true),
                "False" => PyValue::Bool(false),
                "None" => PyValue::None,
                _ => self
                    .constants
                    .get(&name)
                    .cloned()
                    .unwrap_or(PyValue::Name(name)),
            }),
            Token::Punct(open @ ('[' | '(')) => {
                let close = if open == '[' { ']' } else { ')' };
                let mut items = Vec::new();
                while !self.eat(close) {
                    items.push(self.sum()?);
                    if !self.eat(',') {
                        self.eat(close).then_some(())?;
                        break;
                    }
                }
                if open == '('
                    && items.len() == 1
                    && !matches!(self.tokens.get(self.position - 2), Some(Token::Punct(',')))
                {
                    return items.pop();
                }
                Some(PyValue::List(items))
            }
            Token::Punct('{') => {
                let mut entries = Vec::new();
                while !self.eat('}') {
                    let key = self.sum()?;
                    self.eat(':').then_some(())?;
                    let value = self.sum()?;
                    entries.push((key, value));
                    if !self.eat(',') {
                        self.eat('}').then_some(())?;
                        break;
                    }
                }
                Some(PyValue::Dict(entries))
            }
            Token::Punct(_) => None,
        }
    }
}

/// Reads `main.py`: its `register` and `register_account_validator` calls
/// and its `from ... import ...` lines.
pub fn read_main(source: &str) -> PyMain {
    let mut main = PyMain {
        imports: imports(source, Path::new("main.py")),
        ..PyMain::default()
    };
    for line in logical_lines(source) {
        let text = line.text.trim();
        if text.starts_with("from ") {
            continue;
        }
        let mut rest = text;
        while let Some(position) = rest.find(".register") {
            let after = &rest[position + ".register".len()..];
            let (validator, call) = if let Some(call) = after.strip_prefix("_account_validator(") {
                (true, call)
            } else if let Some(call) = after.strip_prefix('(') {
                (false, call)
            } else {
                rest = after;
                continue;
            };
            let Some(end) = closing_paren(call) else {
                break;
            };
            let arguments = split_top_level(&call[..end]);
            let class = arguments
                .first()
                .map(|class| class.trim())
                .map(|class| class.rsplit('.').next().unwrap_or(class).to_string())
                .unwrap_or_default();
            if validator {
                main.validator = Some(class);
            } else {
                let command = arguments.iter().skip(1).find_map(|argument| {
                    let argument = argument.trim();
                    let value = argument
                        .strip_prefix("name")
                        .or_else(|| argument.strip_prefix("command"))
                        .map(|rest| rest.trim_start())
                        .and_then(|rest| rest.strip_prefix('='))
                        .unwrap_or(argument);
                    parse_expression(value, &HashMap::new())
                        .as_str()
                        .map(str::to_string)
                });
                main.registrations.push(PyRegistration { class, command });
            }
            rest = &call[end..];
        }
    }
    main
}

fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (index, c) in text.char_indices() {
        if let Some(open) = quote {
            if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => return Some(index),
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"
import requests
from sekoia_automation.action import GenericAPIAction

base_url = "api/v2/"


class Base(GenericAPIAction):
    """Docstring with a = sign."""

    timeout: int = 10

    def get_headers(self):
        # Only Accept.
        return {"Accept": "application/json"}


class GetHost(Base):
    verb = "get"
    endpoint = base_url + "host/{ip}"
    query_parameters: list[str] = [
        "history",  # kept
        'minify',
    ]


ListAlerts = type(
    "ListAlerts",
    (GenericAPIAction,),
    {"verb": "get", "endpoint": base_url + "alerts", "query_parameters": []},
)
"#;

    #[test]
    fn classes_attributes_methods_and_type_calls_are_read() {
        let classes = read_classes(SOURCE, Path::new("acme/__init__.py"), HashMap::new()).0;
        let names: Vec<&str> = classes.iter().map(|class| class.name.as_str()).collect();
        assert_eq!(names, ["Base", "GetHost", "ListAlerts"]);
        let base = &classes[0];
        assert_eq!(base.bases, ["GenericAPIAction"]);
        assert_eq!(base.attributes, [("timeout".to_string(), PyValue::Int(10))]);
        assert_eq!(base.methods.len(), 1);
        assert_eq!(base.methods[0].name, "get_headers");
        assert!(
            base.methods[0]
                .source
                .ends_with(r#"return {"Accept": "application/json"}"#)
        );
        assert_eq!(base.line, 8);
        let host = &classes[1];
        assert_eq!(
            host.attributes,
            [
                ("verb".to_string(), PyValue::Str("get".into())),
                (
                    "endpoint".to_string(),
                    PyValue::Str("api/v2/host/{ip}".into())
                ),
                (
                    "query_parameters".to_string(),
                    PyValue::List(vec![
                        PyValue::Str("history".into()),
                        PyValue::Str("minify".into())
                    ])
                ),
            ]
        );
        assert!(host.source.starts_with("class GetHost(Base):"));
        assert!(host.source.ends_with("    ]"));
        let alerts = &classes[2];
        assert_eq!(alerts.bases, ["GenericAPIAction"]);
        assert_eq!(alerts.attributes[1].1, PyValue::Str("api/v2/alerts".into()));
        assert_eq!(alerts.attributes[2].1, PyValue::List(vec![]));
    }

    #[test]
    fn ancestry_follows_the_bases_found() {
        let sources = PySources {
            classes: read_classes(SOURCE, Path::new("acme/__init__.py"), HashMap::new()).0,
        };
        let host = sources.find("GetHost", None).unwrap();
        let chain: Vec<&str> = sources
            .ancestry(host)
            .iter()
            .map(|class| class.name.as_str())
            .collect();
        assert_eq!(chain, ["GetHost", "Base"]);
        assert!(sources.derives_from(host, "GenericAPIAction"));
        assert!(!sources.derives_from(host, "Trigger"));
    }

    #[test]
    fn literals_escapes_and_unknown_expressions() {
        let constants = HashMap::from([("PREFIX".to_string(), PyValue::Str("v1/".into()))]);
        let parse = |text| parse_expression(text, &constants);
        assert_eq!(
            parse(r#"PREFIX + 'a\'b' "c""#),
            PyValue::Str("v1/a'bc".into())
        );
        assert_eq!(parse(r#""\u00e9\U0001d517""#), PyValue::Str("é𝔗".into()));
        assert_eq!(parse("-5"), PyValue::Int(-5));
        assert_eq!(parse("2.5"), PyValue::Float(2.5));
        assert_eq!(parse("(1,)"), PyValue::List(vec![PyValue::Int(1)]));
        assert_eq!(parse("(1)"), PyValue::Int(1));
        assert_eq!(
            parse("f\"{PREFIX}x\""),
            PyValue::Unknown("f\"{PREFIX}x\"".into())
        );
        assert_eq!(
            parse("os.environ['X']"),
            PyValue::Unknown("os.environ['X']".into())
        );
        assert_eq!(parse("None"), PyValue::None);
        assert_eq!(parse("a.B"), PyValue::Name("a.B".into()));
    }

    #[test]
    fn constants_imported_from_other_files_and_type_bindings_are_resolved() {
        let directory = tempfile::tempdir().unwrap();
        let package = directory.path().join("acme");
        std::fs::create_dir_all(package.join("center")).unwrap();
        std::fs::create_dir_all(directory.path().join("tests")).unwrap();
        std::fs::write(package.join("__init__.py"), "base_url = \"api/v2/\"\n").unwrap();
        std::fs::write(package.join("center/__init__.py"), "PREFIX = \"center/\"\n").unwrap();
        std::fs::write(
            package.join("center/actions.py"),
            "from acme import base_url\nfrom . import PREFIX as P\n\nclass Search(GenericAPIAction):\n    endpoint = base_url + P + \"search\"\n\nDeleteV2 = type(\"Delete\", (GenericAPIAction,), {\"endpoint\": base_url})\n",
        )
        .unwrap();
        // Tests are not the module's code.
        std::fs::write(
            directory.path().join("tests/test_x.py"),
            "class Search: pass\n",
        )
        .unwrap();
        let sources = read_sources(directory.path());
        let names: Vec<&str> = sources
            .classes
            .iter()
            .map(|class| class.name.as_str())
            .collect();
        assert_eq!(names, ["Search", "DeleteV2"]);
        assert_eq!(
            sources.classes[0].attributes[0].1,
            PyValue::Str("api/v2/center/search".into())
        );
        assert_eq!(
            sources.classes[1].attributes[0].1,
            PyValue::Str("api/v2/".into())
        );
    }

    #[test]
    fn main_py_registrations_in_every_shape() {
        let main = read_main(
            r#"
from acme.actions import GetHost, TagHost as Tag
from acme import triggers

if __name__ == "__main__":
    module = Module()
    module.register(GetHost, "get-host/{ip}")  # a comment (with a paren
    module.register(
        Tag,
        "tag-host",
    )
    module.register(triggers.Feed, name="feed")
    module.register(Bare)
    # module.register(Old, "old")
    module.register_account_validator(Validator)
    module.run()
"#,
        );
        let registration = |class: &str, command: Option<&str>| PyRegistration {
            class: class.into(),
            command: command.map(str::to_string),
        };
        assert_eq!(
            main.registrations,
            [
                registration("GetHost", Some("get-host/{ip}")),
                registration("Tag", Some("tag-host")),
                registration("Feed", Some("feed")),
                registration("Bare", None),
            ]
        );
        assert_eq!(main.validator.as_deref(), Some("Validator"));
        assert_eq!(
            main.imports["Tag"],
            (PathBuf::from("acme/actions"), "TagHost".to_string())
        );
    }
}
