//! [`Pages`]: the pages of a listing, by next link or by cursor.

use super::client::{VendorClient, VendorRequest};
use super::error::VendorError;
use super::json::Json;

/// Where a listing says how to get its next page.
///
/// ```
/// use sekoia_automation::vendor::Pagination;
/// // {"data": [...], "links": {"next": "https://api.example.com/alerts?page=2"}}
/// let by_link = Pagination::next_link("/links/next");
/// // {"items": [...], "next_cursor": "abc"} → ?cursor=abc
/// let by_cursor = Pagination::cursor("/next_cursor", "cursor");
/// // Link: <https://api.example.com/alerts?page=2>; rel="next"
/// let by_header = Pagination::link_header();
/// # let _ = (by_link, by_cursor, by_header);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pagination {
    /// The next page's URL (absolute, or relative to the page's URL) at a
    /// JSON pointer of the answer; the listing ends when it is missing,
    /// `null` or empty. A next page on another origin than the first is
    /// fetched without the credentials.
    #[non_exhaustive]
    NextLink {
        /// The JSON pointer (`/links/next`).
        pointer: String,
    },
    /// The next page's URL in the `Link` header, `rel="next"` (RFC 8288).
    LinkHeader,
    /// A cursor at a JSON pointer of the answer, sent back as a query
    /// parameter; the listing ends when it is missing, `null` or empty.
    #[non_exhaustive]
    Cursor {
        /// The JSON pointer (`/meta/next_cursor`).
        pointer: String,
        /// The query parameter that carries it (`cursor`).
        parameter: String,
    },
}

impl Pagination {
    /// By a next link at `pointer`.
    pub fn next_link(pointer: impl Into<String>) -> Self {
        Pagination::NextLink {
            pointer: pointer.into(),
        }
    }

    /// By the `Link` header.
    pub fn link_header() -> Self {
        Pagination::LinkHeader
    }

    /// By a cursor at `pointer`, sent back as the query parameter `parameter`.
    pub fn cursor(pointer: impl Into<String>, parameter: impl Into<String>) -> Self {
        Pagination::Cursor {
            pointer: pointer.into(),
            parameter: parameter.into(),
        }
    }
}

/// The default bound of [`Pages`].
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// An iterator over the pages of a listing, each the answer's [`Json`]
/// (numbers exact). Each page is one request with the client's retries and
/// rate limits; the iteration ends after the last page, at the first error,
/// or with [`VendorError::TooManyPages`] after
/// [`max_pages`](Pages::max_pages) pages.
///
/// ```no_run
/// use sekoia_automation::vendor::{Pagination, VendorClient};
///
/// let client = VendorClient::builder().base_url("https://api.example.com/v2").build()?;
/// let mut ids = Vec::new();
/// for page in client.get("alerts").query("limit", "100").pages(Pagination::cursor("/next", "cursor")) {
///     for alert in page?["items"].as_array().unwrap_or_default() {
///         ids.push(alert["id"].to_string());
///     }
/// }
/// # Ok::<(), sekoia_automation::vendor::VendorError>(())
/// ```
#[derive(Debug)]
#[must_use = "pages are fetched when iterated"]
pub struct Pages {
    next: Option<VendorRequest>,
    pagination: Pagination,
    fetched: usize,
    max_pages: usize,
}

impl VendorRequest {
    /// The pages of the listing this request starts.
    pub fn pages(self, pagination: Pagination) -> Pages {
        Pages {
            next: Some(self),
            pagination,
            fetched: 0,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }
}

impl Pages {
    /// Sets the most pages fetched (default 10,000).
    pub fn max_pages(mut self, max_pages: usize) -> Self {
        self.max_pages = max_pages;
        self
    }
}

fn non_empty(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::Null => None,
        Json::String(text) if text.is_empty() => None,
        other => Some(other.to_python_str()),
    }
}

/// The `rel="next"` target of a `Link` header.
fn link_next(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|param| {
                let param = param.trim().replace(' ', "");
                param.eq_ignore_ascii_case("rel=\"next\"") || param.eq_ignore_ascii_case("rel=next")
            })
            .then(|| target.to_string())
    })
}

/// A next link made absolute against the page's URL (RFC 3986, as
/// `urllib.parse.urljoin`): a path whose query holds `://` is a path.
fn absolute(link: String, page_url: &str) -> String {
    super::url::urljoin(page_url, &link)
}

impl Iterator for Pages {
    type Item = Result<Json, VendorError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut request = self.next.take()?;
        if self.fetched >= self.max_pages {
            let url = request
                .full_url()
                .map(|url| request.client().scrub(&url))
                .unwrap_or_default();
            return Some(Err(VendorError::TooManyPages {
                url,
                pages: self.max_pages,
            }));
        }
        self.fetched += 1;
        let response = match request.clone().send() {
            Ok(response) => response,
            Err(error) => return Some(Err(error)),
        };
        let page = match response.exact_json() {
            Ok(page) => page,
            Err(error) => return Some(Err(error)),
        };
        let next = match &self.pagination {
            Pagination::NextLink { pointer } => non_empty(page.pointer(pointer))
                .map(|link| absolute(link, response.url()))
                .map(|link| {
                    request.set_url(link);
                    request
                }),
            Pagination::LinkHeader => response
                .header("Link")
                .and_then(link_next)
                .map(|link| absolute(link, response.url()))
                .map(|link| {
                    request.set_url(link);
                    request
                }),
            Pagination::Cursor { pointer, parameter } => {
                non_empty(page.pointer(pointer)).map(|cursor| {
                    request.set_query(parameter, &cursor);
                    request
                })
            }
        };
        self.next = next;
        Some(Ok(page))
    }
}

impl VendorClient {
    /// The pages of a `GET url` listing (shorthand for
    /// `client.get(url).pages(pagination)`).
    pub fn pages(&self, url: impl Into<String>, pagination: Pagination) -> Pages {
        self.get(url).pages(pagination)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_and_relative_links() {
        assert_eq!(
            link_next(r#"<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next""#)
                .as_deref(),
            Some("https://a/x?page=3")
        );
        assert_eq!(link_next(r#"<https://a/x>; rel="last""#), None);
        assert_eq!(
            absolute("/v2/x?p=2".into(), "http://h:1/v2/x?p=1"),
            "http://h:1/v2/x?p=2"
        );
        assert_eq!(
            absolute("x?p=2".into(), "http://h:1/v2/x?p=1"),
            "http://h:1/v2/x?p=2"
        );
        assert_eq!(
            absolute("https://o/y".into(), "http://h:1/v2/x"),
            "https://o/y"
        );
        assert_eq!(
            absolute("search?url=http://x/".into(), "http://h:1/v2/x?p=1"),
            "http://h:1/v2/search?url=http://x/"
        );
        assert_eq!(
            absolute("//o:2/z".into(), "https://h:1/v2/x"),
            "https://o:2/z"
        );
    }
}
