//! The manual's steps, played as the applicant's phone would: the browser part over HTTP
//! ([`super::browser`]) and the WebAuthn client part over CTAP ([`crate::platform`]).

use std::time::Instant;

use serde_json::{json, Value};

use super::browser::{Browser, Form, Page};
use super::report::{Cause, CeremonySeen, Report, Status, StepReport, SCHEMA};
use super::{DeviceUnderTest, EnrollOptions};
use crate::ctap2::client::PinUvAuthToken;
use crate::ctap2::client::{ClientError, Ctap2};
use crate::ctap2::client_pin::permission;
use crate::ctap2::get_info::GetInfoResponse;
use crate::ctap2::status::StatusCode;
use crate::platform::{
    self, AuthenticatorCapabilities, CreateOptions, GetOptions, OptionsError, PlatformError,
};
use crate::site::pages::COMPLETE;
use crate::transport::CtapDevice;
use crate::webauthn::attestation::AttestationObject;
use crate::webauthn::models::model_name;
use crate::webauthn::{
    AuthenticationResponseJson, AuthenticatorData, Base64Url, RegistrationResponseJson,
};

/// The manual's guidance texts.
pub mod guidance {
    /// Security Key Error at step 5 because the device cannot verify the user.
    pub const NO_BIOMETRICS: &str = "Security Key Error: no biometrics enrolled — enrol a fingerprint or face on the device, then restart from step 2 (scan the QR code again)";
    /// Not a FIDO2 authenticator the site can use.
    pub const NOT_FIDO2: &str = "this device cannot be used for the second certificate (not FIDO2 with biometrics): use HPKI card authentication";
    /// A USB/NFC key on a site that admits only the phone's own authenticator.
    pub const NOT_PLATFORM: &str = "the site admits only the phone's own authenticator (platform attachment: iOS 14+ or Android 7+ with fingerprint or face); a browser does not offer a USB or NFC key here — use a phone, or HPKI card authentication";
    /// The URL no longer works.
    pub const URL_INVALID: &str = "check the password printed on the QR sheet (date of birth, 8 digits YYYYMMDD); if the URL expired or was locked after 5 wrong passwords, follow the re-issue procedure (the registration office issues a new URL)";
    /// The device disappeared or stopped answering.
    pub const DEVICE_GONE: &str =
        "the authenticator stopped answering: reconnect or unlock it, then restart from step 2";
    /// The device's answers are not valid CTAP2.
    pub const MALFORMED: &str = "the authenticator's answers are not valid CTAP2 (Chromium's CTAP2 reader refuses non-canonical or malformed CBOR as well): a browser cannot use this device; use HPKI card authentication, and report it to the device's maker";
    /// The user refused or did not answer.
    pub const USER_DENIED: &str = "the biometric prompt was cancelled or timed out: restart from step 2 and complete the fingerprint or face check";
    /// The site refused the response.
    pub const SITE_REFUSED: &str = "the site refused what the authenticator produced: this authenticator does not meet the site's policy (see the detail)";
}

/// A step's failure: what happened, what to do, and whose it is.
struct Failure {
    detail: String,
    guidance: Option<String>,
    cause: Cause,
}

impl Failure {
    /// A failure of the site, the network or the arguments (not the authenticator's).
    fn new(detail: impl Into<String>, guidance: Option<&str>) -> Self {
        Failure {
            detail: detail.into(),
            guidance: guidance.map(str::to_string),
            cause: Cause::Site,
        }
    }

    /// A failure of the authenticator (what `enroll` is there to find).
    fn device(detail: impl Into<String>, guidance: Option<&str>) -> Self {
        Failure {
            cause: Cause::Authenticator,
            ..Failure::new(detail, guidance)
        }
    }
}

impl From<super::browser::BrowserError> for Failure {
    fn from(e: super::browser::BrowserError) -> Self {
        Failure::new(
            e.to_string(),
            Some("the site did not answer as expected: check that it is running and reachable, then run again"),
        )
    }
}

type StepResult<T> = Result<(T, String), Failure>;

/// The steps so far; once one fails, the rest are skipped.
struct Steps<'p> {
    list: Vec<StepReport>,
    stopped: Option<String>,
    progress: &'p mut dyn FnMut(&str),
}

impl Steps<'_> {
    fn run<T>(&mut self, id: &str, name: &str, f: impl FnOnce() -> StepResult<T>) -> Option<T> {
        if let Some(why) = &self.stopped {
            let detail = why.clone();
            self.skip(id, name, &detail);
            return None;
        }
        (self.progress)(&format!("step {id}: {name}…"));
        let started = Instant::now();
        let result = f();
        let millis = started.elapsed().as_millis() as u64;
        match result {
            Ok((value, detail)) => {
                self.list.push(StepReport {
                    id: id.into(),
                    name: name.into(),
                    status: Status::Pass,
                    millis,
                    detail,
                    guidance: None,
                    cause: None,
                });
                Some(value)
            }
            Err(failure) => {
                self.stopped = Some(format!("not reached: step {id} failed"));
                self.list.push(StepReport {
                    id: id.into(),
                    name: name.into(),
                    status: Status::Fail,
                    millis,
                    detail: failure.detail,
                    guidance: failure.guidance,
                    cause: Some(failure.cause),
                });
                None
            }
        }
    }

    /// Runs step `id` on the previous step's result, or skips it when there is none.
    fn then<I, T>(
        &mut self,
        id: &str,
        name: &str,
        input: Option<I>,
        f: impl FnOnce(I) -> StepResult<T>,
    ) -> Option<T> {
        match input {
            Some(input) => self.run(id, name, || f(input)),
            None => {
                self.skip_rest(&[(id, name)]);
                None
            }
        }
    }

    /// Adds a skipped line for each of `expected` that has no line yet (a run of steps that
    /// ended early).
    fn skip_rest(&mut self, expected: &[(&str, &str)]) {
        let why = self.stopped.clone().unwrap_or_else(|| "not reached".into());
        for (id, name) in expected {
            if !self.list.iter().any(|s| s.id == *id) {
                self.skip(id, name, &why);
            }
        }
    }

    fn skip(&mut self, id: &str, name: &str, why: &str) {
        self.list.push(StepReport {
            id: id.into(),
            name: name.into(),
            status: Status::Skip,
            millis: 0,
            detail: why.into(),
            guidance: None,
            cause: None,
        });
    }
}

/// What step 1 learnt about the device.
struct DeviceFacts {
    info: Option<GetInfoResponse>,
    platform: bool,
}

impl DeviceFacts {
    /// `authenticatorAttachment` as the browser reports it for this device.
    fn attachment(&self) -> &'static str {
        if self.platform {
            "platform"
        } else {
            "cross-platform"
        }
    }
}

/// Runs the flow; never panics, every problem is a failed step in the report.
pub fn run<D: CtapDevice>(
    device: &mut DeviceUnderTest<D>,
    options: &EnrollOptions,
    reissue: Option<&mut dyn FnMut() -> Result<String, String>>,
    progress: &mut dyn FnMut(&str),
) -> Report {
    let started = Instant::now();
    let origin = super::browser::origin_of(&options.registration_url).unwrap_or_default();
    let user_agent = options.user_agent(device);
    let (mut browser, tls_problem) = match &options.trusted_ca_pem {
        None => (
            Browser::new(&origin, &user_agent, options.http_timeout),
            None,
        ),
        Some(pem) => {
            match Browser::with_trusted_ca(&origin, &user_agent, options.http_timeout, pem) {
                Ok(b) => (b, None),
                Err(e) => (
                    Browser::new(&origin, &user_agent, options.http_timeout),
                    Some(e),
                ),
            }
        }
    };
    let expected_username = options.registry_number.as_ref().map(|n| format!("{n}-jpa"));
    let mut steps = Steps {
        list: Vec::new(),
        stopped: None,
        progress,
    };
    let mut registration = None;
    let mut sign_in = None;
    let mut username = expected_username.clone().unwrap_or_default();
    let mut url = options.registration_url.clone();

    // 1. The device.
    let facts = steps.run("1", "device ready (FIDO2, biometrics)", || {
        device_facts(device)
    });

    // 2-4, first scan.
    let signed_in = match tls_problem {
        Some(e) => {
            steps.run::<()>("2", FIRST_VISIT[0].1, || Err(e.into()));
            None
        }
        None => first_visit(
            &mut steps,
            &mut browser,
            &mut url,
            options,
            reissue,
            expected_username.as_deref(),
        ),
    };
    steps.skip_rest(&FIRST_VISIT);
    if let Some((_, name)) = &signed_in {
        username = name.clone();
    }

    // 5-6: Register and the biometric check.
    let step5_page = signed_in.map(|(page, _)| page);
    let created = steps.then(
        "5",
        "Register",
        facts.as_ref().zip(step5_page),
        |(facts, page)| register(device, facts, &mut browser, &page, options),
    );
    let next = steps.then(
        "6",
        "biometrics (UV) verified by the site",
        created,
        |created| finish_registration(&mut browser, created, &mut registration),
    );
    // 7. Label.
    let label_done = steps.then("7", "label (filled in by the site)", next, |next| {
        label(&mut browser, &next, &mut registration)
    });
    // 8. 処理が完了しました.
    steps.then("8", "処理が完了しました", label_done, |page| {
        complete(&page)
    });

    // The second scan: Sign In instead of Register.
    if options.second_scan {
        browser.clear_cookies();
        let page = visit(
            &mut steps,
            &mut browser,
            &url,
            options,
            expected_username.as_deref(),
        );
        steps.skip_rest(&SECOND_VISIT);
        let asserted = steps.then(
            "2.5",
            "second scan: button reads Sign In",
            facts.as_ref().zip(page),
            |(facts, page)| authenticate(device, facts, &mut browser, &page, options),
        );
        let next = steps.then("2.6", "second scan: sign-in verified", asserted, |a| {
            finish_sign_in(&mut browser, a, &mut sign_in)
        });
        steps.then(
            "2.8",
            "second scan: 処理が完了しました",
            next,
            |next| {
                let page = browser.open(&next)?;
                complete(&page)
            },
        );
    } else {
        steps.skip(
            "2.5",
            "second scan: button reads Sign In",
            "--no-second-scan",
        );
    }

    let failed_step = steps
        .list
        .iter()
        .find(|s| s.status == Status::Fail)
        .map(|s| s.id.clone());
    Report {
        schema: SCHEMA,
        device: options.device_name.clone(),
        device_description: device.ctap.device_mut().describe(),
        device_model: device.model.clone(),
        site: origin,
        policy: options.policy.clone(),
        username,
        passed: failed_step.is_none(),
        failed_step,
        steps: steps.list,
        registration,
        sign_in,
        total_millis: started.elapsed().as_millis() as u64,
    }
}

// ---- step 1 --------------------------------------------------------------------------------

fn device_facts<D: CtapDevice>(device: &mut DeviceUnderTest<D>) -> StepResult<DeviceFacts> {
    let ctap2 = device.ctap.device_mut().capabilities() & crate::ctaphid::capability::CBOR != 0;
    if !ctap2 {
        return Ok((
            DeviceFacts {
                info: None,
                platform: device.platform,
            },
            "CTAP1/U2F only (no CTAP2): it cannot verify the user; the site will refuse it at step 5"
                .into(),
        ));
    }
    let info = device.ctap.get_info().map_err(|e| device_failure(&e))?;
    let model = model_name(&info.aaguid)
        .map(str::to_string)
        .or_else(|| device.model.clone());
    if device.model.is_none() {
        device.model = model.clone();
    }
    let platform = device.platform || info.option("plat") == Some(true);
    let uv = match info.option("uv") {
        Some(true) => "built-in (biometrics), enrolled",
        Some(false) => "built-in, none enrolled",
        None => "none built in",
    };
    let pin = match info.option("clientPin") {
        Some(true) => "PIN set",
        Some(false) => "PIN not set",
        None => "no PIN support",
    };
    let detail = format!(
        "{}; AAGUID {}{}; user verification {uv}; {pin}; {}",
        info.versions.join(","),
        info.aaguid,
        model.map(|m| format!(" ({m})")).unwrap_or_default(),
        if platform {
            "platform authenticator"
        } else {
            "roaming (cross-platform) authenticator"
        }
    );
    Ok((
        DeviceFacts {
            info: Some(info),
            platform,
        },
        detail,
    ))
}

fn device_failure(e: &ClientError) -> Failure {
    match e {
        ClientError::Transport(t) => Failure::device(
            format!("the authenticator stopped answering: {t}"),
            Some(guidance::DEVICE_GONE),
        ),
        ClientError::NonCanonical(_) | ClientError::Decode(_) | ClientError::EmptyAnswer => {
            Failure::device(
                format!("the authenticator's answer is malformed: {e}"),
                Some(guidance::MALFORMED),
            )
        }
        other => Failure::device(
            format!("the authenticator failed: {other}"),
            Some(guidance::DEVICE_GONE),
        ),
    }
}

// ---- steps 2-4 -----------------------------------------------------------------------------

/// Steps 2-4 of the first scan (the lockout rehearsal, 3a, comes and goes with the option).
const FIRST_VISIT: [(&str, &str); 3] = [
    ("2", "open the registration URL (QR code)"),
    ("3", "password"),
    ("4", "SignIn (username pre-filled)"),
];

/// Steps 2-4 of the second scan.
const SECOND_VISIT: [(&str, &str); 3] = [
    ("2.2", "second scan: open the URL"),
    ("2.3", "second scan: password"),
    ("2.4", "second scan: SignIn"),
];

/// Steps 2-4 of the first scan, with the lockout rehearsal; returns the step-5 page and the
/// username used.
fn first_visit(
    steps: &mut Steps<'_>,
    browser: &mut Browser,
    url: &mut String,
    options: &EnrollOptions,
    reissue: Option<&mut dyn FnMut() -> Result<String, String>>,
    expected_username: Option<&str>,
) -> Option<(Page, String)> {
    let page = steps.run("2", FIRST_VISIT[0].1, || open_url(browser, url))?;
    let page = if options.wrong_passwords > 0 {
        let outcome = steps.run("3a", "wrong passwords (lockout rehearsal)", || {
            rehearse_lockout(browser, url, page, options, reissue)
        })?;
        match outcome {
            Some(page) => page,
            None => {
                steps.stopped =
                    Some("lockout rehearsal: the URL is now invalid; re-issue it to go on".into());
                return None;
            }
        }
    } else {
        page
    };
    let page = steps.run("3", FIRST_VISIT[1].1, || {
        password(browser, &page, &options.password)
    })?;
    steps.run("4", FIRST_VISIT[2].1, || {
        sign_in(browser, &page, expected_username)
    })
}

/// Steps 2.2-2.4 of the second scan.
fn visit(
    steps: &mut Steps<'_>,
    browser: &mut Browser,
    url: &str,
    options: &EnrollOptions,
    expected_username: Option<&str>,
) -> Option<Page> {
    let page = steps.run("2.2", SECOND_VISIT[0].1, || open_url(browser, url))?;
    let page = steps.run("2.3", SECOND_VISIT[1].1, || {
        password(browser, &page, &options.password)
    })?;
    steps
        .run("2.4", SECOND_VISIT[2].1, || {
            sign_in(browser, &page, expected_username)
        })
        .map(|(page, _)| page)
}

fn open_url(browser: &mut Browser, url: &str) -> StepResult<Page> {
    let page = browser.open(url)?;
    if !page.has("password") {
        return Err(Failure::new(
            format!(
                "the site did not show the password screen (HTTP {}{})",
                page.status,
                page.text("error")
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            Some(guidance::URL_INVALID),
        ));
    }
    Ok((page, format!("password screen shown (HTTP {})", 200)))
}

fn submit_password(browser: &mut Browser, page: &Page, password: &str) -> Result<Page, Failure> {
    let mut form = page.form_of("password-submit").ok_or_else(|| {
        Failure::new(
            "the password screen has no form with #password-submit",
            None,
        )
    })?;
    form.set(
        &page
            .attr("password", "name")
            .unwrap_or_else(|| "password".into()),
        password,
    );
    Ok(browser.submit(&form)?)
}

/// A password that is surely wrong.
fn wrong_password(right: &str) -> String {
    if right == "00000000" {
        "11111111".into()
    } else {
        "00000000".into()
    }
}

/// Enters `options.wrong_passwords` wrong passwords; each must be refused. From the fifth on,
/// the right one must be refused too (the URL is invalid); then the office re-issues the URL
/// when it can (`reissue`), and the flow goes on with the new one. `None`: the URL is locked and
/// nothing can re-issue it.
fn rehearse_lockout(
    browser: &mut Browser,
    url: &mut String,
    mut page: Page,
    options: &EnrollOptions,
    reissue: Option<&mut dyn FnMut() -> Result<String, String>>,
) -> StepResult<Option<Page>> {
    let wrong = wrong_password(&options.password);
    let mut refusal = None;
    for attempt in 1..=options.wrong_passwords {
        page = submit_password(browser, &page, &wrong)?;
        if !page.has("password") || !page.has("error") {
            return Err(Failure::new(
                format!(
                    "wrong password {attempt} was not refused: the site moved on (HTTP {})",
                    page.status
                ),
                Some("security rule broken: a wrong password must be refused"),
            ));
        }
        let text = page.text("error").unwrap_or_default();
        match &refusal {
            None => refusal = Some(text),
            Some(first) if *first != text => {
                return Err(Failure::new(
                    format!("wrong password {attempt} was answered differently ({text:?} vs {first:?}): the answers must not tell the cases apart"),
                    None,
                ))
            }
            Some(_) => {}
        }
    }
    let n = options.wrong_passwords;
    if n < crate::enrollment::MAX_PASSWORD_ATTEMPTS {
        return Ok((
            Some(page),
            format!("{n} wrong password(s) refused alike; the URL still works"),
        ));
    }
    let after = submit_password(browser, &page, &options.password)?;
    if !after.has("password") || after.text("error") != refusal {
        return Err(Failure::new(
            format!("after {n} wrong passwords the right password was not refused like a wrong one: the URL was not invalidated"),
            Some("security rule broken: 5 wrong passwords must invalidate the URL"),
        ));
    }
    let mut detail = format!(
        "{n} wrong passwords refused alike; then the right password was refused too: the URL is invalidated"
    );
    let Some(reissue) = reissue else {
        return Ok((None, detail));
    };
    let new_url = reissue().map_err(|e| Failure::new(format!("re-issue failed: {e}"), None))?;
    browser.clear_cookies();
    let old = browser.open(url)?;
    let old_after = submit_password(browser, &old, &options.password)?;
    if !old_after.has("error") {
        return Err(Failure::new(
            "the old URL still accepts the password after the re-issue",
            Some("security rule broken: a re-issued URL supersedes the old one"),
        ));
    }
    *url = new_url;
    browser.clear_cookies();
    let (page, _) = open_url(browser, url)?;
    detail.push_str("; the office re-issued the URL (the old one stays invalid) and the flow goes on with the new one");
    Ok((Some(page), detail))
}

fn password(browser: &mut Browser, page: &Page, password: &str) -> StepResult<Page> {
    let next = submit_password(browser, page, password)?;
    if next.has("error") || !next.has("username") {
        return Err(Failure::new(
            format!(
                "the site refused the password{}",
                next.text("error")
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            Some(guidance::URL_INVALID),
        ));
    }
    Ok((next, "accepted; SignIn screen shown".into()))
}

fn sign_in(
    browser: &mut Browser,
    page: &Page,
    expected: Option<&str>,
) -> StepResult<(Page, String)> {
    let prefilled = page.attr("username", "value").unwrap_or_default();
    let username = match (prefilled.is_empty(), expected) {
        (false, Some(e)) if prefilled != e => {
            return Err(Failure::new(
                format!("Username pre-filled with {prefilled:?}, expected {e:?}"),
                Some("the ID to type is <pharmacist registry number>-jpa"),
            ))
        }
        (false, _) => prefilled.clone(),
        (true, Some(e)) => e.to_string(),
        (true, None) => {
            return Err(Failure::new(
                "the Username field is empty and the registry number is unknown",
                Some("pass --registry-number: the ID to type is <registry number>-jpa"),
            ))
        }
    };
    let mut form = page
        .form_of("signin")
        .ok_or_else(|| Failure::new("the SignIn screen has no form with #signin", None))?;
    form.set(
        &page
            .attr("username", "name")
            .unwrap_or_else(|| "username".into()),
        &username,
    );
    let next = browser.submit(&form)?;
    if !(next.has("register") || next.has("sign-in")) {
        return Err(Failure::new(
            format!(
                "SignIn did not lead to the step-5 screen (HTTP {}){}",
                next.status,
                next.text("error").map(|e| format!(": {e}")).unwrap_or_default()
            ),
            next.attr("error", "data-code")
                .filter(|c| c == "second-certificate-revoked")
                .map(|_| "the second certificate is revoked: mobile sign-in is not possible; use HPKI card authentication"),
        ));
    }
    let how = if prefilled.is_empty() {
        "typed by hand"
    } else {
        "pre-filled"
    };
    Ok(((next, username.clone()), format!("{username} ({how})")))
}

// ---- step 5-6: registration ----------------------------------------------------------------

/// What the authenticator produced, waiting to be posted to the site's finish endpoint.
struct Answer<R> {
    finish: String,
    csrf: String,
    response: R,
}

/// Posts `answer` as the page's script does; returns the page the site sends the browser to
/// next. A refusal carries the site's code and message, and the flags the site saw.
fn post_answer<R: serde::Serialize>(
    browser: &mut Browser,
    answer: &Answer<R>,
    seen: Option<&CeremonySeen>,
) -> Result<String, Failure> {
    let body = serde_json::to_value(&answer.response)
        .map_err(|e| Failure::new(format!("cannot encode the response: {e}"), None))?;
    let (status, reply) = browser.post_json(&answer.finish, &answer.csrf, &body)?;
    if status != 200 {
        let mut failure = site_refusal(status, &reply);
        if let Some(seen) = seen {
            failure
                .detail
                .push_str(&format!(" [flags {}]", seen.flags()));
        }
        return Err(failure);
    }
    let next = reply["next"]
        .as_str()
        .ok_or_else(|| Failure::new("the site accepted but did not say where to go next", None))?;
    super::browser::resolve(&format!("{}/", browser.origin()), next).ok_or_else(|| {
        Failure::new(
            format!("the site's next page {next:?} is not on the site"),
            None,
        )
    })
}

fn options_from_site(
    browser: &mut Browser,
    page: &Page,
    button: &str,
) -> Result<(Value, String, String), Failure> {
    let csrf = page
        .meta("csrf-token")
        .ok_or_else(|| Failure::new("the step-5 page has no csrf-token meta", None))?;
    let options_path = page
        .attr(button, "data-options")
        .ok_or_else(|| Failure::new(format!("#{button} has no data-options"), None))?;
    let finish = page
        .attr(button, "data-finish")
        .ok_or_else(|| Failure::new(format!("#{button} has no data-finish"), None))?;
    let (status, options) = browser.post_json(&options_path, &csrf, &json!({}))?;
    if status != 200 {
        return Err(site_refusal(status, &options));
    }
    Ok((options, finish, csrf))
}

fn site_refusal(status: u16, answer: &Value) -> Failure {
    let code = answer["error"].as_str().unwrap_or("?");
    let message = answer["message"].as_str().unwrap_or("(no message)");
    let guidance = match code {
        "second-certificate-revoked" => {
            Some("the second certificate is revoked: use HPKI card authentication")
        }
        "attachment-not-allowed" => Some(guidance::NOT_PLATFORM),
        _ => Some(guidance::SITE_REFUSED),
    };
    let detail = format!("the site refused (HTTP {status}, {code}): {message}");
    match code {
        // Refusals of what the authenticator produced.
        "verification-failed"
        | "attachment-not-allowed"
        | "credential-exists"
        | "unknown-credential" => Failure::device(detail, guidance),
        _ => Failure::new(detail, guidance),
    }
}

fn capabilities(info: Option<&GetInfoResponse>) -> AuthenticatorCapabilities {
    info.map(AuthenticatorCapabilities::from_info)
        .unwrap_or_default()
}

fn options_failure(e: OptionsError) -> Failure {
    Failure::new(
        format!("the site's WebAuthn options are not usable: {e}"),
        Some("a browser would refuse these options too: fix the site"),
    )
}

/// A pinUvAuthToken when the device verifies the user with a PIN (no built-in UV), as a
/// browser asks for the PIN (or to create one) before makeCredential / getAssertion.
fn pin_token<D: CtapDevice>(
    ctap: &mut Ctap2<D>,
    info: Option<&GetInfoResponse>,
    pin: Option<&str>,
    rp_id: &str,
    uv: bool,
) -> Result<Option<PinUvAuthToken>, Failure> {
    let Some(info) = info else { return Ok(None) };
    if !uv || info.option("uv") == Some(true) {
        return Ok(None);
    }
    // The PIN state now (an earlier ceremony may have set it), as a browser asks before each.
    let fresh = ctap.get_info().map_err(|e| device_failure(&e))?;
    let info = &fresh;
    let protocol = info.preferred_pin_protocol();
    let ctap21 = info.supports_version("FIDO_2_1");
    match (info.option("clientPin"), pin) {
        (Some(true), Some(_)) => {}
        (Some(true), None) => return Err(Failure::new(
            "the key verifies the user with its PIN, and no PIN was given",
            Some("pass the key's PIN with --pin (or CTAPKIT_PIN), as the browser would ask for it"),
        )),
        (Some(false), Some(pin)) => {
            ctap.set_pin(protocol, pin)
                .map_err(|e| device_failure(&e))?;
        }
        _ => return Ok(None),
    }
    let pin = pin.unwrap_or_default();
    ctap.pin_token(
        protocol,
        pin,
        permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
        Some(rp_id),
        ctap21,
    )
    .map(Some)
    .map_err(|e| {
        Failure::new(
            format!("the PIN was refused: {e}"),
            Some("check the PIN (--pin)"),
        )
    })
}

/// The manual's reading of what the client or device refused at step 5.
fn ceremony_failure(e: &PlatformError) -> Failure {
    let detail = format!("Security Key Error ({e})");
    let guidance = match e {
        PlatformError::UvUnavailable => guidance::NOT_FIDO2,
        PlatformError::Authenticator(ClientError::Transport(_)) => guidance::DEVICE_GONE,
        PlatformError::Authenticator(ClientError::Status(s)) => match *s {
            StatusCode::UNSUPPORTED_OPTION
            | StatusCode::INVALID_OPTION
            | StatusCode::PIN_NOT_SET
            | StatusCode::PUAT_REQUIRED
            | StatusCode::UV_BLOCKED
            | StatusCode::UV_INVALID => guidance::NO_BIOMETRICS,
            StatusCode::OPERATION_DENIED
            | StatusCode::USER_ACTION_TIMEOUT
            | StatusCode::KEEPALIVE_CANCEL => guidance::USER_DENIED,
            _ => guidance::NOT_FIDO2,
        },
        PlatformError::Authenticator(_) => guidance::MALFORMED,
        _ => guidance::NOT_FIDO2,
    };
    Failure::device(detail, Some(guidance))
}

/// Tells the site the ceremony failed in the browser, as the page does.
fn report_client_error(browser: &mut Browser, csrf: &str, name: &str, message: &str) {
    let _ = browser.post_json(
        "/webauthn/client-error",
        csrf,
        &json!({"name": name, "message": message}),
    );
}

fn register<D: CtapDevice>(
    device: &mut DeviceUnderTest<D>,
    facts: &DeviceFacts,
    browser: &mut Browser,
    page: &Page,
    options: &EnrollOptions,
) -> StepResult<Answer<RegistrationResponseJson>> {
    if !page.has("register") {
        return Err(Failure::new(
            format!(
                "the step-5 button reads {:?}, not Register: the applicant already has a credential",
                page.text("sign-in").unwrap_or_default()
            ),
            Some("delete the registered credential (`ctapkit site credential delete`) to rehearse enrolment, or run the second scan"),
        ));
    }
    let (json, finish, csrf) = options_from_site(browser, page, "register")?;
    if json["authenticatorSelection"]["authenticatorAttachment"].as_str() == Some("platform")
        && !facts.platform
    {
        report_client_error(
            browser,
            &csrf,
            "NotAllowedError",
            "no platform authenticator",
        );
        return Err(Failure::device(
            "Security Key Error: the site asks for the device's own authenticator (authenticatorAttachment \"platform\"); this is a roaming key, which the browser does not offer",
            Some(guidance::NOT_PLATFORM),
        ));
    }
    let create =
        CreateOptions::from_json(&json, browser.origin(), capabilities(facts.info.as_ref()))
            .map_err(options_failure)?;
    let token = pin_token(
        &mut device.ctap,
        facts.info.as_ref(),
        options.pin.as_deref(),
        &create.rp_id,
        create.user_verification_required,
    )?;
    let origin = browser.origin().to_string();
    let mut response = platform::create(&mut device.ctap, &origin, &create, token.as_ref())
        .map_err(|e| {
            report_client_error(browser, &csrf, "NotAllowedError", &e.to_string());
            ceremony_failure(&e)
        })?;
    response.authenticator_attachment = Some(facts.attachment().into());
    if response.response.transports.is_empty() {
        response.response.transports = facts
            .info
            .as_ref()
            .and_then(|i| i.transports.clone())
            .unwrap_or_else(|| {
                vec![if facts.platform {
                    "internal".into()
                } else {
                    "usb".into()
                }]
            });
    }
    Ok((
        Answer { finish, csrf, response },
        format!(
            "button Register; the authenticator created a credential ({} algorithm(s) offered, UV {})",
            create.algorithms.len(),
            if create.user_verification_required { "required" } else { "not asked" }
        ),
    ))
}

fn seen_from_auth_data(ad: &AuthenticatorData, credential_id: &[u8]) -> CeremonySeen {
    CeremonySeen {
        up: ad.flags.up(),
        uv: ad.flags.uv(),
        be: ad.flags.be(),
        bs: ad.flags.bs(),
        sign_count: ad.sign_count,
        credential_id: Base64Url(credential_id.to_vec()).encode(),
        ..CeremonySeen::default()
    }
}

fn finish_registration(
    browser: &mut Browser,
    created: Answer<RegistrationResponseJson>,
    seen: &mut Option<CeremonySeen>,
) -> StepResult<String> {
    if let Ok(object) =
        AttestationObject::from_bytes(&created.response.response.attestation_object.0)
    {
        let mut s = seen_from_auth_data(&object.auth_data, &created.response.raw_id.0);
        s.attestation_format = Some(object.fmt.clone());
        if let Some(acd) = &object.auth_data.attested_credential_data {
            s.algorithm = Some(acd.public_key.alg().name());
            s.aaguid = Some(acd.aaguid.to_string());
            s.model = model_name(&acd.aaguid).map(str::to_string);
        }
        *seen = Some(s);
    }
    let next = post_answer(browser, &created, seen.as_ref()).map_err(|mut failure| {
        if seen.as_ref().is_some_and(|s| !s.uv) {
            failure.guidance = Some(guidance::NO_BIOMETRICS.into());
        }
        failure
    })?;
    let flags = seen.as_ref().map(|s| s.flags()).unwrap_or_default();
    Ok((
        next,
        format!("the site verified the registration (flags {flags})"),
    ))
}

fn label(browser: &mut Browser, next: &str, seen: &mut Option<CeremonySeen>) -> StepResult<Page> {
    let page = browser.open(next)?;
    let value = page.attr("label", "value").unwrap_or_default();
    if !page.has("label-ok") {
        return Err(Failure::new(
            format!(
                "no label screen (HTTP {}){}",
                page.status,
                page.text("error")
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            None,
        ));
    }
    if value.trim().is_empty() {
        return Err(Failure::new(
            "the site did not fill in the label",
            Some("the manual says the system fills in the label"),
        ));
    }
    let form: Form = page
        .form_of("label-ok")
        .ok_or_else(|| Failure::new("the label screen has no form with #label-ok", None))?;
    let done = browser.submit(&form)?;
    if let Some(s) = seen.as_mut() {
        s.label = Some(value.clone());
    }
    Ok((done, format!("label {value:?}; OK")))
}

fn complete(page: &Page) -> StepResult<()> {
    match page.text("complete") {
        Some(text) if text.contains(COMPLETE) => Ok(((), format!("{text:?} shown"))),
        _ => Err(Failure::new(
            format!(
                "no completion message (HTTP {}){}",
                page.status,
                page.text("error")
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            None,
        )),
    }
}

// ---- second scan: sign-in ------------------------------------------------------------------

fn authenticate<D: CtapDevice>(
    device: &mut DeviceUnderTest<D>,
    facts: &DeviceFacts,
    browser: &mut Browser,
    page: &Page,
    options: &EnrollOptions,
) -> StepResult<Answer<AuthenticationResponseJson>> {
    if !page.has("sign-in") {
        return Err(Failure::new(
            "the step-5 button reads Register again: the site did not find the registered credential",
            Some("the second scan must run a sign-in (navigator.credentials.get), not a second registration"),
        ));
    }
    let text = page.text("sign-in").unwrap_or_default();
    if text != "Sign In" {
        return Err(Failure::new(
            format!("the button reads {text:?}, not \"Sign In\""),
            None,
        ));
    }
    let (json, finish, csrf) = options_from_site(browser, page, "sign-in")?;
    let get = GetOptions::from_json(&json, browser.origin(), capabilities(facts.info.as_ref()))
        .map_err(options_failure)?;
    let token = pin_token(
        &mut device.ctap,
        facts.info.as_ref(),
        options.pin.as_deref(),
        &get.rp_id,
        get.user_verification_required,
    )?;
    let origin = browser.origin().to_string();
    let mut response =
        platform::get(&mut device.ctap, &origin, &get, token.as_ref()).map_err(|e| {
            report_client_error(browser, &csrf, "NotAllowedError", &e.to_string());
            ceremony_failure(&e)
        })?;
    response.authenticator_attachment = Some(facts.attachment().into());
    Ok((
        Answer {
            finish,
            csrf,
            response,
        },
        "button Sign In; the authenticator signed the challenge".into(),
    ))
}

fn finish_sign_in(
    browser: &mut Browser,
    asserted: Answer<AuthenticationResponseJson>,
    seen: &mut Option<CeremonySeen>,
) -> StepResult<String> {
    if let Ok(ad) = AuthenticatorData::from_bytes(&asserted.response.response.authenticator_data.0)
    {
        *seen = Some(seen_from_auth_data(&ad, &asserted.response.raw_id.0));
    }
    let next = post_answer(browser, &asserted, seen.as_ref())?;
    let flags = seen.as_ref().map(|s| s.flags()).unwrap_or_default();
    Ok((
        next,
        format!(
            "the site verified the sign-in (flags {flags}, sign count {})",
            seen.as_ref().map(|s| s.sign_count).unwrap_or(0)
        ),
    ))
}
