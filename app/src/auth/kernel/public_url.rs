//! Where a redirect may lead. The operator's public URL is the one origin every redirect
//! and every same-site check is measured against; the request's `Host` header, which
//! the client chooses, never is.

use url::Url;

/// Where a person goes when the place they asked for is refused.
pub const FALLBACK: &str = crate::shared::paths::SETTINGS;
/// No page of ours has a longer path and query; longer input is refused unread.
const MAX_TARGET: usize = 512;

/// The URL people reach Gatehouse at, validated at start: `http` or `https`, a host, and
/// nothing after it but `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(Url);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    #[error("--public-url {0:?} is not a URL: {1}")]
    Unparseable(String, url::ParseError),
    #[error("--public-url {0:?} must start with http:// or https://")]
    Scheme(String),
    #[error("--public-url {0:?} must be an origin only, without a path, query or fragment")]
    NotAnOrigin(String),
}

impl PublicUrl {
    pub fn parse(input: &str) -> Result<Self, PublicUrlError> {
        let url =
            Url::parse(input).map_err(|e| PublicUrlError::Unparseable(input.to_owned(), e))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(PublicUrlError::Scheme(input.to_owned()));
        }
        if url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(PublicUrlError::NotAnOrigin(input.to_owned()));
        }
        Ok(PublicUrl(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Whether an `Origin` header names this site.
    pub fn is_origin(&self, origin: &str) -> bool {
        Url::parse(origin).is_ok_and(|o| o.origin() == self.0.origin())
    }

    /// The path and query a `next` parameter may send a person to, or [`FALLBACK`].
    pub fn next_target(&self, candidate: Option<&str>) -> String {
        candidate
            .filter(|c| c.len() <= MAX_TARGET)
            .and_then(|c| self.same_site_path(c))
            .unwrap_or_else(|| FALLBACK.to_owned())
    }

    /// A `Location` about to be sent, as a path on this site, or [`FALLBACK`]. Unlike
    /// `next`, its length is ours: it may carry an encoded `next` of its own.
    pub fn location(&self, location: &str) -> String {
        self.same_site_path(location)
            .unwrap_or_else(|| FALLBACK.to_owned())
    }

    fn same_site_path(&self, candidate: &str) -> Option<String> {
        if candidate.is_empty() {
            return None;
        }
        // Browsers drop tabs and newlines and read `\` as `/` while parsing a Location,
        // so both are refused outright, as typed and as percent-encoded.
        let decoded = percent_decode(candidate);
        let hostile = |b: &u8| b.is_ascii_control() || *b == b'\\';
        if candidate.bytes().any(|b| hostile(&b)) || decoded.iter().any(hostile) {
            return None;
        }
        let resolved = self.0.join(candidate).ok()?;
        if resolved.origin() != self.0.origin() {
            return None;
        }
        let mut target = resolved.path().to_owned();
        if let Some(query) = resolved.query() {
            target.push('?');
            target.push_str(query);
        }
        // A path like `/.//evil.example` resolves to `//evil.example`, which a browser
        // would read as another host.
        if target.starts_with("//") {
            return None;
        }
        Some(target)
    }
}

/// `%XX` sequences as the bytes they stand for; anything else as it is.
fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> PublicUrl {
        PublicUrl::parse("http://127.0.0.1:3000").unwrap()
    }

    #[test]
    fn a_path_on_this_site_is_kept_with_its_query() {
        assert_eq!(
            local().next_target(Some("/settings/two-factor?x=1")),
            "/settings/two-factor?x=1"
        );
        assert_eq!(
            local().next_target(Some("http://127.0.0.1:3000/settings")),
            "/settings"
        );
    }

    #[test]
    fn anything_that_could_leave_the_site_falls_back_to_settings() {
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "https://evil.example",
            "/ok\n",
            "\\\\evil",
            "/%5cevil",
            "/%5Cevil",
            "%0a",
            "/%0d/x",
            "\t/settings",
            "/\t/evil.example",
            "http://127.0.0.1:3001/settings",
            "https://127.0.0.1:3000/settings",
            "/.//evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(local().next_target(Some(hostile)), FALLBACK, "{hostile:?}");
        }
        assert_eq!(local().next_target(None), FALLBACK);
        let long = format!("/settings?{}", "a".repeat(MAX_TARGET));
        assert_eq!(local().next_target(Some(&long)), FALLBACK);
    }

    #[test]
    fn a_location_keeps_its_path_only_on_this_site() {
        let long_next = format!("/signin/code?next=%2F{}", "a".repeat(2 * MAX_TARGET));
        assert_eq!(local().location(&long_next), long_next);
        assert_eq!(
            local().location("http://127.0.0.1:3000/signin?x=1"),
            "/signin?x=1"
        );
        assert_eq!(local().location("http://evil.example/signin"), FALLBACK);
    }

    #[test]
    fn the_public_url_must_be_an_http_origin() {
        assert!(PublicUrl::parse("https://accounts.example.com").is_ok());
        assert!(PublicUrl::parse("https://accounts.example.com/").is_ok());
        for bad in [
            "accounts.example.com",
            "ftp://accounts.example.com",
            "https://accounts.example.com/login",
            "https://accounts.example.com/?x=1",
            "https://user@accounts.example.com",
        ] {
            let err = PublicUrl::parse(bad).unwrap_err();
            assert!(err.to_string().contains("--public-url"), "{bad}: {err}");
        }
    }

    #[test]
    fn only_the_public_origin_is_same_site() {
        let public = PublicUrl::parse("https://accounts.example.com").unwrap();
        assert!(public.is_origin("https://accounts.example.com"));
        assert!(!public.is_origin("http://accounts.example.com"));
        assert!(!public.is_origin("https://accounts.example.com.evil.example"));
        assert!(!public.is_origin("null"));
    }
}
