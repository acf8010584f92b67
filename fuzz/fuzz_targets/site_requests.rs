//! The enrollment site's router (`ctapkit::site::router`) on arbitrary request bodies: the
//! first byte picks a POST route, the rest is the body, sent with a signed-in session's cookie
//! and CSRF token (so that form and JSON parsing and the handlers behind them are reached).
//! No input may make the site answer 500 or panic.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use ctapkit::enrollment::store::NewApplicant;
use ctapkit::enrollment::{now, SqliteStore, Store};
use ctapkit::site::{router, SiteConfig, SitePolicy};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    cookie: String,
    csrf: String,
    token: String,
}

const ROUTES: [(&str, bool); 9] = [
    ("/r/TOKEN", false),
    ("/signin", false),
    ("/label", false),
    ("/webauthn/register/options", true),
    ("/webauthn/register/finish", true),
    ("/webauthn/authenticate/options", true),
    ("/webauthn/authenticate/finish", true),
    ("/webauthn/client-error", true),
    ("/nowhere", false),
];

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Vec<String>, String) {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .collect();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap_or_default();
    (status, cookies, String::from_utf8_lossy(&body).into_owned())
}

fn field(html: &str, marker: &str) -> String {
    html.split(marker).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let store = Arc::new(SqliteStore::in_memory().expect("store"));
        let (_, token) = store
            .add_applicant(
                &NewApplicant { registry_number: "999999".into(), name: "N".into(), birth_date: "1990-03-17".into() },
                Duration::from_secs(86_400),
                now(),
            )
            .expect("applicant");
        // No held password answers here: they would only slow the fuzzer down.
        let config = SiteConfig {
            password_answer_time: Duration::ZERO,
            ..SiteConfig::localhost(8080, SitePolicy::jpa_hpki())
        };
        let app = router(config, store);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (cookie, csrf) = runtime.block_on(async {
            let get = |uri: String, cookie: &str| {
                Request::get(uri).header(header::COOKIE, cookie.to_string()).body(Body::empty()).expect("request")
            };
            let (_, cookies, html) = send(&app, get(format!("/r/{token}"), "")).await;
            let csrf = field(&html, "name=\"csrf\" value=\"");
            let form = format!("password=19900317&csrf={csrf}");
            let post = Request::post(format!("/r/{token}"))
                .header(header::COOKIE, cookies.join("; "))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .expect("request");
            let (_, cookies, _) = send(&app, post).await;
            let cookie = cookies.join("; ");
            let (_, _, html) = send(&app, get("/signin".into(), &cookie)).await;
            let csrf = field(&html, "name=\"csrf\" value=\"");
            let post = Request::post("/signin")
                .header(header::COOKIE, cookie.clone())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("username=999999-jpa&csrf={csrf}")))
                .expect("request");
            send(&app, post).await;
            (cookie, csrf)
        });
        assert!(!csrf.is_empty(), "the harness signed in");
        Harness { runtime, app, cookie, csrf, token }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let h = harness();
    let (route, json) = ROUTES[usize::from(pick) % ROUTES.len()];
    let uri = route.replace("TOKEN", &h.token);
    let mut req = Request::post(uri).header(header::COOKIE, h.cookie.clone());
    req = if json {
        req.header(header::CONTENT_TYPE, "application/json").header("x-csrf-token", h.csrf.clone())
    } else {
        req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
    };
    // Form bodies keep the CSRF token in front so that the handler goes past the check.
    let body = if json {
        body.to_vec()
    } else {
        let mut b = format!("csrf={}&", h.csrf).into_bytes();
        b.extend_from_slice(body);
        b
    };
    let req = req.body(Body::from(body)).expect("request");
    let (status, _, _) = h.runtime.block_on(send(&h.app, req));
    assert!(!status.is_server_error(), "{route} answered {status}");
});
