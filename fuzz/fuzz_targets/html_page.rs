//! `ctapkit::enroll::browser::Page` (what `ctapkit enroll` reads of a site's pages) on
//! arbitrary HTML: parsing and every accessor must not panic, whatever the markup.
#![no_main]

use std::collections::BTreeMap;

use ctapkit::enroll::browser::{resolve, Page};
use libfuzzer_sys::fuzz_target;

const IDS: [&str; 12] = [
    "password", "password-submit", "username", "signin", "register", "sign-in", "label",
    "label-ok", "complete", "error", "", "x\"]",
];

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let page = Page::parse("http://localhost:8080/r/abc", 200, BTreeMap::new(), &html);
    for id in IDS {
        let _ = page.has(id);
        let _ = page.text(id);
        let _ = page.attr(id, "value");
        let _ = page.attr(id, "data-options");
        if let Some(form) = page.form_of(id) {
            assert!(form.action.starts_with("http://") || form.action.starts_with("https://"));
        }
    }
    let _ = page.meta("csrf-token");
    // Links a page may carry resolve to absolute URLs or to nothing.
    if let Some(url) = resolve("http://localhost:8080/r/abc", &html) {
        assert!(url.starts_with("http://") || url.starts_with("https://"));
    }
});
