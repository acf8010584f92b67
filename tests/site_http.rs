//! The enrollment site's security rules as tested properties, over real HTTP against the real
//! site (`LocalSite`: axum on 127.0.0.1, a real SQLite file): security headers, refusals that
//! cannot be told apart, the 5-attempt lockout under concurrency, CSRF and origin checks, body
//! limits and junk bodies, single-use session-bound expiring challenges, the order of the
//! flow, certificate revocation, and the WebAuthn policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Barrier};
use std::time::Duration;

use ctapkit::authenticator::{Authenticator, Fault};
use ctapkit::ctap2::client::{Ctap2, PinUvAuthToken};
use ctapkit::ctap2::client_pin::permission;
use ctapkit::enroll::browser::{Browser, Page};
use ctapkit::enroll::{
    emulated, enroll, DeviceUnderTest, EnrollOptions, LocalApplicant, LocalSite,
};
use ctapkit::enrollment::store::new_token;
use ctapkit::enrollment::{now, Store, UrlInvalidReason};
use ctapkit::platform::{self, AuthenticatorCapabilities, CreateOptions, GetOptions};
use ctapkit::site::server::MAX_BODY;
use ctapkit::site::SitePolicy;
use ctapkit::transport::loopback::ChannelReports;
use ctapkit::transport::CtapHid;
use ctapkit::webauthn::{AuthenticationResponseJson, Base64Url, RegistrationResponseJson};
use serde_json::{json, Value};

type Device = DeviceUnderTest<CtapHid<ChannelReports>>;

const TIMEOUT: Duration = Duration::from_secs(20);
const USER_AGENT: &str = "ctapkit site_http test";
const BIRTH_DATE: &str = "1990-03-17";
const DAY: Duration = Duration::from_secs(86_400);
const EVIL: &str = "https://evil.example";

// ---- the site and its applicants -----------------------------------------------------------

fn site(policy: SitePolicy) -> LocalSite {
    LocalSite::start(policy, 0).unwrap()
}

fn applicant(local: &LocalSite, registry_number: &str) -> LocalApplicant {
    local
        .add_applicant(registry_number, "薬剤 太郎", BIRTH_DATE, DAY)
        .unwrap()
}

fn applicant_id(local: &LocalSite, registry_number: &str) -> i64 {
    local.store.applicant(registry_number).unwrap().id
}

fn credential_count(local: &LocalSite, registry_number: &str) -> usize {
    local
        .store
        .credentials(applicant_id(local, registry_number))
        .unwrap()
        .len()
}

fn audit_count(local: &LocalSite, action: &str) -> usize {
    local
        .store
        .audit_trail()
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

fn browser(local: &LocalSite) -> Browser {
    Browser::new(local.site.base_url(), USER_AGENT, TIMEOUT)
}

fn url(local: &LocalSite, path: &str) -> String {
    format!("{}{path}", local.site.base_url())
}

/// The `#error[data-code]` of a page.
fn page_code(page: &Page) -> Option<String> {
    page.attr("error", "data-code")
}

/// The `error` code of a JSON answer.
fn json_code(answer: &Value) -> &str {
    answer["error"].as_str().unwrap_or("")
}

/// The session's CSRF token, as its forms carry it.
fn form_csrf(page: &Page, button: &str) -> String {
    let form = page
        .form_of(button)
        .unwrap_or_else(|| panic!("no form with #{button} on {}", page.url));
    form.fields
        .iter()
        .find(|(n, _)| n == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap()
}

/// Password and SignIn, as the applicant does: the browser at step 5, and the session's CSRF
/// token (taken from the SignIn form, so that it is there even when step 5 is an error page).
fn to_step5(local: &LocalSite, who: &LocalApplicant) -> (Browser, Page, String) {
    let mut b = browser(local);
    let page = b.open(&who.url).unwrap();
    let mut form = page.form_of("password-submit").unwrap();
    form.set("password", &who.password);
    let page = b.submit(&form).unwrap();
    assert!(
        page.has("signin"),
        "password refused: {:?}",
        page_code(&page)
    );
    let csrf = form_csrf(&page, "signin");
    let page = b.submit(&page.form_of("signin").unwrap()).unwrap();
    (b, page, csrf)
}

// ---- the WebAuthn client's part, by hand ---------------------------------------------------

fn phone(profile: &str) -> Device {
    emulated(Authenticator::with_profile_name(profile).unwrap()).unwrap()
}

/// What the tests' client assumes of the authenticator: it verifies users, and discoverable
/// credentials are not asked for ("preferred" stays non-resident).
const CAPS: AuthenticatorCapabilities = AuthenticatorCapabilities {
    resident_keys: false,
    user_verification: true,
};

fn creation_options(json: &Value, origin: &str) -> CreateOptions {
    CreateOptions::from_json(json, origin, CAPS).unwrap()
}

fn request_options(json: &Value, origin: &str) -> GetOptions {
    GetOptions::from_json(json, origin, CAPS).unwrap()
}

/// A PIN token for a security key (the PIN set first when it has none), as a browser asks.
fn pin_token(ctap: &mut Ctap2<CtapHid<ChannelReports>>, pin: &str) -> PinUvAuthToken {
    let info = ctap.get_info().unwrap();
    let protocol = info.preferred_pin_protocol();
    if info.option("clientPin") == Some(false) {
        ctap.set_pin(protocol, pin).unwrap();
    }
    ctap.pin_token(
        protocol,
        pin,
        permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
        Some("localhost"),
        true,
    )
    .unwrap()
}

/// `POST /webauthn/register/options`, which must succeed.
fn register_options(b: &mut Browser, csrf: &str) -> Value {
    let (status, options) = b
        .post_json("/webauthn/register/options", csrf, &json!({}))
        .unwrap();
    assert_eq!(status, 200, "register/options: {options}");
    options
}

/// `POST /webauthn/authenticate/options`, which must succeed.
fn sign_in_options(b: &mut Browser, csrf: &str) -> Value {
    let (status, options) = b
        .post_json("/webauthn/authenticate/options", csrf, &json!({}))
        .unwrap();
    assert_eq!(status, 200, "authenticate/options: {options}");
    options
}

/// navigator.credentials.create on `device` for the site's `options`, as a phone browser
/// reports it (attachment "platform").
fn create(
    device: &mut Device,
    origin: &str,
    options: &Value,
    token: Option<&PinUvAuthToken>,
) -> RegistrationResponseJson {
    let mut response = platform::create(
        &mut device.ctap,
        origin,
        &creation_options(options, origin),
        token,
    )
    .unwrap();
    response.authenticator_attachment = Some("platform".into());
    response.response.transports = vec!["internal".into()];
    response
}

/// navigator.credentials.get on `device` for the site's `options`.
fn get(
    device: &mut Device,
    origin: &str,
    options: &Value,
    token: Option<&PinUvAuthToken>,
) -> AuthenticationResponseJson {
    let mut response = platform::get(
        &mut device.ctap,
        origin,
        &request_options(options, origin),
        token,
    )
    .unwrap();
    response.authenticator_attachment = Some("platform".into());
    response
}

fn post(b: &mut Browser, path: &str, csrf: &str, body: &impl serde::Serialize) -> (u16, Value) {
    b.post_json(path, csrf, &serde_json::to_value(body).unwrap())
        .unwrap()
}

/// Registers `device` from step 5 through the label to 処理が完了しました.
fn register_and_label(device: &mut Device, b: &mut Browser, csrf: &str) {
    let options = register_options(b, csrf);
    let origin = b.origin().to_string();
    let response = create(device, &origin, &options, None);
    let (status, answer) = post(b, "/webauthn/register/finish", csrf, &response);
    assert_eq!(status, 200, "register/finish: {answer}");
    let page = b.open(&url_of(b, "/label")).unwrap();
    let done = b.submit(&page.form_of("label-ok").unwrap()).unwrap();
    assert_eq!(
        done.attr("complete", "data-outcome").as_deref(),
        Some("registered")
    );
}

fn url_of(b: &Browser, path: &str) -> String {
    format!("{}{path}", b.origin())
}

/// The whole enrolment of `who` with `device`, by the library's runner.
fn enroll_with(
    who: &LocalApplicant,
    device: &mut Device,
    pin: Option<&str>,
    second_scan: bool,
) -> ctapkit::enroll::Report {
    let options = EnrollOptions {
        device_name: "emulator".into(),
        registration_url: who.url.clone(),
        password: who.password.clone(),
        registry_number: Some(who.registry_number.clone()),
        wrong_passwords: 0,
        second_scan,
        pin: pin.map(str::to_string),
        policy: None,
        http_timeout: TIMEOUT,
        trusted_ca_pem: None,
    };
    enroll(device, &options, None, &mut |_| {})
}

// ---- raw HTTP, for what a browser would not send -------------------------------------------

struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The session cookie this answer sets.
    fn session_cookie(&self) -> Option<String> {
        let set = self.header("set-cookie")?;
        let pair = set.split(';').next()?;
        let (name, value) = pair.trim().split_once('=')?;
        (name == "ctapkit_session").then(|| value.to_string())
    }

    /// The CSRF token of the page's form or `<meta>`.
    fn csrf(&self) -> String {
        between(&self.body, "name=\"csrf\" value=\"", "\"")
            .or_else(|| between(&self.body, "name=\"csrf-token\" content=\"", "\""))
            .unwrap_or_else(|| panic!("no CSRF token in {}", self.body))
    }

    /// The page's `#error[data-code]`.
    fn page_code(&self) -> Option<String> {
        let at = self.body.find("id=\"error\"")?;
        between(&self.body[at..], "data-code=\"", "\"")
    }

    fn json_code(&self) -> String {
        let v: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body));
        json_code(&v).to_string()
    }
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(text[from..from + len].to_string())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// One request exactly as given (no cookie jar, no Origin unless in `headers`).
fn raw(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Raw {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut response = match body {
        Some(body) => agent.run(builder.body(body).unwrap()),
        None => agent.run(builder.body(()).unwrap()),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_vec().unwrap();
    Raw {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A raw session past the password (its cookie is new: no fixation).
fn raw_password_accepted(a: &ureq::Agent, local: &LocalSite, who: &LocalApplicant) -> RawSession {
    let s = raw_session(a, &who.url);
    let accepted = raw_form(
        a,
        local,
        &who.url,
        &s.cookie,
        form_body(&[("password", &who.password), ("csrf", &s.csrf)]),
    );
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let cookie = format!("ctapkit_session={}", accepted.session_cookie().unwrap());
    let page = raw(
        a,
        "GET",
        &url(local, "/signin"),
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(page.status, 200);
    RawSession {
        cookie,
        csrf: page.csrf(),
    }
}

/// A raw session at step 5 (password and SignIn passed).
fn raw_signed_in(a: &ureq::Agent, local: &LocalSite, who: &LocalApplicant) -> RawSession {
    let s = raw_password_accepted(a, local, who);
    let username = format!("{}-jpa", who.registry_number);
    let signed_in = raw_form(
        a,
        local,
        &url(local, "/signin"),
        &s.cookie,
        form_body(&[("username", &username), ("csrf", &s.csrf)]),
    );
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.header("location"), Some("/step5"));
    s
}

/// A raw session: its cookie and CSRF token, from a visit to `page_url`.
struct RawSession {
    cookie: String,
    csrf: String,
}

fn raw_session(agent: &ureq::Agent, page_url: &str) -> RawSession {
    let page = raw(agent, "GET", page_url, &[], None);
    assert_eq!(page.status, 200);
    RawSession {
        cookie: format!("ctapkit_session={}", page.session_cookie().unwrap()),
        csrf: page.csrf(),
    }
}

fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(fields).unwrap().into_bytes()
}

/// A form post from the site's own page (Origin and Fetch Metadata as a browser sends them).
fn raw_form(agent: &ureq::Agent, local: &LocalSite, url: &str, cookie: &str, body: Vec<u8>) -> Raw {
    raw(
        agent,
        "POST",
        url,
        &[
            ("cookie", cookie),
            ("origin", local.site.base_url()),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Some(body),
    )
}

/// A JSON post from the site's own page.
fn raw_json(
    agent: &ureq::Agent,
    local: &LocalSite,
    path: &str,
    cookie: &str,
    csrf: &str,
    body: Vec<u8>,
) -> Raw {
    raw(
        agent,
        "POST",
        &url(local, path),
        &[
            ("cookie", cookie),
            ("origin", local.site.base_url()),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json"),
            ("x-csrf-token", csrf),
        ],
        Some(body),
    )
}

/// A small deterministic PRNG (xorshift64*).
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

// ---- 1. security headers -------------------------------------------------------------------

fn assert_security_headers(what: &str, answer: &Raw) {
    let csp = answer
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(!csp.contains("'unsafe-inline'"), "{what}: CSP {csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{what}: CSP {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: CSP {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp}");
    assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}");
    assert_eq!(
        answer.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{what}");
}

fn assert_session_cookie_attributes(what: &str, answer: &Raw) {
    let cookie = answer
        .header("set-cookie")
        .unwrap_or_else(|| panic!("{what}: no Set-Cookie"));
    let attrs: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attrs.iter().any(|a| a == "httponly"), "{what}: {cookie}");
    assert!(
        attrs.iter().any(|a| a == "samesite=strict"),
        "{what}: {cookie}"
    );
    assert!(attrs.iter().any(|a| a == "path=/"), "{what}: {cookie}");
}

#[test]
fn every_kind_of_answer_carries_the_security_headers() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "100001");
    let a = agent();

    let password_page = raw(&a, "GET", &who.url, &[], None);
    assert_eq!(password_page.status, 200);
    assert_security_headers("password page", &password_page);
    assert_session_cookie_attributes("password page", &password_page);

    let error_page = raw(&a, "GET", &url(&local, "/step5"), &[], None);
    assert_eq!(error_page.status, 403);
    assert_eq!(error_page.page_code().as_deref(), Some("no-session"));
    assert_security_headers("error page", &error_page);

    let missing = raw(&a, "GET", &url(&local, "/no/such/page"), &[], None);
    assert_eq!(missing.status, 404);
    assert_security_headers("404", &missing);

    let json_error = raw(
        &a,
        "POST",
        &url(&local, "/webauthn/register/options"),
        &[("content-type", "application/json")],
        Some(b"{}".to_vec()),
    );
    assert_eq!(json_error.status, 403);
    assert_eq!(json_error.json_code(), "no-session");
    assert_security_headers("JSON error", &json_error);

    let script = raw(&a, "GET", &url(&local, "/static/site.js"), &[], None);
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert_security_headers("static JS", &script);

    let home = raw(&a, "GET", &url(&local, "/"), &[], None);
    assert_security_headers("home", &home);

    let too_large = raw_form(&a, &local, &who.url, "", vec![b'a'; MAX_BODY + 4096]);
    assert_eq!(too_large.status, 413);
    assert_security_headers("413", &too_large);

    // The redirect after the right password sets the new session's cookie, with the same
    // attributes.
    let s = raw_session(&a, &who.url);
    let accepted = raw_form(
        &a,
        &local,
        &who.url,
        &s.cookie,
        form_body(&[("password", &who.password), ("csrf", &s.csrf)]),
    );
    assert_eq!(accepted.status, 303);
    assert_security_headers("redirect", &accepted);
    assert_session_cookie_attributes("redirect", &accepted);

    // No page runs inline script (the CSP would block it; the pages must not need it).
    for page in [&password_page, &error_page, &missing, &home] {
        assert!(!page.body.contains("<script>"), "{}", page.body);
        assert!(!page.body.contains(" onclick="), "{}", page.body);
    }
}

// ---- 2. refusals that cannot be told apart -------------------------------------------------

/// Posts `password` to `page_url` in a new session; returns status and the body with the
/// session's CSRF token and the URL's own token masked.
fn refusal(a: &ureq::Agent, local: &LocalSite, page_url: &str, password: &str) -> (u16, String) {
    let s = raw_session(a, page_url);
    let started = std::time::Instant::now();
    let answer = raw_form(
        a,
        local,
        page_url,
        &s.cookie,
        form_body(&[("password", password), ("csrf", &s.csrf)]),
    );
    // Every password answer is held to the same time: the store's work does not show.
    assert!(
        started.elapsed() >= ctapkit::site::DEFAULT_PASSWORD_ANSWER_TIME,
        "a password answer came back in {:?}",
        started.elapsed()
    );
    assert!(
        answer.session_cookie().is_none(),
        "a refusal must not start a new session"
    );
    let token = page_url.rsplit('/').next().unwrap();
    let masked = answer.body.replace(&s.csrf, "CSRF").replace(token, "TOKEN");
    (answer.status, masked)
}

/// The password page itself, masked the same way.
fn visit(a: &ureq::Agent, page_url: &str) -> (u16, String) {
    let page = raw(a, "GET", page_url, &[], None);
    let token = page_url.rsplit('/').next().unwrap();
    let masked = page
        .body
        .replace(&page.csrf(), "CSRF")
        .replace(token, "TOKEN");
    (page.status, masked)
}

#[test]
fn wrong_unknown_expired_locked_and_superseded_urls_answer_alike() {
    let local = site(SitePolicy::jpa_hpki());
    let a = agent();
    let valid = applicant(&local, "200001");
    let expired = local
        .add_applicant("200002", "期限 切子", BIRTH_DATE, Duration::ZERO)
        .unwrap();
    let locked = applicant(&local, "200003");
    let superseded = applicant(&local, "200004");
    let unknown = local.site.registration_url(&new_token());

    for _ in 0..5 {
        let (status, body) = refusal(&a, &local, &locked.url, "00000000");
        assert_eq!(status, 200);
        assert!(body.contains("data-code=\"password-refused\""));
    }
    let locked_id = applicant_id(&local, "200003");
    assert_eq!(
        local.store.urls(locked_id).unwrap()[0].invalid,
        Some(UrlInvalidReason::Locked)
    );
    let new_url = local.reissue("200004").unwrap();
    assert_ne!(new_url, superseded.url);

    let baseline = refusal(&a, &local, &valid.url, "19900318");
    assert_eq!(baseline.0, 200);
    assert!(baseline.1.contains("data-code=\"password-refused\""));
    let baseline_visit = visit(&a, &valid.url);

    let cases: [(&str, &str, &str); 7] = [
        ("unknown URL, wrong password", &unknown, "19900318"),
        ("unknown URL, a birth date", &unknown, "19900317"),
        ("expired URL, wrong password", &expired.url, "19900318"),
        (
            "expired URL, right password",
            &expired.url,
            &expired.password,
        ),
        ("locked URL, right password", &locked.url, &locked.password),
        ("superseded URL, wrong", &superseded.url, "19900318"),
        (
            "superseded URL, right password",
            &superseded.url,
            &superseded.password,
        ),
    ];
    for (what, page_url, password) in cases {
        let answer = refusal(&a, &local, page_url, password);
        assert_eq!(answer.0, baseline.0, "{what}: status");
        assert_eq!(answer.1, baseline.1, "{what}: page differs");
        assert_eq!(visit(&a, page_url), baseline_visit, "{what}: password page");
    }
    // A locked URL stays locked (with 5 failures), the others did not get in either.
    let info = &local.store.urls(locked_id).unwrap()[0];
    assert_eq!(info.failed_attempts, 5);
    assert_eq!(audit_count(&local, "password.accepted"), 0);
    // The new URL of the superseded applicant works.
    let fresh = LocalApplicant {
        url: new_url,
        ..superseded
    };
    let (_, step5, _) = to_step5(&local, &fresh);
    assert!(step5.has("register"));
}

// ---- 3. the lockout under concurrency ------------------------------------------------------

#[test]
fn fifty_concurrent_wrong_passwords_lock_the_url_exactly_once() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "300001");
    let id = applicant_id(&local, "300001");
    let threads = 50;
    let barrier = Arc::new(Barrier::new(threads));
    let origin = local.site.base_url().to_string();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let barrier = barrier.clone();
            let page_url = who.url.clone();
            let origin = origin.clone();
            std::thread::spawn(move || {
                let a = agent();
                let s = raw_session(&a, &page_url);
                barrier.wait();
                let answer = raw(
                    &a,
                    "POST",
                    &page_url,
                    &[
                        ("cookie", &s.cookie),
                        ("origin", &origin),
                        ("sec-fetch-site", "same-origin"),
                        ("content-type", "application/x-www-form-urlencoded"),
                    ],
                    Some(form_body(&[
                        ("password", &format!("{:08}", 10_000_000 + i)),
                        ("csrf", &s.csrf),
                    ])),
                );
                (answer.status, answer.page_code())
            })
        })
        .collect();
    for h in handles {
        let (status, code) = h.join().unwrap();
        assert_eq!(status, 200);
        assert_eq!(code.as_deref(), Some("password-refused"));
    }
    let urls = local.store.urls(id).unwrap();
    assert_eq!(urls.len(), 1);
    assert_eq!(urls[0].failed_attempts, 5, "exactly 5 failures counted");
    assert_eq!(urls[0].invalid, Some(UrlInvalidReason::Locked));
    assert_eq!(audit_count(&local, "url.locked"), 1);
    assert_eq!(audit_count(&local, "password.refused"), threads);

    // The right password no longer opens it.
    let mut b = browser(&local);
    let page = b.open(&who.url).unwrap();
    let mut form = page.form_of("password-submit").unwrap();
    form.set("password", &who.password);
    let page = b.submit(&form).unwrap();
    assert!(!page.has("signin"));
    assert_eq!(page_code(&page).as_deref(), Some("password-refused"));
    assert_eq!(audit_count(&local, "password.accepted"), 0);
}

#[test]
fn four_wrong_passwords_then_the_right_one_is_accepted() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "300002");
    let mut b = browser(&local);
    let mut page = b.open(&who.url).unwrap();
    for n in 0..4 {
        let mut form = page.form_of("password-submit").unwrap();
        form.set("password", &format!("1990031{n}"));
        page = b.submit(&form).unwrap();
        assert_eq!(page_code(&page).as_deref(), Some("password-refused"));
    }
    let info = &local.store.urls(applicant_id(&local, "300002")).unwrap()[0];
    assert_eq!((info.failed_attempts, info.invalid), (4, None));
    let mut form = page.form_of("password-submit").unwrap();
    form.set("password", &who.password);
    let page = b.submit(&form).unwrap();
    assert!(page.has("signin"), "{:?}", page_code(&page));
    assert_eq!(
        page.attr("username", "value").as_deref(),
        Some("300002-jpa")
    );
}

// ---- 4. CSRF and origin --------------------------------------------------------------------

#[test]
fn forms_and_json_need_the_sessions_csrf_token_and_the_sites_origin() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "400001");
    let a = agent();
    let mine = raw_session(&a, &who.url);
    let other = raw_session(&a, &who.url);
    let right = |csrf: &str| form_body(&[("password", &who.password), ("csrf", csrf)]);

    let no_csrf = raw_form(
        &a,
        &local,
        &who.url,
        &mine.cookie,
        form_body(&[("password", &who.password)]),
    );
    assert_eq!(
        (no_csrf.status, no_csrf.page_code()),
        (403, Some("csrf".into()))
    );

    let others = raw_form(&a, &local, &who.url, &mine.cookie, right(&other.csrf));
    assert_eq!(
        (others.status, others.page_code()),
        (403, Some("csrf".into()))
    );

    let post = |headers: &[(&str, &str)]| {
        let mut all = vec![
            ("cookie", mine.cookie.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        all.extend_from_slice(headers);
        raw(&a, "POST", &who.url, &all, Some(right(&mine.csrf)))
    };
    for (what, headers) in [
        ("evil Origin", vec![("origin", EVIL)]),
        ("Origin null", vec![("origin", "null")]),
        (
            "evil Origin claiming same-origin",
            vec![("origin", EVIL), ("sec-fetch-site", "same-origin")],
        ),
        ("cross-site fetch", vec![("sec-fetch-site", "cross-site")]),
        ("same-site fetch", vec![("sec-fetch-site", "same-site")]),
    ] {
        let answer = post(&headers);
        assert_eq!(answer.status, 403, "{what}");
        assert_eq!(answer.page_code().as_deref(), Some("bad-origin"), "{what}");
        assert!(answer.session_cookie().is_none(), "{what}");
    }

    // None of the refused posts reached the password check (the right password was in them).
    let info = &local.store.urls(applicant_id(&local, "400001")).unwrap()[0];
    assert_eq!((info.failed_attempts, info.invalid), (0, None));
    assert_eq!(audit_count(&local, "password.accepted"), 0);

    // Without a session cookie, or with one the site never issued (no fixation).
    for cookie in ["", "ctapkit_session=attacker-chosen-value"] {
        let answer = raw_form(&a, &local, &who.url, cookie, right(&mine.csrf));
        assert_eq!(answer.status, 403, "{cookie:?}");
        assert_eq!(answer.page_code().as_deref(), Some("no-session"));
    }

    // The JSON endpoints: the X-CSRF-Token header of this session, from this origin.
    let (mut b, step5, csrf) = to_step5(&local, &who);
    assert!(step5.has("register"));
    assert_eq!(step5.meta("csrf-token").as_deref(), Some(csrf.as_str()));
    for path in [
        "/webauthn/register/options",
        "/webauthn/register/finish",
        "/webauthn/authenticate/options",
        "/webauthn/authenticate/finish",
        "/webauthn/client-error",
    ] {
        let (status, answer) = b.post_json(path, "", &json!({})).unwrap();
        assert_eq!(
            (status, json_code(&answer)),
            (403, "csrf"),
            "{path}: no token"
        );
        let (status, answer) = b.post_json(path, &other.csrf, &json!({})).unwrap();
        assert_eq!(
            (status, json_code(&answer)),
            (403, "csrf"),
            "{path}: other's"
        );
        let answer = raw(
            &a,
            "POST",
            &url(&local, path),
            &[
                ("content-type", "application/json"),
                ("x-csrf-token", &csrf),
            ],
            Some(b"{}".to_vec()),
        );
        assert_eq!(
            (answer.status, answer.json_code()),
            (403, "no-session".into()),
            "{path}"
        );
    }
    // From another origin, or a cross-site fetch, with a live session and its token.
    for headers in [
        [("origin", EVIL), ("sec-fetch-site", "cross-site")],
        [
            ("origin", local.site.base_url()),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let mut all = vec![
            ("cookie", mine.cookie.as_str()),
            ("content-type", "application/json"),
            ("x-csrf-token", mine.csrf.as_str()),
        ];
        all.extend_from_slice(&headers);
        let answer = raw(
            &a,
            "POST",
            &url(&local, "/webauthn/client-error"),
            &all,
            Some(b"{}".to_vec()),
        );
        assert_eq!(
            (answer.status, answer.json_code()),
            (403, "bad-origin".into())
        );
    }
    // The same session, same token, from the site itself: accepted.
    let answer = raw_json(
        &a,
        &local,
        "/webauthn/client-error",
        &mine.cookie,
        &mine.csrf,
        b"{}".to_vec(),
    );
    assert_eq!(answer.status, 204, "{}", answer.body);
    let (status, answer) = b
        .post_json("/webauthn/register/options", &csrf, &json!({}))
        .unwrap();
    assert_eq!(status, 200, "{answer}");
}

// ---- 5. bodies -----------------------------------------------------------------------------

/// A refusal of the site: a 4xx carrying a code (page `#error[data-code]` or JSON `error`).
fn assert_coded_refusal(what: &str, answer: &Raw) {
    assert!(
        (400..500).contains(&answer.status),
        "{what}: HTTP {} {}",
        answer.status,
        answer.body
    );
    let code = if answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
    {
        Some(answer.json_code())
    } else {
        answer.page_code()
    };
    assert!(
        code.as_deref().is_some_and(|c| !c.is_empty()),
        "{what}: HTTP {} without a code: {}",
        answer.status,
        answer.body
    );
}

/// An answer that is not a server failure: a success, or a coded refusal.
fn assert_not_a_server_failure(what: &str, answer: &Raw) {
    match answer.status {
        200 | 204 | 303 => {}
        _ => assert_coded_refusal(what, answer),
    }
}

#[test]
fn oversized_bodies_are_refused_with_413() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "500001");
    let a = agent();
    let s = raw_session(&a, &who.url);
    let big = raw_form(
        &a,
        &local,
        &who.url,
        &s.cookie,
        form_body(&[("password", &"1".repeat(MAX_BODY)), ("csrf", &s.csrf)]),
    );
    assert_eq!(big.status, 413);
    assert_eq!(big.page_code().as_deref(), Some("body-too-large"));
    let info = &local.store.urls(applicant_id(&local, "500001")).unwrap()[0];
    assert_eq!(info.failed_attempts, 0, "not counted as a password attempt");

    let step5 = raw_signed_in(&a, &local, &who);
    let padding = "a".repeat(MAX_BODY);
    for path in [
        "/webauthn/register/options",
        "/webauthn/client-error",
        "/webauthn/authenticate/options",
    ] {
        let body = serde_json::to_vec(&json!({ "padding": padding })).unwrap();
        let answer = raw_json(&a, &local, path, &step5.cookie, &step5.csrf, body);
        assert_eq!(
            (answer.status, answer.json_code()),
            (413, "body-too-large".into()),
            "{path}"
        );
    }
    // Just at the limit is read (and refused for what it is, not for its size).
    let mut body = b"{\"padding\":\"".to_vec();
    body.resize(MAX_BODY - 2, b'a');
    body.extend_from_slice(b"\"}");
    assert_eq!(body.len(), MAX_BODY);
    let answer = raw_json(
        &a,
        &local,
        "/webauthn/register/options",
        &step5.cookie,
        &step5.csrf,
        body,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn malformed_json_and_form_bodies_get_a_4xx_with_a_code() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "500002");
    let a = agent();

    // JSON: the finish of a ceremony in progress, and the options.
    let s = raw_signed_in(&a, &local, &who);
    for body in [
        &b"{not json"[..],
        b"",
        b"[1,2",
        b"{\"id\": 1}",
        b"null",
        b"\xff\xfe",
    ] {
        let options = raw_json(
            &a,
            &local,
            "/webauthn/register/options",
            &s.cookie,
            &s.csrf,
            b"{}".to_vec(),
        );
        assert_eq!(options.status, 200);
        let answer = raw_json(
            &a,
            &local,
            "/webauthn/register/finish",
            &s.cookie,
            &s.csrf,
            body.to_vec(),
        );
        assert_eq!(
            (answer.status, answer.json_code()),
            (400, "malformed-json".into()),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let answer = raw_json(
        &a,
        &local,
        "/webauthn/register/options",
        &s.cookie,
        &s.csrf,
        b"{".to_vec(),
    );
    assert_eq!(
        (answer.status, answer.json_code()),
        (400, "malformed-json".into())
    );
    assert_eq!(credential_count(&local, "500002"), 0);

    // Forms: duplicate fields, bad percent-encoding, binary junk.
    let anon = raw_session(&a, &who.url);
    let signin = raw_password_accepted(&a, &local, &who);
    let label = url(&local, "/label");
    let signin_url = url(&local, "/signin");
    let expect =
        |what: &str, target: &str, session: &RawSession, body: Vec<u8>, want: (u16, &str)| {
            let answer = raw_form(&a, &local, target, &session.cookie, body);
            assert_coded_refusal(what, &answer);
            assert_eq!(
                (answer.status, answer.page_code().as_deref()),
                (want.0, Some(want.1)),
                "{what} to {target}"
            );
        };
    let bad = (400, "malformed-request");
    let csrf = (403, "csrf");
    let dup = |field: &str, token: &str| format!("{field}=1&{field}=2&csrf={token}").into_bytes();
    expect(
        "dup password",
        &who.url,
        &anon,
        dup("password", &anon.csrf),
        bad,
    );
    let body = format!("csrf={0}&csrf={0}&password=1", anon.csrf).into_bytes();
    expect("dup csrf", &who.url, &anon, body, bad);
    expect(
        "bad %, no csrf",
        &who.url,
        &anon,
        b"password=%ZZ%&csrf=%".to_vec(),
        csrf,
    );
    let body = format!("password=1&csrf={}%FF", anon.csrf).into_bytes();
    expect("csrf %FF", &who.url, &anon, body, csrf);
    expect(
        "junk",
        &who.url,
        &anon,
        b"\xff\xfe\x00=&&==\x80%%\r\n".to_vec(),
        csrf,
    );
    expect(
        "dup username",
        &signin_url,
        &signin,
        dup("username", &signin.csrf),
        bad,
    );
    expect(
        "junk",
        &signin_url,
        &signin,
        b"\x00\x01\x02\xff=%E3%81".to_vec(),
        csrf,
    );
    expect(
        "dup label",
        &label,
        &signin,
        dup("label", &signin.csrf),
        bad,
    );
    expect("junk", &label, &signin, b"label=%C0%AF&\xfe".to_vec(), csrf);
    // Invalid percent-escapes are kept literally (as browsers and the URL standard do): with the
    // session's token it is an ordinary wrong password, counted.
    let answer = raw_form(
        &a,
        &local,
        &who.url,
        &anon.cookie,
        format!("password=%ZZ&csrf={}", anon.csrf).into_bytes(),
    );
    assert_eq!(
        (answer.status, answer.page_code().as_deref()),
        (200, Some("password-refused"))
    );
    let info = &local.store.urls(applicant_id(&local, "500002")).unwrap()[0];
    assert_eq!(info.failed_attempts, 1);

    // A token that is not even UTF-8 is refused with a code too, never a bare text answer.
    for path in ["/r/%FF", "/r/%C0%AF"] {
        let answer = raw(&a, "GET", &url(&local, path), &[], None);
        assert_coded_refusal(path, &answer);
        let answer = raw_form(
            &a,
            &local,
            &url(&local, path),
            &anon.cookie,
            form_body(&[("csrf", &anon.csrf)]),
        );
        assert_coded_refusal(path, &answer);
    }
}

#[test]
fn random_bodies_to_every_post_route_never_fail_the_server() {
    let local = site(SitePolicy::jpa_hpki());
    let a = agent();
    // One applicant enrolled (for the sign-in routes), one not (for registration and forms).
    let enrolled = applicant(&local, "500003");
    let mut device = phone("ios");
    let report = enroll_with(&enrolled, &mut device, None, false);
    assert!(report.passed, "{:?}", report.first_failure());
    let fresh = applicant(&local, "500004");
    let mut rng = Prng(0x9E37_79B9_7F4A_7C15);

    let anon = raw_session(&a, &fresh.url);
    let accepted = raw_password_accepted(&a, &local, &fresh);
    let registering = raw_signed_in(&a, &local, &fresh);
    let signing_in = raw_signed_in(&a, &local, &enrolled);
    let signin_url = url(&local, "/signin");
    let label_url = url(&local, "/label");
    let forms: [(&str, &RawSession); 3] = [
        (&fresh.url, &anon),
        (&signin_url, &accepted),
        (&label_url, &registering),
    ];
    let json_routes: [(&str, &RawSession, Option<&str>); 6] = [
        ("/webauthn/register/options", &registering, None),
        (
            "/webauthn/register/finish",
            &registering,
            Some("/webauthn/register/options"),
        ),
        ("/webauthn/authenticate/options", &signing_in, None),
        (
            "/webauthn/authenticate/finish",
            &signing_in,
            Some("/webauthn/authenticate/options"),
        ),
        ("/webauthn/client-error", &anon, None),
        ("/webauthn/client-error", &signing_in, None),
    ];
    let mut requests = 0;
    for round in 0..30 {
        for (target, session) in forms {
            let mut body = rng.bytes(200);
            if round % 2 == 1 {
                body.extend_from_slice(format!("&csrf={}", session.csrf).as_bytes());
            }
            let answer = raw_form(&a, &local, target, &session.cookie, body);
            assert_not_a_server_failure(target, &answer);
            requests += 1;
        }
        for (path, session, before) in json_routes {
            if let Some(options) = before {
                let answer = raw_json(
                    &a,
                    &local,
                    options,
                    &session.cookie,
                    &session.csrf,
                    b"{}".to_vec(),
                );
                assert_eq!(answer.status, 200, "{options}: {}", answer.body);
            }
            let body = if round % 3 == 0 {
                // Random JSON-looking text.
                let alphabet = b"{}[]\":,0123456789abcdefghijklmnopqrstuvwxyz-_ \\ntruefalsenull";
                (0..rng.below(120))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect()
            } else {
                rng.bytes(300)
            };
            let answer = raw_json(&a, &local, path, &session.cookie, &session.csrf, body);
            assert_not_a_server_failure(path, &answer);
            requests += 1;
        }
        // Random bodies with no session or token at all.
        for path in ["/signin", "/label", "/webauthn/register/finish"] {
            let answer = raw(&a, "POST", &url(&local, path), &[], Some(rng.bytes(100)));
            assert_not_a_server_failure(path, &answer);
            requests += 1;
        }
    }
    assert!(requests >= 30 * 12);
    // Nothing registered by junk; the enrolled applicant still has exactly one credential.
    assert_eq!(credential_count(&local, "500004"), 0);
    assert_eq!(credential_count(&local, "500003"), 1);
}

/// Flips 1–3 bytes of one binary field (or cuts it short) of a real ceremony response.
fn mutate_field(rng: &mut Prng, value: &mut Value, fields: &[&str]) -> String {
    let field = fields[rng.below(fields.len())];
    let slot = field.split('.').fold(&mut *value, |v, key| &mut v[key]);
    let mut bytes = slot
        .as_str()
        .and_then(|s| Base64Url::decode(s).ok())
        .map(|b| b.0)
        .unwrap_or_default();
    if bytes.is_empty() {
        bytes.push(0);
    }
    let how = if rng.below(4) == 0 {
        let cut = rng.below(bytes.len());
        bytes.truncate(cut);
        format!("{field} cut to {cut}")
    } else {
        let flips = 1 + rng.below(3);
        for _ in 0..flips {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        format!("{field} with {flips} bit(s) flipped")
    };
    *slot = json!(Base64Url(bytes).encode());
    how
}

#[test]
fn mutated_ceremony_responses_are_refused_without_failing_the_server() {
    let local = site(SitePolicy::jpa_hpki());
    let a = agent();
    let origin = local.site.base_url().to_string();
    let who = applicant(&local, "500005");
    let mut device = phone("ios");
    let mut rng = Prng(0xD1B5_4A32_D192_ED03);

    let mut s = raw_signed_in(&a, &local, &who);
    for _ in 0..40 {
        let options = raw_json(
            &a,
            &local,
            "/webauthn/register/options",
            &s.cookie,
            &s.csrf,
            b"{}".to_vec(),
        );
        assert_eq!(options.status, 200, "{}", options.body);
        let options: Value = serde_json::from_str(&options.body).unwrap();
        let mut response =
            serde_json::to_value(create(&mut device, &origin, &options, None)).unwrap();
        let how = mutate_field(
            &mut rng,
            &mut response,
            &[
                "response.clientDataJSON",
                "response.attestationObject",
                "rawId",
            ],
        );
        let answer = raw_json(
            &a,
            &local,
            "/webauthn/register/finish",
            &s.cookie,
            &s.csrf,
            serde_json::to_vec(&response).unwrap(),
        );
        assert_not_a_server_failure(&how, &answer);
        if answer.status == 200 {
            // The flip hit a byte nothing checks: start over.
            local.store.delete_credentials("500005", now()).unwrap();
            s = raw_signed_in(&a, &local, &who);
        }
    }

    // Enrol for real, then mutate sign-ins.
    local.store.delete_credentials("500005", now()).unwrap();
    let (mut b, _, csrf) = to_step5(&local, &who);
    register_and_label(&mut device, &mut b, &csrf);
    let stored = local
        .store
        .credentials(applicant_id(&local, "500005"))
        .unwrap()[0]
        .clone();
    let s = raw_signed_in(&a, &local, &who);
    for _ in 0..40 {
        let options = raw_json(
            &a,
            &local,
            "/webauthn/authenticate/options",
            &s.cookie,
            &s.csrf,
            b"{}".to_vec(),
        );
        assert_eq!(options.status, 200, "{}", options.body);
        let options: Value = serde_json::from_str(&options.body).unwrap();
        let mut response = serde_json::to_value(get(&mut device, &origin, &options, None)).unwrap();
        let how = mutate_field(
            &mut rng,
            &mut response,
            &[
                "response.clientDataJSON",
                "response.authenticatorData",
                "response.signature",
                "response.userHandle",
                "rawId",
            ],
        );
        let answer = raw_json(
            &a,
            &local,
            "/webauthn/authenticate/finish",
            &s.cookie,
            &s.csrf,
            serde_json::to_vec(&response).unwrap(),
        );
        assert_not_a_server_failure(&how, &answer);
        assert_ne!(answer.status, 200, "{how} was accepted");
    }
    // No mutated sign-in was recorded.
    let now_stored = &local
        .store
        .credentials(applicant_id(&local, "500005"))
        .unwrap()[0];
    assert_eq!(now_stored.last_used_at, stored.last_used_at);
    assert_eq!(now_stored.record_json, stored.record_json);
}

// ---- 6. challenges -------------------------------------------------------------------------

#[test]
fn a_challenge_is_single_use_even_when_the_finish_fails() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "600001");
    let mut device = phone("ios");
    let (mut b, _, csrf) = to_step5(&local, &who);
    let origin = b.origin().to_string();

    // A failed finish (a body that is no response) uses the challenge up.
    let options = register_options(&mut b, &csrf);
    let response = create(&mut device, &origin, &options, None);
    let (status, answer) = b
        .post_json("/webauthn/register/finish", &csrf, &json!({}))
        .unwrap();
    assert_eq!((status, json_code(&answer)), (400, "malformed-json"));
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    assert_eq!(credential_count(&local, "600001"), 0);

    // A successful finish, replayed: in the same session (now past step 5), and in a new one.
    let options = register_options(&mut b, &csrf);
    let response = create(&mut device, &origin, &options, None);
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!((status, json_code(&answer)), (403, "wrong-step"));
    let (mut other, step5, other_csrf) = to_step5(&local, &who);
    assert!(step5.has("sign-in"), "a registered applicant signs in");
    let (status, answer) = post(
        &mut other,
        "/webauthn/register/finish",
        &other_csrf,
        &response,
    );
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    let (status, answer) = other
        .post_json("/webauthn/register/options", &other_csrf, &json!({}))
        .unwrap();
    assert_eq!(
        (status, json_code(&answer)),
        (403, "wrong-step"),
        "no second registration"
    );
    assert_eq!(credential_count(&local, "600001"), 1);
    assert_eq!(audit_count(&local, "credential.registered"), 1);

    // A successful sign-in, replayed in another session: no challenge, and then a stale one.
    let options = sign_in_options(&mut other, &other_csrf);
    let assertion = get(&mut device, &origin, &options, None);
    let (status, answer) = post(
        &mut other,
        "/webauthn/authenticate/finish",
        &other_csrf,
        &assertion,
    );
    assert_eq!(status, 200, "{answer}");
    let (mut third, _, third_csrf) = to_step5(&local, &who);
    let (status, answer) = post(
        &mut third,
        "/webauthn/authenticate/finish",
        &third_csrf,
        &assertion,
    );
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    sign_in_options(&mut third, &third_csrf);
    let (status, answer) = post(
        &mut third,
        "/webauthn/authenticate/finish",
        &third_csrf,
        &assertion,
    );
    assert_eq!((status, json_code(&answer)), (422, "verification-failed"));
    assert_eq!(audit_count(&local, "credential.signed-in"), 1);
}

#[test]
fn a_challenge_is_bound_to_its_session() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "600002");
    let mut device = phone("ios");
    let (mut a, _, a_csrf) = to_step5(&local, &who);
    let (mut b, _, b_csrf) = to_step5(&local, &who);
    let origin = a.origin().to_string();

    let options = register_options(&mut a, &a_csrf);
    let response = create(&mut device, &origin, &options, None);
    // Session B has no challenge of its own: A's response finds none.
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &b_csrf, &response);
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    // With its own challenge pending, A's response does not match it.
    register_options(&mut b, &b_csrf);
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &b_csrf, &response);
    assert_eq!((status, json_code(&answer)), (422, "verification-failed"));
    assert_eq!(credential_count(&local, "600002"), 0);
    // Session B's token does not work in session A either.
    let (status, answer) = post(&mut a, "/webauthn/register/finish", &b_csrf, &response);
    assert_eq!((status, json_code(&answer)), (403, "csrf"));
    // A's own challenge is still there for A.
    let (status, answer) = post(&mut a, "/webauthn/register/finish", &a_csrf, &response);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(credential_count(&local, "600002"), 1);
}

#[test]
fn a_challenge_expires_at_the_policy_timeout() {
    let local = site(SitePolicy {
        timeout: Duration::ZERO,
        ..SitePolicy::jpa_hpki()
    });
    let who = applicant(&local, "600003");
    let mut device = phone("ios");
    let (mut b, _, csrf) = to_step5(&local, &who);
    let origin = b.origin().to_string();
    let options = register_options(&mut b, &csrf);
    assert_eq!(options["timeout"], 0);
    let response = create(&mut device, &origin, &options, None);
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!((status, json_code(&answer)), (409, "challenge-expired"));
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    assert_eq!(credential_count(&local, "600003"), 0);
}

#[test]
fn a_registration_answer_is_no_sign_in() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "600004");
    let mut device = phone("ios");
    let (mut b, _, csrf) = to_step5(&local, &who);
    let origin = b.origin().to_string();

    // A registration challenge is not taken by the sign-in finish (and is used up by trying).
    let options = register_options(&mut b, &csrf);
    let response = create(&mut device, &origin, &options, None);
    let (status, answer) = post(&mut b, "/webauthn/authenticate/finish", &csrf, &response);
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!((status, json_code(&answer)), (409, "no-challenge"));
    assert_eq!(credential_count(&local, "600004"), 0);

    // With a sign-in challenge pending, a registration answer is not an assertion.
    register_and_label(&mut device, &mut b, &csrf);
    let (mut again, _, again_csrf) = to_step5(&local, &who);
    let options = sign_in_options(&mut again, &again_csrf);
    let (status, answer) = post(
        &mut again,
        "/webauthn/authenticate/finish",
        &again_csrf,
        &response,
    );
    assert!(matches!(status, 400 | 422), "{status} {answer}");
    assert!(
        matches!(json_code(&answer), "malformed-json" | "verification-failed"),
        "{answer}"
    );
    // …and a sign-in answer is no registration.
    let assertion = get(&mut device, &origin, &options, None);
    let (mut fresh, _, fresh_csrf) = to_step5(&local, &applicant(&local, "600005"));
    register_options(&mut fresh, &fresh_csrf);
    let (status, answer) = post(
        &mut fresh,
        "/webauthn/register/finish",
        &fresh_csrf,
        &assertion,
    );
    assert!(matches!(status, 400 | 422), "{status} {answer}");
    assert_eq!(credential_count(&local, "600005"), 0);
    assert_eq!(audit_count(&local, "credential.signed-in"), 0);
}

// ---- 7. the order of the flow --------------------------------------------------------------

fn assert_page_refused(b: &mut Browser, path: &str, code: &str) {
    let page = b.open(&url_of(b, path)).unwrap();
    assert_eq!(page.status, 403, "GET {path}");
    assert_eq!(page_code(&page).as_deref(), Some(code), "GET {path}");
}

fn assert_json_refused(b: &mut Browser, path: &str, csrf: &str, status: u16, code: &str) {
    let (got, answer) = b.post_json(path, csrf, &json!({})).unwrap();
    assert_eq!((got, json_code(&answer)), (status, code), "POST {path}");
}

#[test]
fn no_step_can_be_skipped() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "700001");
    let mut device = phone("ios");
    let json_paths = [
        "/webauthn/register/options",
        "/webauthn/register/finish",
        "/webauthn/authenticate/options",
        "/webauthn/authenticate/finish",
    ];

    // No session at all.
    let mut b = browser(&local);
    for path in ["/signin", "/step5", "/label", "/complete"] {
        assert_page_refused(&mut b, path, "no-session");
    }
    for path in json_paths {
        assert_json_refused(&mut b, path, "", 403, "no-session");
    }

    // Only the registration URL opened.
    let page = b.open(&who.url).unwrap();
    let csrf = form_csrf(&page, "password-submit");
    for path in ["/signin", "/step5", "/label", "/complete"] {
        assert_page_refused(&mut b, path, "wrong-step");
    }
    for path in json_paths {
        assert_json_refused(&mut b, path, &csrf, 403, "wrong-step");
    }

    // Past the password, before SignIn.
    let mut form = page.form_of("password-submit").unwrap();
    form.set("password", &who.password);
    let page = b.submit(&form).unwrap();
    assert!(page.has("signin"));
    let csrf = form_csrf(&page, "signin");
    for path in ["/step5", "/label", "/complete"] {
        assert_page_refused(&mut b, path, "wrong-step");
    }
    for path in json_paths {
        assert_json_refused(&mut b, path, &csrf, 403, "wrong-step");
    }
    // A wrong username keeps the applicant at SignIn (with the field empty, as on the site).
    let mut form = page.form_of("signin").unwrap();
    form.set("username", "999999-jpa");
    let page = b.submit(&form).unwrap();
    assert_eq!(page_code(&page).as_deref(), Some("wrong-username"));
    assert_eq!(page.attr("username", "value").as_deref(), Some(""));
    assert_page_refused(&mut b, "/step5", "wrong-step");

    // At step 5, before registering.
    let mut form = page.form_of("signin").unwrap();
    form.set("username", "700001-JPA");
    let step5 = b.submit(&form).unwrap();
    assert!(step5.has("register"));
    for path in ["/label", "/complete"] {
        assert_page_refused(&mut b, path, "wrong-step");
    }
    let label = raw_form(
        &agent(),
        &local,
        &url(&local, "/label"),
        "",
        form_body(&[("label", "x"), ("csrf", &csrf)]),
    );
    assert_eq!(label.page_code().as_deref(), Some("no-session"));
    assert_json_refused(
        &mut b,
        "/webauthn/authenticate/options",
        &csrf,
        409,
        "no-credential",
    );
    assert_json_refused(
        &mut b,
        "/webauthn/authenticate/finish",
        &csrf,
        409,
        "no-challenge",
    );
    assert_json_refused(
        &mut b,
        "/webauthn/register/finish",
        &csrf,
        409,
        "no-challenge",
    );

    // Registered, before the label.
    let options = register_options(&mut b, &csrf);
    let origin = b.origin().to_string();
    let response = create(&mut device, &origin, &options, None);
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
    assert_eq!(status, 200, "{answer}");
    assert_page_refused(&mut b, "/step5", "wrong-step");
    assert_page_refused(&mut b, "/complete", "wrong-step");
    for path in json_paths {
        assert_json_refused(&mut b, path, &csrf, 403, "wrong-step");
    }
    // A bad label is refused, and the label screen stays.
    let page = b.open(&url_of(&b, "/label")).unwrap();
    let mut form = page.form_of("label-ok").unwrap();
    form.set("label", "bad\u{7}label");
    let refused = b.submit(&form).unwrap();
    assert_eq!(
        (refused.status, page_code(&refused).as_deref()),
        (400, Some("bad-label"))
    );
    let done = b.submit(&page.form_of("label-ok").unwrap()).unwrap();
    assert_eq!(
        done.attr("complete", "data-outcome").as_deref(),
        Some("registered")
    );
    for path in json_paths {
        assert_json_refused(&mut b, path, &csrf, 403, "wrong-step");
    }
}

#[test]
fn the_session_id_changes_when_the_password_is_accepted() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "700002");
    let a = agent();
    let before = raw_session(&a, &who.url);
    // A refused password keeps the session (and its token).
    let refused = raw_form(
        &a,
        &local,
        &who.url,
        &before.cookie,
        form_body(&[("password", "19900101"), ("csrf", &before.csrf)]),
    );
    assert_eq!(refused.status, 200);
    assert!(refused.session_cookie().is_none());
    let accepted = raw_form(
        &a,
        &local,
        &who.url,
        &before.cookie,
        form_body(&[("password", &who.password), ("csrf", &before.csrf)]),
    );
    assert_eq!(
        (accepted.status, accepted.header("location")),
        (303, Some("/signin"))
    );
    let after = format!("ctapkit_session={}", accepted.session_cookie().unwrap());
    assert_ne!(after, before.cookie, "a new session ID");

    // The pre-password ID (which an attacker could have planted) is dead.
    let old = raw(
        &a,
        "GET",
        &url(&local, "/signin"),
        &[("cookie", &before.cookie)],
        None,
    );
    assert_eq!(
        (old.status, old.page_code().as_deref()),
        (403, Some("no-session"))
    );
    let new = raw(
        &a,
        "GET",
        &url(&local, "/signin"),
        &[("cookie", &after)],
        None,
    );
    assert_eq!(new.status, 200);
    assert_ne!(
        new.csrf(),
        before.csrf,
        "a new CSRF token with the new session"
    );
    // The old token does not work with the new session.
    let username = "700002-jpa";
    let stale = raw_form(
        &a,
        &local,
        &url(&local, "/signin"),
        &after,
        form_body(&[("username", username), ("csrf", &before.csrf)]),
    );
    assert_eq!(
        (stale.status, stale.page_code().as_deref()),
        (403, Some("csrf"))
    );
}

// ---- 8. revocation -------------------------------------------------------------------------

#[test]
fn a_revoked_second_certificate_stops_sign_in_and_a_revoked_card_does_not() {
    let local = site(SitePolicy::jpa_hpki());
    let origin = local.site.base_url().to_string();
    let card_lost = applicant(&local, "800001");
    let second_revoked = applicant(&local, "800002");
    let mut phone_a = phone("ios");
    let mut phone_b = phone("ios");
    for (who, device) in [(&card_lost, &mut phone_a), (&second_revoked, &mut phone_b)] {
        let report = enroll_with(who, device, None, true);
        assert!(report.passed, "{:?}", report.first_failure());
    }

    // Card certificate revoked only: mobile sign-in keeps working.
    local.store.revoke("800001", true, false, now()).unwrap();
    let (mut b, step5, csrf) = to_step5(&local, &card_lost);
    assert!(step5.has("sign-in"));
    let options = sign_in_options(&mut b, &csrf);
    let assertion = get(&mut phone_a, &origin, &options, None);
    let (status, answer) = post(&mut b, "/webauthn/authenticate/finish", &csrf, &assertion);
    assert_eq!(status, 200, "{answer}");
    let done = b.open(&url_of(&b, "/complete")).unwrap();
    assert_eq!(
        done.attr("complete", "data-outcome").as_deref(),
        Some("signed-in")
    );

    // A sign-in in progress when the second certificate is revoked is refused at its finish.
    let (mut b, _, csrf) = to_step5(&local, &second_revoked);
    let options = sign_in_options(&mut b, &csrf);
    let assertion = get(&mut phone_b, &origin, &options, None);
    local.store.revoke("800002", false, true, now()).unwrap();
    let (status, answer) = post(&mut b, "/webauthn/authenticate/finish", &csrf, &assertion);
    assert_eq!(
        (status, json_code(&answer)),
        (403, "second-certificate-revoked")
    );

    // The second scan after the revocation: step 5 says so, and no ceremony starts.
    let (mut b, step5, csrf) = to_step5(&local, &second_revoked);
    assert_eq!(step5.status, 403);
    assert_eq!(
        page_code(&step5).as_deref(),
        Some("second-certificate-revoked")
    );
    assert!(!step5.has("sign-in") && !step5.has("register"));
    assert_json_refused(
        &mut b,
        "/webauthn/authenticate/options",
        &csrf,
        403,
        "second-certificate-revoked",
    );
    assert_json_refused(
        &mut b,
        "/webauthn/register/options",
        &csrf,
        403,
        "second-certificate-revoked",
    );
    let signed_in_count = local
        .store
        .audit_trail()
        .unwrap()
        .iter()
        .filter(|e| e.action == "credential.signed-in")
        .count();
    // 2 second scans by the runner, 1 by hand for the card-only case.
    assert_eq!(signed_in_count, 3);

    // Deleting the credentials (lost phone) while the second certificate is valid: step 5
    // offers Register again, and a new phone enrols.
    assert_eq!(local.store.delete_credentials("800001", now()).unwrap(), 1);
    let (mut b, step5, csrf) = to_step5(&local, &card_lost);
    assert!(step5.has("register"), "{:?}", page_code(&step5));
    assert_eq!(step5.text("register").as_deref(), Some("Register"));
    let mut new_phone = phone("android");
    register_and_label(&mut new_phone, &mut b, &csrf);
    assert_eq!(credential_count(&local, "800001"), 1);
    // The lost phone's credential is gone for good: its assertion is refused.
    let (mut b, _, csrf) = to_step5(&local, &card_lost);
    let options = sign_in_options(&mut b, &csrf);
    let lost = platform::get(
        &mut phone_a.ctap,
        &origin,
        &request_options(&options, &origin),
        None,
    );
    assert!(
        lost.is_err(),
        "the old phone has no credential in allowCredentials"
    );
}

// ---- 9. policy -----------------------------------------------------------------------------

#[test]
fn a_roaming_key_is_refused_under_jpa_hpki_and_admitted_with_a_pin_under_cross_platform() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "900001");
    let mut key = phone("security-key");
    let (mut b, _, csrf) = to_step5(&local, &who);
    let origin = b.origin().to_string();
    let token = pin_token(&mut key.ctap, "123456");
    for attachment in [Some("cross-platform"), None] {
        let options = register_options(&mut b, &csrf);
        assert_eq!(
            options["authenticatorSelection"]["authenticatorAttachment"],
            "platform"
        );
        let mut response = create(&mut key, &origin, &options, Some(&token));
        response.authenticator_attachment = attachment.map(str::to_string);
        response.response.transports = vec!["usb".into()];
        let (status, answer) = post(&mut b, "/webauthn/register/finish", &csrf, &response);
        assert_eq!(
            (status, json_code(&answer)),
            (422, "attachment-not-allowed"),
            "{attachment:?}"
        );
    }
    assert_eq!(credential_count(&local, "900001"), 0);
    assert_eq!(audit_count(&local, "registration.refused"), 2);

    // The same kind of key, with its PIN, under jpa-hpki-cross-platform: enrolled and signs in.
    let local = site(SitePolicy::jpa_hpki_cross_platform());
    let who = applicant(&local, "900002");
    let mut key = phone("security-key");
    let report = enroll_with(&who, &mut key, Some("123456"), true);
    assert!(report.passed, "{:?}", report.first_failure());
    let stored = local
        .store
        .credentials(applicant_id(&local, "900002"))
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].sign_count >= 1, "the key's counter was recorded");
}

#[test]
fn a_sign_count_regression_fails_the_sign_in_and_keeps_the_stored_count() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "900003");
    let mut device = emulated(
        Authenticator::with_profile_name("ios")
            .unwrap()
            .with_faults([Fault::SignCountRegression]),
    )
    .unwrap();
    let report = enroll_with(&who, &mut device, None, false);
    assert!(report.passed, "{:?}", report.first_failure());
    let before = local
        .store
        .credentials(applicant_id(&local, "900003"))
        .unwrap()[0]
        .clone();
    assert_eq!(
        before.sign_count, 5,
        "the faulty phone registered with counter 5"
    );

    let (mut b, step5, csrf) = to_step5(&local, &who);
    assert!(step5.has("sign-in"));
    let origin = b.origin().to_string();
    let options = sign_in_options(&mut b, &csrf);
    let assertion = get(&mut device, &origin, &options, None);
    let (status, answer) = post(&mut b, "/webauthn/authenticate/finish", &csrf, &assertion);
    assert_eq!(
        (status, json_code(&answer)),
        (422, "verification-failed"),
        "{answer}"
    );
    assert!(
        answer["message"].as_str().unwrap().contains("sign"),
        "{answer}"
    );

    let after = &local
        .store
        .credentials(applicant_id(&local, "900003"))
        .unwrap()[0];
    assert_eq!(after.sign_count, 5);
    assert_eq!(after.last_used_at, None);
    assert_eq!(after.record_json, before.record_json);
    assert_eq!(audit_count(&local, "credential.signed-in"), 0);
    assert_page_refused(&mut b, "/complete", "wrong-step");
}

#[test]
fn two_sessions_registering_at_once_leave_one_credential() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "600006");
    let mut phone_a = phone("ios");
    let mut phone_b = phone("android");
    let (mut a, step5_a, a_csrf) = to_step5(&local, &who);
    let (mut b, step5_b, b_csrf) = to_step5(&local, &who);
    assert!(step5_a.has("register") && step5_b.has("register"));
    let origin = a.origin().to_string();
    let options_a = register_options(&mut a, &a_csrf);
    let options_b = register_options(&mut b, &b_csrf);
    let response_a = create(&mut phone_a, &origin, &options_a, None);
    let response_b = create(&mut phone_b, &origin, &options_b, None);
    let (status, answer) = post(&mut a, "/webauthn/register/finish", &a_csrf, &response_a);
    assert_eq!(status, 200, "{answer}");
    // Step 5 of B was shown before A registered; its finish comes after: no second credential.
    let (status, answer) = post(&mut b, "/webauthn/register/finish", &b_csrf, &response_b);
    assert_eq!(
        (status, json_code(&answer)),
        (403, "wrong-step"),
        "{answer}"
    );
    assert_eq!(credential_count(&local, "600006"), 1);
}

#[test]
fn concurrent_registrations_of_one_applicant_store_one_credential() {
    let local = site(SitePolicy::jpa_hpki());
    let who = applicant(&local, "600007");
    let origin = local.site.base_url().to_string();
    let sessions = 8;
    let barrier = Arc::new(Barrier::new(sessions));
    let handles: Vec<_> = (0..sessions)
        .map(|_| {
            let (mut b, _, csrf) = to_step5(&local, &who);
            let options = register_options(&mut b, &csrf);
            let response = create(&mut phone("ios"), &origin, &options, None);
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                post(&mut b, "/webauthn/register/finish", &csrf, &response)
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let accepted = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(accepted, 1, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, json_code(answer)), (403, "wrong-step"));
    }
    assert_eq!(credential_count(&local, "600007"), 1);
}

// ---- 10. slow clients ----------------------------------------------------------------------

#[test]
fn slow_clients_are_cut_off_and_cannot_hold_every_connection() {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = Arc::new(ctapkit::enrollment::SqliteStore::in_memory().unwrap());
    let limits = ctapkit::site::ServeLimits {
        header_read_timeout: Duration::from_millis(400),
        max_connections: 4,
    };
    let _site = ctapkit::site::RunningSite::start_with(
        listener,
        ctapkit::site::SiteConfig::localhost(port, SitePolicy::jpa_hpki()),
        store,
        limits,
        None,
    )
    .unwrap();
    // Four slow-loris clients take every connection slot with half a request each.
    let mut slow: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
                .unwrap();
            s
        })
        .collect();
    // A real client still gets its answer once the header timeout has closed them.
    let started = std::time::Instant::now();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it had to wait for a slot"
    );
    // The slow clients were disconnected (EOF, or an error answer then EOF).
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        assert!(
            rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&rest)
        );
    }
}

// ---- 11. https -----------------------------------------------------------------------------

#[test]
fn over_https_the_whole_flow_works_and_the_session_cookie_is_secure() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &Issuer::new(ca_params, ca_key))
        .unwrap();
    let tls =
        ctapkit::site::Tls::from_pem(leaf.pem().as_bytes(), leaf_key.serialize_pem().as_bytes())
            .unwrap();
    assert!(ctapkit::site::Tls::from_pem(b"", leaf_key.serialize_pem().as_bytes()).is_err());
    assert!(ctapkit::site::Tls::from_pem(leaf.pem().as_bytes(), b"nope").is_err());

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let db = std::env::temp_dir().join(format!("ctapkit-https-{}.db", std::process::id()));
    let store = Arc::new(ctapkit::enrollment::SqliteStore::open(&db).unwrap());
    let config = ctapkit::site::SiteConfig {
        origin: format!("https://localhost:{port}"),
        ..ctapkit::site::SiteConfig::localhost(port, SitePolicy::jpa_hpki())
    };
    let site = ctapkit::site::RunningSite::start_with(
        listener,
        config,
        store.clone(),
        ctapkit::site::ServeLimits::default(),
        Some(tls),
    )
    .unwrap();
    let (_, token) = store
        .add_applicant(
            &ctapkit::enrollment::store::NewApplicant {
                registry_number: "990001".into(),
                name: "TLS".into(),
                birth_date: BIRTH_DATE.into(),
            },
            Duration::from_secs(3600),
            ctapkit::enrollment::now(),
        )
        .unwrap();
    let url = site.registration_url(&token);
    assert!(url.starts_with("https://localhost:"));

    // The session cookie is marked Secure over https.
    let mut b = Browser::with_trusted_ca(site.base_url(), USER_AGENT, TIMEOUT, ca.pem().as_bytes())
        .unwrap();
    let page = b.open(&url).unwrap();
    assert!(page.has("password"));
    let cookie = page.headers.get("set-cookie").cloned().unwrap_or_default();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // The whole flow, registration and second scan, over TLS.
    let mut device = phone("ios");
    let options = EnrollOptions {
        device_name: "emulator:ios".into(),
        registration_url: url,
        password: "19900317".into(),
        registry_number: Some("990001".into()),
        wrong_passwords: 0,
        second_scan: true,
        pin: None,
        policy: None,
        http_timeout: TIMEOUT,
        trusted_ca_pem: Some(ca.pem().into_bytes()),
    };
    let report = ctapkit::enroll::enroll(&mut device, &options, None, &mut |_| {});
    assert!(report.passed, "{}", report.to_text(false));
    drop(site);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
