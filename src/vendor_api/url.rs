//! URLs as `requests` builds them: `posixpath.join` of a base and a path,
//! `urlencode` of query parameters (`+` for spaces), and the normalization
//! of `PreparedRequest.prepare_url` (dot segments removed, invalid
//! characters percent-encoded, unreserved ones decoded).

/// Characters `quote_plus` never encodes.
fn always_safe(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~')
}

/// `urllib.parse.quote_plus(text)`: UTF-8, `+` for spaces, `%XX` for
/// everything but letters, digits and `_.-~`.
///
/// ```text
/// assert_eq!(quote_plus("a b/é~*"), "a+b%2F%C3%A9~%2A");
/// ```
pub fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if always_safe(byte) {
            out.push(byte as char);
        } else if byte == b' ' {
            out.push('+');
        } else {
            push_percent(&mut out, byte);
        }
    }
    out
}

fn push_percent(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[(byte >> 4) as usize] as char);
    out.push(HEX[(byte & 15) as usize] as char);
}

/// `posixpath.join(base, tail)` for a relative `tail`: the Python SDK's
/// `urljoin` (which is `posixpath.join`).
///
/// ```text
/// assert_eq!(join("https://api.example.com/v2", "alerts/1"), "https://api.example.com/v2/alerts/1");
/// assert_eq!(join("https://api.example.com/v2/", "alerts"), "https://api.example.com/v2/alerts");
/// assert_eq!(join("https://api.example.com", ""), "https://api.example.com/");
/// ```
pub fn join(base: &str, tail: &str) -> String {
    if tail.starts_with('/') {
        return tail.to_string();
    }
    if base.is_empty() || base.ends_with('/') {
        format!("{base}{tail}")
    } else {
        format!("{base}/{tail}")
    }
}

/// Python's `urllib.parse.urljoin(base, reference)` (RFC 3986
/// resolution): what a Python module's `urljoin(base_url, "account")`
/// requests. Unlike a join of paths, the base's last segment is replaced
/// unless the base ends with `/`.
///
/// ```
/// use sekoia_automation::vendor::urljoin;
/// assert_eq!(urljoin("https://h/api/v2", "account"), "https://h/api/account");
/// assert_eq!(urljoin("https://h/api/v2/", "account"), "https://h/api/v2/account");
/// assert_eq!(urljoin("https://h", "account"), "https://h/account");
/// assert_eq!(urljoin("https://h/a/b", "../up?q=1"), "https://h/up?q=1");
/// assert_eq!(urljoin("https://h/a/b", "/root"), "https://h/root");
/// assert_eq!(urljoin("https://h/a/b", "https://o/x"), "https://o/x");
/// ```
pub fn urljoin(base: &str, reference: &str) -> String {
    if reference.is_empty() {
        return base.to_string();
    }
    let scheme_end = reference.find(['/', '?', '#', ':']);
    if let Some(at) = scheme_end
        && reference.as_bytes()[at] == b':'
        && at > 0
        && reference[..at]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte))
    {
        return reference.to_string();
    }
    let (scheme, rest) = match base.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => return reference.to_string(),
    };
    if let Some(network) = reference.strip_prefix("//") {
        return format!("{scheme}://{network}");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    let (rest, _) = rest.split_once('#').unwrap_or((rest, ""));
    let (base_path, base_query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let (reference, fragment) = match reference.split_once('#') {
        Some((reference, fragment)) => (reference, Some(fragment)),
        None => (reference, None),
    };
    let (path, query) = match reference.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (reference, None),
    };
    let (path, query) = if path.is_empty() {
        (base_path.to_string(), query.or(base_query))
    } else if path.starts_with('/') {
        (remove_dot_segments(path), query)
    } else {
        let directory = match base_path.rfind('/') {
            Some(at) => &base_path[..=at],
            None => "/",
        };
        (remove_dot_segments(&format!("{directory}{path}")), query)
    };
    let mut url = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// The URL `requests` sends for `url` with an already encoded `query`
/// appended (`&` after an existing query): scheme and host lower-cased,
/// dot segments removed, characters not allowed in a path or query
/// percent-encoded, `%XX` of unreserved characters decoded, an empty path
/// made `/`, the fragment dropped (it is never sent).
///
/// ```text
/// assert_eq!(
///     prepare("HTTPS://API.Example.com/v1/./a b/../%7euser", Some("q=x+y")).unwrap(),
///     "https://api.example.com/v1/~user?q=x+y"
/// );
/// assert_eq!(prepare("http://h:8080?a=1#top", Some("b=2")).unwrap(), "http://h:8080/?a=1&b=2");
/// assert!(prepare("example.com/x", None).is_err());
/// ```
pub fn prepare(url: &str, query: Option<&str>) -> Result<String, String> {
    let url = url.trim_start();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("no scheme supplied: start it with https:// (or http://)".into());
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("the scheme `{scheme}` is not http or https"));
    }
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    let (rest, _fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, existing_query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (host, port) = split_port(host_port)?;
    if host.is_empty() {
        return Err("no host".into());
    }
    if !host.is_ascii() {
        return Err("the host is not ASCII: give its IDNA (xn--) form".into());
    }
    if host.starts_with(['*', '.']) {
        return Err("the host starts with `*` or `.`".into());
    }
    let mut out = String::with_capacity(url.len() + query.map_or(0, str::len) + 1);
    out.push_str(&scheme);
    out.push_str("://");
    if let Some(userinfo) = userinfo {
        out.push_str(&encode_invalid(userinfo, is_userinfo_char));
        out.push('@');
    }
    out.push_str(&host.to_ascii_lowercase());
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        encode_invalid(&remove_dot_segments(path), is_path_char)
    };
    out.push_str(&unquote_unreserved(&path));
    let existing = existing_query
        .filter(|query| !query.is_empty())
        .map(|query| encode_invalid(query, is_query_char));
    let query = match (existing, query.filter(|query| !query.is_empty())) {
        (Some(existing), Some(added)) => Some(format!("{existing}&{added}")),
        (Some(existing), None) => Some(existing),
        (None, Some(added)) => Some(added.to_string()),
        (None, None) => None,
    };
    if let Some(query) = query {
        out.push('?');
        out.push_str(&unquote_unreserved(&query));
    }
    Ok(out)
}

/// Whether `url` starts with a scheme and an authority (`https://…`). A
/// relative path whose query holds `://` (`search?url=http://x/`) does not.
///
/// ```text
/// assert!(has_scheme("HTTPS://api.example.com/x"));
/// assert!(!has_scheme("search?url=http://x/"));
/// assert!(!has_scheme("/a/b://c"));
/// ```
pub(crate) fn has_scheme(url: &str) -> bool {
    url.trim_start()
        .split_once("://")
        .is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte))
        })
}

/// Where a credential may go: the scheme, host and port of a URL (the
/// scheme's default port when none is written), as browsers compare origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// The origin of a URL [`prepare`]d (scheme and host lower-case);
    /// `None` for a URL that is not absolute.
    pub(crate) fn of(prepared: &str) -> Option<Origin> {
        let (scheme, rest) = prepared.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host_port)| host_port);
        let (host, port) = split_port(host_port).ok()?;
        let port = match port {
            Some(port) => port.parse().ok(),
            None => match scheme.as_str() {
                "http" => Some(80),
                "https" => Some(443),
                _ => None,
            },
        };
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// `urllib.parse.unquote_plus`: `+` is a space, `%XX` a byte (invalid
/// UTF-8 replaced).
pub(crate) fn unquote_plus(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' if is_percent_escape(bytes, at) => {
                out.push(
                    hex_value(bytes[at + 1]).unwrap_or(0) * 16
                        + hex_value(bytes[at + 2]).unwrap_or(0),
                );
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` without its query parameters named `name` (names compared
/// decoded, so `api%5Fkey` is `api_key`).
///
/// ```text
/// assert_eq!(without_query_param("http://h/x?key=1&a=2&key=3", "key"), "http://h/x?a=2");
/// assert_eq!(without_query_param("http://h/x?key=1", "key"), "http://h/x");
/// ```
pub(crate) fn without_query_param(url: &str, name: &str) -> String {
    let Some((start, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| unquote_plus(pair.split('=').next().unwrap_or("")) != name)
        .collect();
    if kept.is_empty() {
        start.to_string()
    } else {
        format!("{start}?{}", kept.join("&"))
    }
}

/// `url` without the query parameters named `name` whose value is `value`
/// (both compared decoded, however the URL encodes them).
///
/// ```text
/// assert_eq!(without_query_value("http://h/x?key=k%2By&key=other", "key", "k+y"), "http://h/x?key=other");
/// ```
pub(crate) fn without_query_value(url: &str, name: &str, value: &str) -> String {
    let Some((start, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (pair_name, pair_value) = pair.split_once('=').unwrap_or((pair, ""));
            unquote_plus(pair_name) != name || unquote_plus(pair_value) != value
        })
        .collect();
    if kept.is_empty() {
        start.to_string()
    } else {
        format!("{start}?{}", kept.join("&"))
    }
}

/// `url` with the query parameter `name` set to `encoded_value` (already
/// encoded), first: any other value of `name` is removed.
///
/// ```text
/// assert_eq!(with_query_param("http://h/x?a=2&key=old", "key", "k"), "http://h/x?key=k&a=2");
/// ```
pub(crate) fn with_query_param(url: &str, name: &str, encoded_value: &str) -> String {
    let url = without_query_param(url, name);
    let pair = format!("{}={encoded_value}", quote_plus(name));
    match url.split_once('?') {
        Some((start, query)) => format!("{start}?{pair}&{query}"),
        None => format!("{url}?{pair}"),
    }
}

fn split_port(host_port: &str) -> Result<(&str, Option<&str>), String> {
    // An IPv6 literal keeps its colons inside brackets.
    let colon = if host_port.starts_with('[') {
        host_port
            .find(']')
            .and_then(|end| host_port[end..].find(':').map(|at| end + at))
    } else {
        host_port.rfind(':')
    };
    match colon {
        None => Ok((host_port, None)),
        Some(at) => {
            let port = &host_port[at + 1..];
            if port.is_empty() {
                Ok((&host_port[..at], None))
            } else if port.bytes().all(|byte| byte.is_ascii_digit()) && port.parse::<u16>().is_ok()
            {
                Ok((&host_port[..at], Some(port)))
            } else {
                Err(format!("the port `{port}` is not a number from 0 to 65535"))
            }
        }
    }
}

fn is_userinfo_char(byte: u8) -> bool {
    always_safe(byte) || b"!$&'()*+,;=:".contains(&byte)
}

fn is_path_char(byte: u8) -> bool {
    is_userinfo_char(byte) || byte == b'@' || byte == b'/'
}

fn is_query_char(byte: u8) -> bool {
    is_path_char(byte) || byte == b'?'
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|digit| digit as u8)
}

fn is_percent_escape(bytes: &[u8], at: usize) -> bool {
    bytes.len() > at + 2 && hex_value(bytes[at + 1]).is_some() && hex_value(bytes[at + 2]).is_some()
}

/// urllib3's `_encode_invalid_chars`: existing escapes upper-cased and kept
/// when every `%` starts one, every other byte outside `allowed` encoded.
fn encode_invalid(component: &str, allowed: fn(u8) -> bool) -> String {
    let bytes = component.as_bytes();
    let percents = bytes.iter().filter(|&&byte| byte == b'%').count();
    let escapes = (0..bytes.len())
        .filter(|&at| bytes[at] == b'%' && is_percent_escape(bytes, at))
        .count();
    let keep_escapes = percents == escapes;
    let mut out = String::with_capacity(component.len());
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte == b'%' && is_percent_escape(bytes, at) {
            // Escapes are upper-cased first; kept only when every `%` is one.
            if keep_escapes {
                out.push('%');
            } else {
                out.push_str("%25");
            }
            out.push(bytes[at + 1].to_ascii_uppercase() as char);
            out.push(bytes[at + 2].to_ascii_uppercase() as char);
            at += 3;
            continue;
        }
        if byte < 128 && allowed(byte) {
            out.push(byte as char);
        } else {
            push_percent(&mut out, byte);
        }
        at += 1;
    }
    out
}

/// urllib3's `_remove_path_dot_segments`.
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                output.pop();
            }
            _ => output.push(segment),
        }
    }
    if path.starts_with('/') && output.first().is_none_or(|first| !first.is_empty()) {
        output.insert(0, "");
    }
    if path.ends_with("/.") || path.ends_with("/..") {
        output.push("");
    }
    output.join("/")
}

/// `requests.utils.unquote_unreserved`: `%XX` of letters, digits and `-._~` decoded.
fn unquote_unreserved(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' && is_percent_escape(bytes, at) {
            let value =
                hex_value(bytes[at + 1]).unwrap_or(0) * 16 + hex_value(bytes[at + 2]).unwrap_or(0);
            if always_safe(value) {
                out.push(value as char);
            } else {
                out.push_str(&text[at..at + 3]);
            }
            at += 3;
        } else {
            let character = text[at..].chars().next().unwrap_or('\u{fffd}');
            out.push(character);
            at += character.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urljoin_as_python() {
        // urllib.parse.urljoin of Python 3.12, one row per case.
        for (base, reference, joined) in [
            ("http://h/api/v2", "account", "http://h/api/account"),
            ("http://h/api/v2/", "account", "http://h/api/v2/account"),
            ("http://h", "account", "http://h/account"),
            ("http://h/a/b?x=1#f", "account", "http://h/a/account"),
            ("http://h/a/b", "/root", "http://h/root"),
            ("http://h/a/b", "../up", "http://h/up"),
            ("http://h/a/b", "./c", "http://h/a/c"),
            ("http://h/a/b", "https://o/x", "https://o/x"),
            ("http://h/a/b", "//o/x", "http://o/x"),
            ("http://h/a/b", "?q=1", "http://h/a/b?q=1"),
            ("http://h/a/b", "", "http://h/a/b"),
            ("http://h/a/b/", "..", "http://h/a/"),
            ("http://h/a/b", "#frag", "http://h/a/b#frag"),
            ("http://h:8080/a/b", "c/d", "http://h:8080/a/c/d"),
        ] {
            assert_eq!(urljoin(base, reference), joined, "{base} + {reference}");
        }
    }

    #[test]
    fn schemes_origins_and_query_parameters() {
        assert!(has_scheme("HTTPS://api.example.com/x"));
        assert!(has_scheme("http://127.0.0.1:9/"));
        assert!(!has_scheme("search?url=http://x/"));
        assert!(!has_scheme("/a/b://c"));
        assert!(!has_scheme("://x"));
        let origin = |url: &str| Origin::of(&prepare(url, None).unwrap()).unwrap();
        assert_eq!(origin("http://H:80/a"), origin("http://h/b?c"));
        assert_eq!(origin("https://u:p@h/a"), origin("https://h:443/"));
        assert_ne!(origin("http://h/"), origin("https://h/"));
        assert_ne!(origin("http://h:1/"), origin("http://h:2/"));
        assert_ne!(origin("http://h/"), origin("http://g/"));
        assert_eq!(
            without_query_param("http://h/x?key=1&a=2&api%5Fkey=3", "api_key"),
            "http://h/x?key=1&a=2"
        );
        assert_eq!(without_query_param("http://h/x?key=1", "key"), "http://h/x");
        assert_eq!(
            without_query_value("http://h/x?key=k%2By&a=1&key=other&key=k%2by", "key", "k+y"),
            "http://h/x?a=1&key=other"
        );
        assert_eq!(
            with_query_param("http://h/x?a=2&key=old", "key", "k%2B"),
            "http://h/x?key=k%2B&a=2"
        );
        assert_eq!(
            with_query_param("http://h/x", "k y", "v"),
            "http://h/x?k+y=v"
        );
    }

    #[test]
    fn matches_requests_prepare_url() {
        // Expected values printed by requests 2.34 / urllib3 2.7:
        // requests.Request("GET", url, params=...).prepare().url
        let cases = [
            (
                "http://127.0.0.1:9/a/{x}/b",
                None,
                "http://127.0.0.1:9/a/%7Bx%7D/b",
            ),
            ("http://h/a%2fb%zz", None, "http://h/a%252Fb%25zz"),
            ("http://h/a%2fb%41", None, "http://h/a%2FbA"),
            (
                "http://h/ü/\"q\"",
                Some("k=v"),
                "http://h/%C3%BC/%22q%22?k=v",
            ),
            ("http://h/../../x/./y/..", None, "http://h/x/"),
            ("http://h/p?x=a b&y=%7e", None, "http://h/p?x=a%20b&y=~"),
            ("http://user:pa ss@H/", None, "http://user:pa%20ss@h/"),
        ];
        for (url, query, expected) in cases {
            assert_eq!(prepare(url, query).unwrap(), expected, "{url}");
        }
    }
}
