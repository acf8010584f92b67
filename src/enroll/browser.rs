//! The browser's part over HTTP: a cookie jar, redirects followed by hand (so that every
//! `Set-Cookie` is seen), `Origin` and Fetch Metadata headers as a browser sends them, and the
//! pages read by their stable element IDs.

use std::collections::BTreeMap;
use std::time::Duration;

use std::sync::Arc;

use scraper::{ElementRef, Html, Selector};
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

/// Largest page or JSON answer read from a site.
const MAX_ANSWER: u64 = 1024 * 1024;
/// Redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// What went wrong talking to the site.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// The site could not be reached or the connection failed.
    #[error("cannot reach the site at {url}: {source}")]
    Http {
        /// The URL asked for.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The URL is not an http(s) URL with a host.
    #[error("not a usable URL: {0}")]
    BadUrl(String),
    /// The trusted CA file is not usable.
    #[error("cannot use the CA certificates: {0}")]
    BadCa(String),
    /// Too many redirects.
    #[error("too many redirects from {0}")]
    RedirectLoop(String),
    /// The site's JSON could not be read.
    #[error("the site's answer to {url} is not the JSON expected: {reason}")]
    BadJson {
        /// The URL asked for.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A fetched HTML page.
pub struct Page {
    /// Its URL (after redirects).
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The headers of the final answer (lower-case names).
    pub headers: BTreeMap<String, String>,
    doc: Html,
}

/// A form to submit: its action and the fields it already carries (hidden inputs, values).
#[derive(Debug, Clone)]
pub struct Form {
    /// Where it posts (absolute URL).
    pub action: String,
    /// name → value of every named input.
    pub fields: Vec<(String, String)>,
}

impl Form {
    /// Sets (or adds) the field `name`.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_string(),
            None => self.fields.push((name.to_string(), value.to_string())),
        }
    }
}

impl Page {
    /// Parses `html` fetched from `url`.
    pub fn parse(url: &str, status: u16, headers: BTreeMap<String, String>, html: &str) -> Self {
        Page {
            url: url.to_string(),
            status,
            headers,
            doc: Html::parse_document(html),
        }
    }

    fn element(&self, id: &str) -> Option<ElementRef<'_>> {
        self.doc
            .root_element()
            .descendants()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().id() == Some(id))
    }

    /// Whether an element with this ID is present (and not `hidden`, nor inside a hidden
    /// ancestor).
    pub fn has(&self, id: &str) -> bool {
        self.element(id).is_some_and(|e| {
            e.ancestors()
                .filter_map(ElementRef::wrap)
                .chain(std::iter::once(e))
                .all(|a| a.value().attr("hidden").is_none())
        })
    }

    /// The text of the element with this ID, whitespace-collapsed.
    pub fn text(&self, id: &str) -> Option<String> {
        self.element(id).map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// An attribute of the element with this ID.
    pub fn attr(&self, id: &str, name: &str) -> Option<String> {
        self.element(id)
            .and_then(|e| e.value().attr(name))
            .map(str::to_string)
    }

    /// The `content` of `<meta name=...>`.
    pub fn meta(&self, name: &str) -> Option<String> {
        let selector = Selector::parse("meta[name][content]").ok()?;
        self.doc
            .select(&selector)
            .find(|e| e.value().attr("name") == Some(name))
            .and_then(|e| e.value().attr("content"))
            .map(str::to_string)
    }

    /// The form that contains the element with this ID.
    pub fn form_of(&self, id: &str) -> Option<Form> {
        let form = self
            .element(id)?
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| a.value().name() == "form")?;
        let action = resolve(&self.url, form.value().attr("action").unwrap_or(""))?;
        let fields = form
            .descendants()
            .filter_map(ElementRef::wrap)
            .filter(|e| e.value().name() == "input")
            .filter_map(|e| {
                let name = e.value().attr("name")?;
                Some((
                    name.to_string(),
                    e.value().attr("value").unwrap_or("").to_string(),
                ))
            })
            .collect();
        Some(Form { action, fields })
    }
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// Resolves `link` (absolute, or absolute path) against the page `base`.
pub fn resolve(base: &str, link: &str) -> Option<String> {
    if link.starts_with("http://") || link.starts_with("https://") {
        return Some(link.to_string());
    }
    let origin = origin_of(base)?;
    if link.starts_with('/') && !link.starts_with("//") {
        return Some(format!("{origin}{link}"));
    }
    if link.is_empty() {
        return Some(base.to_string());
    }
    None
}

/// The HTTP client: no automatic redirects (every Set-Cookie is seen), statuses as answers,
/// TLS by rustls on aws-lc-rs.
fn agent(user_agent: &str, timeout: Duration, roots: RootCerts) -> ureq::Agent {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(user_agent)
        .tls_config(tls)
        .build()
        .into()
}

/// A browser session with one site: cookies, origin, user agent.
pub struct Browser {
    agent: ureq::Agent,
    origin: String,
    cookies: BTreeMap<String, String>,
}

/// An answer before it is parsed.
struct Answer {
    url: String,
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Browser {
    /// A new browser (no cookies) for the site at `origin`; https sites are checked against
    /// the public web PKI roots (Mozilla's list).
    pub fn new(origin: &str, user_agent: &str, timeout: Duration) -> Self {
        Browser {
            agent: agent(user_agent, timeout, RootCerts::WebPki),
            origin: origin.to_string(),
            cookies: BTreeMap::new(),
        }
    }

    /// A new browser that trusts only the certificate authorities in `ca_pem` for https.
    pub fn with_trusted_ca(
        origin: &str,
        user_agent: &str,
        timeout: Duration,
        ca_pem: &[u8],
    ) -> Result<Self, BrowserError> {
        let certs = ureq::tls::parse_pem(ca_pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BrowserError::BadCa(e.to_string()))?;
        if certs.is_empty() {
            return Err(BrowserError::BadCa("no certificate in the PEM file".into()));
        }
        Ok(Browser {
            agent: agent(user_agent, timeout, RootCerts::Specific(Arc::new(certs))),
            origin: origin.to_string(),
            cookies: BTreeMap::new(),
        })
    }

    /// Forgets every cookie (a new visit, as after closing the browser).
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// The site's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn keep_cookies(&mut self, response: &ureq::http::Response<ureq::Body>) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let expired = parts.any(|attr| {
                let attr = attr.trim().to_ascii_lowercase();
                attr == "max-age=0" || attr.starts_with("max-age=-")
            });
            if expired {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn request(
        &mut self,
        method: &str,
        url: &str,
        body: Option<(&str, String)>,
        extra: &[(&str, &str)],
    ) -> Result<Answer, BrowserError> {
        let http = |e: ureq::Error| BrowserError::Http {
            url: url.to_string(),
            source: Box::new(e),
        };
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("accept", "text/html,application/json");
        if let Some(cookie) = self.cookie_header() {
            builder = builder.header("cookie", cookie);
        }
        if method == "POST" {
            builder = builder
                .header("origin", self.origin.as_str())
                .header("sec-fetch-site", "same-origin");
        }
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        let mut response = match body {
            Some((content_type, body)) => {
                let request = builder
                    .header("content-type", content_type)
                    .body(body)
                    .map_err(|e| BrowserError::BadUrl(format!("{url}: {e}")))?;
                self.agent.run(request).map_err(http)?
            }
            None => {
                let request = builder
                    .body(())
                    .map_err(|e| BrowserError::BadUrl(format!("{url}: {e}")))?;
                self.agent.run(request).map_err(http)?
            }
        };
        self.keep_cookies(&response);
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(http)?;
        Ok(Answer {
            url: url.to_string(),
            status,
            headers,
            body,
        })
    }

    /// Follows redirects (303/302/301 → GET, as browsers do after a form post).
    fn follow(&mut self, mut answer: Answer) -> Result<Page, BrowserError> {
        for _ in 0..MAX_REDIRECTS {
            if !(300..400).contains(&answer.status) {
                return Ok(Page::parse(
                    &answer.url,
                    answer.status,
                    answer.headers,
                    &answer.body,
                ));
            }
            let location = answer.headers.get("location").cloned().unwrap_or_default();
            let next = resolve(&answer.url, &location)
                .ok_or_else(|| BrowserError::BadUrl(location.clone()))?;
            answer = self.request("GET", &next, None, &[])?;
        }
        Err(BrowserError::RedirectLoop(answer.url))
    }

    /// Opens `url` (GET).
    pub fn open(&mut self, url: &str) -> Result<Page, BrowserError> {
        let answer = self.request("GET", url, None, &[])?;
        self.follow(answer)
    }

    /// Submits `form` (POST, url-encoded) and follows the redirect.
    pub fn submit(&mut self, form: &Form) -> Result<Page, BrowserError> {
        let body = serde_urlencoded::to_string(&form.fields)
            .map_err(|e| BrowserError::BadUrl(e.to_string()))?;
        let answer = self.request(
            "POST",
            &form.action,
            Some(("application/x-www-form-urlencoded", body)),
            &[],
        )?;
        self.follow(answer)
    }

    /// POSTs JSON as the page's script does (with its CSRF header); returns status and JSON.
    pub fn post_json(
        &mut self,
        path: &str,
        csrf: &str,
        value: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), BrowserError> {
        let url = resolve(&format!("{}/", self.origin), path)
            .ok_or_else(|| BrowserError::BadUrl(path.to_string()))?;
        let answer = self.request(
            "POST",
            &url,
            Some(("application/json", value.to_string())),
            &[("x-csrf-token", csrf)],
        )?;
        let json = if answer.body.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&answer.body).map_err(|e| BrowserError::BadJson {
                url: url.clone(),
                reason: e.to_string(),
            })?
        };
        Ok((answer.status, json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_read_by_id() {
        let html = r#"<html><head><meta name="csrf-token" content="abc"></head><body>
            <form method="post" action="/signin"><input type="hidden" name="csrf" value="t">
            <input id="username" name="username" value="999999-jpa"><button id="signin">SignIn</button></form>
            <section hidden><p id="error">  Security   Key Error </p></section></body></html>"#;
        let page = Page::parse("http://localhost:8080/signin", 200, BTreeMap::new(), html);
        assert_eq!(page.meta("csrf-token").as_deref(), Some("abc"));
        assert_eq!(
            page.attr("username", "value").as_deref(),
            Some("999999-jpa")
        );
        assert_eq!(page.text("error").as_deref(), Some("Security Key Error"));
        assert!(page.has("signin"));
        assert!(!page.has("error"), "hidden by its section");
        let form = page.form_of("signin").unwrap_or_else(|| Form {
            action: String::new(),
            fields: vec![],
        });
        assert_eq!(form.action, "http://localhost:8080/signin");
        assert_eq!(
            form.fields,
            vec![
                ("csrf".into(), "t".into()),
                ("username".into(), "999999-jpa".into())
            ]
        );
    }

    #[test]
    fn urls_resolve_only_to_the_same_kind_of_place() {
        assert_eq!(
            origin_of("http://localhost:8080/r/abc").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(origin_of("ftp://x/"), None);
        assert_eq!(origin_of("http://user@evil/"), None);
        assert_eq!(
            resolve("http://localhost:1/a/b", "/c").as_deref(),
            Some("http://localhost:1/c")
        );
        assert_eq!(resolve("http://localhost:1/a", "//evil/x"), None);
        assert_eq!(resolve("http://localhost:1/a", "relative"), None);
    }
}
