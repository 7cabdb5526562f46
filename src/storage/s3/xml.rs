//! The few values read from S3's XML answers (error codes, listings,
//! multipart upload ids), without an XML crate: S3's answers are flat and
//! the elements read here hold text only.

/// The text of every `<name>…</name>` element, unescaped, in order.
pub(crate) fn elements<'a>(xml: &'a str, name: &'a str) -> impl Iterator<Item = String> + 'a {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let end = rest[start..].find(&close)? + start;
        let text = unescape(&rest[start..end]);
        rest = &rest[end + close.len()..];
        Some(text)
    })
}

/// The text of the first `<name>` element.
pub(crate) fn element(xml: &str, name: &str) -> Option<String> {
    elements(xml, name).next()
}

/// The five predefined entities and numeric character references.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for an XML element (the multipart completion body).
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_in_order_and_unescaped() {
        let xml = "<R><Contents><Key>a&amp;b</Key></Contents><Contents><Key>&#x1F600;&lt;&#233;</Key></Contents><IsTruncated>false</IsTruncated></R>";
        assert_eq!(elements(xml, "Key").collect::<Vec<_>>(), ["a&b", "😀<é"]);
        assert_eq!(element(xml, "IsTruncated").as_deref(), Some("false"));
        assert_eq!(element(xml, "Missing"), None);
    }

    #[test]
    fn a_stray_ampersand_is_kept() {
        assert_eq!(unescape("a & b &bogus; c"), "a & b &bogus; c");
        assert_eq!(escape("\"<a&b>\""), "&quot;&lt;a&amp;b&gt;&quot;");
    }
}
