//! The HTTP side of the site: routes, handlers, cookies, CSRF, security headers and body
//! limits. Every handler either answers a page (HTML) or, under `/webauthn/`, JSON; refusals
//! carry a [`SiteError`] code.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::error::SiteError;
use super::label::automatic_label;
use super::pages;
use super::session::{
    Ceremony, PendingChallenge, Session, Sessions, Stage, COOKIE_NAME, IDLE_TIMEOUT,
};
use super::SiteConfig;
use crate::enrollment::{
    now, Applicant, CertificateStatus, EnrolledCredential, PasswordOutcome, Store,
};
use crate::webauthn::authentication::{verify_authentication, AssertionExpectations};
use crate::webauthn::{
    verify_registration, AuthenticationResponseJson, Base64Url, CredentialRecord, Policy,
    RegistrationResponseJson,
};

/// Largest request body accepted (a registration response is a few kilobytes).
pub const MAX_BODY: usize = 64 * 1024;

/// The Content-Security-Policy of every answer: our own script and style only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct AppState {
    config: SiteConfig,
    verification: Policy,
    store: Arc<dyn Store>,
    sessions: Sessions,
}

type Shared = Arc<AppState>;

/// The site's routes over `store`.
pub fn router(config: SiteConfig, store: Arc<dyn Store>) -> Router {
    let verification = config
        .policy
        .verification_policy(&config.rp_id, &config.origin);
    let state = Arc::new(AppState {
        config,
        verification,
        store,
        sessions: Sessions::default(),
    });
    Router::new()
        .route("/", get(home))
        .route("/r/{token}", get(password_page).post(password_submit))
        .route("/signin", get(sign_in_page).post(sign_in_submit))
        .route("/step5", get(step5_page))
        .route("/label", get(label_page).post(label_submit))
        .route("/complete", get(complete_page))
        .route("/webauthn/register/options", post(register_options))
        .route("/webauthn/register/finish", post(register_finish))
        .route("/webauthn/authenticate/options", post(authenticate_options))
        .route("/webauthn/authenticate/finish", post(authenticate_finish))
        .route("/webauthn/client-error", post(client_error))
        .route("/static/site.js", get(script))
        .route("/static/site.css", get(stylesheet))
        .route("/favicon.ico", get(favicon))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The registration URL carries the token: never send it to another site in a Referer.
    // Not `no-referrer`: under it browsers send `Origin: null` with the site's own form posts,
    // which `check_origin` (rightly) refuses.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

// ---- answers -------------------------------------------------------------------------------

/// A refusal of the site, answered as the error screen with `#error` (`JSON == false`) or as
/// `{"error": code, "message": text}` (`JSON == true`).
struct Refusal<const JSON: bool>(SiteError);

/// A refusal of a page request.
type PageError = Refusal<false>;
/// A refusal of a JSON request.
type ApiError = Refusal<true>;

impl<const JSON: bool> From<SiteError> for Refusal<JSON> {
    fn from(e: SiteError) -> Self {
        Refusal(e)
    }
}

impl<const JSON: bool> IntoResponse for Refusal<JSON> {
    fn into_response(self) -> Response {
        let e = self.0;
        log_internal(&e);
        if JSON {
            json_answer(
                e.status(),
                &json!({"error": e.code(), "message": e.public_message()}),
            )
        } else {
            html(e.status(), pages::error(e.code(), &e.public_message()))
        }
    }
}

fn log_internal(e: &SiteError) {
    if let SiteError::Internal(detail) = e {
        eprintln!("site: internal error: {detail}");
    }
}

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn set_cookie(config: &SiteConfig, id: &str) -> String {
    let secure = if config.origin.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        IDLE_TIMEOUT.as_secs()
    )
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

// ---- request checks ------------------------------------------------------------------------

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

fn session(state: &AppState, headers: &HeaderMap) -> Result<(String, Session), SiteError> {
    let id = session_id(headers).ok_or(SiteError::NoSession)?;
    let session = state.sessions.get(&id).ok_or(SiteError::NoSession)?;
    Ok((id, session))
}

/// A state-changing request must come from the site itself (Origin, Fetch Metadata).
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), SiteError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        if origin.as_bytes() != state.config.origin.as_bytes() {
            return Err(SiteError::BadOrigin);
        }
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if site.as_bytes() == b"cross-site" || site.as_bytes() == b"same-site" {
            return Err(SiteError::BadOrigin);
        }
    }
    Ok(())
}

fn check_csrf(session: &Session, presented: &str) -> Result<(), SiteError> {
    aws_lc_rs::constant_time::verify_slices_are_equal(session.csrf.as_bytes(), presented.as_bytes())
        .map_err(|_| SiteError::Csrf)
}

fn csrf_header(headers: &HeaderMap) -> &str {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, SiteError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            SiteError::BodyTooLarge
        } else {
            SiteError::Malformed(e.body_text())
        }
    })
}

fn form<T: serde::de::DeserializeOwned>(
    raw: Result<Bytes, BytesRejection>,
) -> Result<T, SiteError> {
    let bytes = body(raw)?;
    serde_urlencoded::from_bytes(&bytes).map_err(|e| SiteError::Malformed(e.to_string()))
}

fn json_body<T: serde::de::DeserializeOwned>(
    raw: Result<Bytes, BytesRejection>,
) -> Result<T, SiteError> {
    let bytes = body(raw)?;
    serde_json::from_slice(&bytes).map_err(|e| SiteError::MalformedJson(e.to_string()))
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SiteError> + Send + 'static,
) -> Result<T, SiteError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SiteError::Internal(e.to_string()))?
}

fn audit(state: &Shared, action: &'static str, applicant: Option<i64>, detail: String) {
    if let Err(e) = state
        .store
        .audit("applicant", action, applicant, &detail, now())
    {
        eprintln!("site: cannot write the audit trail: {e}");
    }
}

/// The signed-in applicant, fresh from the store, refused when the second certificate is
/// revoked.
fn usable_applicant(state: &Shared, registry_number: &str) -> Result<Applicant, SiteError> {
    let applicant = state.store.applicant(registry_number)?;
    if applicant.second_certificate == CertificateStatus::Revoked {
        audit(
            state,
            "signin.refused",
            Some(applicant.id),
            "second certificate revoked".into(),
        );
        return Err(SiteError::SecondCertificateRevoked);
    }
    Ok(applicant)
}

// ---- pages ---------------------------------------------------------------------------------

async fn home() -> Response {
    html(StatusCode::OK, pages::home())
}

async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::error("not-found", "ページが見つかりません (page not found)"),
    )
}

/// `GET /favicon.ico`: no icon, answered without a 404 (which browsers log as an error).
async fn favicon() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/site.js"),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/site.css"),
    )
        .into_response()
}

/// The token of `/r/{token}`; one that is not even UTF-8 is refused with a code, like any
/// other malformed request (not axum's bare-text answer).
fn token(path: Result<Path<String>, PathRejection>) -> Result<String, SiteError> {
    path.map(|Path(token)| token)
        .map_err(|e| SiteError::Malformed(e.body_text()))
}

/// `GET /r/{token}`: the password screen, the same for every token (valid or not), so that a
/// visit tells nothing about the URL.
async fn password_page(
    State(state): State<Shared>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let token = token(path)?;
    let (id, session) = state.sessions.create(Stage::Anonymous);
    let page = pages::password(&format!("/r/{token}"), &session.csrf, None);
    Ok(with_cookie(
        html(StatusCode::OK, page),
        &set_cookie(&state.config, &id),
    ))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn password_submit(
    State(state): State<Shared>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let token = token(path)?;
    let form: PasswordForm = form(raw)?;
    let (id, session) = session(&state, &headers)?;
    check_csrf(&session, &form.csrf)?;
    // Every password answer takes the same time, whatever the store did (a wrong password
    // updates a counter, an unknown URL does not): timing tells the cases apart no more than
    // the words do.
    let answer_at = tokio::time::Instant::now() + state.config.password_answer_time;
    let store = state.clone();
    let token_for_store = token.clone();
    let outcome = blocking(move || {
        Ok(store
            .store
            .check_password(&token_for_store, &form.password, now())?)
    })
    .await;
    tokio::time::sleep_until(answer_at).await;
    match outcome? {
        PasswordOutcome::Accepted(applicant) => {
            // A new session ID once the applicant is known (no session fixation).
            state.sessions.remove(&id);
            let (new_id, _) = state.sessions.create(Stage::PasswordAccepted {
                applicant_id: applicant.id,
                registry_number: applicant.registry_number,
            });
            Ok(with_cookie(
                redirect("/signin"),
                &set_cookie(&state.config, &new_id),
            ))
        }
        PasswordOutcome::Refused => {
            let page = pages::password(
                &format!("/r/{token}"),
                &session.csrf,
                Some(("password-refused", pages::PASSWORD_REFUSED)),
            );
            Ok(html(StatusCode::OK, page))
        }
    }
}

async fn sign_in_page(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, session) = session(&state, &headers)?;
    match &session.stage {
        Stage::PasswordAccepted {
            registry_number, ..
        }
        | Stage::SignedIn {
            registry_number, ..
        } => Ok(html(
            StatusCode::OK,
            pages::sign_in(&session.csrf, &format!("{registry_number}-jpa"), None),
        )),
        _ => Err(SiteError::WrongStep.into()),
    }
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    csrf: String,
}

async fn sign_in_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let form: SignInForm = form(raw)?;
    let (id, session) = session(&state, &headers)?;
    check_csrf(&session, &form.csrf)?;
    let (applicant_id, registry_number) = match &session.stage {
        Stage::PasswordAccepted {
            applicant_id,
            registry_number,
        }
        | Stage::SignedIn {
            applicant_id,
            registry_number,
        } => (*applicant_id, registry_number.clone()),
        _ => return Err(SiteError::WrongStep.into()),
    };
    let expected = format!("{registry_number}-jpa");
    if !form.username.trim().eq_ignore_ascii_case(&expected) {
        let s = state.clone();
        blocking(move || {
            audit(
                &s,
                "signin.refused",
                Some(applicant_id),
                "wrong username".into(),
            );
            Ok(())
        })
        .await?;
        // As on the real site, the field is empty after an error.
        let page = pages::sign_in(
            &session.csrf,
            "",
            Some(("wrong-username", "Username が正しくありません。「薬剤師名簿登録番号-jpa」を入力してください。 (Wrong username: enter your registry number followed by -jpa.)")),
        );
        return Ok(html(StatusCode::OK, page));
    }
    state.sessions.update(&id, |s| {
        s.stage = Stage::SignedIn {
            applicant_id,
            registry_number,
        }
    });
    Ok(redirect("/step5"))
}

async fn step5_page(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, session) = session(&state, &headers)?;
    let Stage::SignedIn {
        applicant_id,
        registry_number,
    } = session.stage.clone()
    else {
        return Err(SiteError::WrongStep.into());
    };
    let s = state.clone();
    let (applicant, has_credential) = blocking(move || {
        let applicant = usable_applicant(&s, &registry_number)?;
        let credentials = s.store.credentials(applicant_id)?;
        Ok((applicant, !credentials.is_empty()))
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        pages::step5(&session.csrf, &applicant.name, !has_credential),
    ))
}

async fn label_page(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, session) = session(&state, &headers)?;
    let Stage::Registered {
        applicant_id,
        credential_id,
        ..
    } = session.stage.clone()
    else {
        return Err(SiteError::WrongStep.into());
    };
    let s = state.clone();
    let label = blocking(move || {
        Ok(s.store
            .credentials(applicant_id)?
            .into_iter()
            .find(|c| c.credential_id == credential_id)
            .map(|c| c.label)
            .unwrap_or_default())
    })
    .await?;
    Ok(html(
        StatusCode::OK,
        pages::label(&session.csrf, &label, None),
    ))
}

#[derive(Deserialize)]
struct LabelForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    csrf: String,
}

/// A label the applicant may set: 1–64 characters, no control characters.
fn valid_label(label: &str) -> Option<String> {
    let label = label.trim();
    let count = label.chars().count();
    ((1..=64).contains(&count) && !label.chars().any(char::is_control)).then(|| label.to_string())
}

async fn label_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let form: LabelForm = form(raw)?;
    let (id, session) = session(&state, &headers)?;
    check_csrf(&session, &form.csrf)?;
    let Stage::Registered {
        applicant_id,
        credential_id,
        ..
    } = session.stage.clone()
    else {
        return Err(SiteError::WrongStep.into());
    };
    let Some(label) = valid_label(&form.label) else {
        let page = pages::label(
            &session.csrf,
            &form.label,
            Some((SiteError::BadLabel.code(), &SiteError::BadLabel.to_string())),
        );
        return Ok(html(StatusCode::BAD_REQUEST, page));
    };
    let s = state.clone();
    blocking(move || Ok(s.store.set_label(&credential_id, &label, now())?)).await?;
    state.sessions.update(&id, |s| {
        s.stage = Stage::Complete {
            applicant_id,
            signed_in: false,
        }
    });
    Ok(redirect("/complete"))
}

async fn complete_page(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, session) = session(&state, &headers)?;
    match session.stage {
        Stage::Complete { signed_in, .. } => Ok(html(StatusCode::OK, pages::complete(signed_in))),
        _ => Err(SiteError::WrongStep.into()),
    }
}

// ---- WebAuthn JSON endpoints ---------------------------------------------------------------

/// The checks every JSON endpoint makes: origin, session, CSRF header.
fn api_session(state: &AppState, headers: &HeaderMap) -> Result<(String, Session), SiteError> {
    check_origin(state, headers)?;
    let (id, session) = session(state, headers)?;
    check_csrf(&session, csrf_header(headers))?;
    Ok((id, session))
}

/// [`api_session`] for an applicant at step 5 (SignIn passed): the session ID, the
/// applicant's ID and registry number.
fn api_signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, i64, String), SiteError> {
    let (id, session) = api_session(state, headers)?;
    match session.stage {
        Stage::SignedIn {
            applicant_id,
            registry_number,
        } => Ok((id, applicant_id, registry_number)),
        _ => Err(SiteError::WrongStep),
    }
}

/// WebAuthn L3 `hints`: "client-device" when the policy wants the phone's own authenticator.
fn hints(policy: &super::SitePolicy) -> serde_json::Value {
    if policy.attachment_option().is_some() {
        json!(["client-device"])
    } else {
        json!([])
    }
}

fn new_challenge(state: &AppState, id: &str, ceremony: Ceremony, allow: Vec<Vec<u8>>) -> Vec<u8> {
    let mut challenge = vec![0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut challenge);
    let pending = PendingChallenge {
        ceremony,
        challenge: challenge.clone(),
        allow,
        expires: Instant::now() + state.config.policy.timeout,
    };
    state.sessions.update(id, |s| s.pending = Some(pending));
    challenge
}

/// Takes the session's pending challenge for `ceremony` (single use, even when it fails).
fn take_challenge(
    state: &AppState,
    id: &str,
    ceremony: Ceremony,
) -> Result<PendingChallenge, SiteError> {
    let pending = state
        .sessions
        .take_pending(id)
        .ok_or(SiteError::NoChallenge)?;
    if pending.ceremony != ceremony {
        return Err(SiteError::NoChallenge);
    }
    if Instant::now() > pending.expires {
        return Err(SiteError::ChallengeExpired);
    }
    Ok(pending)
}

async fn register_options(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (id, applicant_id, registry_number) = api_signed_in(&state, &headers)?;
    let _: serde_json::Value = json_body(raw)?;
    let s = state.clone();
    let (applicant, existing) = blocking(move || {
        let applicant = usable_applicant(&s, &registry_number)?;
        Ok((applicant, s.store.credentials(applicant_id)?))
    })
    .await?;
    if !existing.is_empty() {
        // Step 5 reads "Sign In" for an applicant with a credential: no second registration.
        return Err(SiteError::WrongStep.into());
    }
    let challenge = new_challenge(&state, &id, Ceremony::Register, Vec::new());
    let policy = &state.config.policy;
    let mut selection = json!({
        "residentKey": "preferred",
        "requireResidentKey": false,
        "userVerification": policy.user_verification,
    });
    if let Some(attachment) = policy.attachment_option() {
        selection["authenticatorAttachment"] = json!(attachment);
    }
    let options = json!({
        "rp": {"id": state.config.rp_id, "name": state.config.rp_name},
        "user": {
            "id": Base64Url(applicant.user_handle.clone()).encode(),
            "name": applicant.username(),
            "displayName": applicant.name,
        },
        "challenge": Base64Url(challenge).encode(),
        "pubKeyCredParams": policy.algorithms.iter()
            .map(|a| json!({"type": "public-key", "alg": a.to_i64()}))
            .collect::<Vec<_>>(),
        "timeout": policy.timeout.as_millis() as u64,
        "excludeCredentials": [],
        "authenticatorSelection": selection,
        "attestation": "none",
        "hints": hints(policy),
        "extensions": {"credProps": true},
    });
    Ok(json_answer(StatusCode::OK, &options))
}

async fn register_finish(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (id, applicant_id, registry_number) = api_signed_in(&state, &headers)?;
    let pending = take_challenge(&state, &id, Ceremony::Register)?;
    let response: RegistrationResponseJson = json_body(raw)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let registered_number = registry_number.clone();
    let s = state.clone();
    let credential_id = blocking(move || {
        if s.config.policy.attachment_option().is_some()
            && response.authenticator_attachment.as_deref() != Some("platform")
        {
            let what = response
                .authenticator_attachment
                .clone()
                .unwrap_or_else(|| "an authenticator of unknown attachment".into());
            audit(
                &s,
                "registration.refused",
                Some(applicant_id),
                format!("attachment {what}"),
            );
            return Err(SiteError::Attachment(what));
        }
        let result =
            verify_registration(&s.verification, &pending.challenge, &response).map_err(|e| {
                audit(
                    &s,
                    "registration.refused",
                    Some(applicant_id),
                    e.to_string(),
                );
                SiteError::Verification(format!("{e}; {}", e.failure.hint()))
            })?;
        usable_applicant(&s, &registry_number)?;
        let record = &result.credential;
        let record_json =
            serde_json::to_string(record).map_err(|e| SiteError::Internal(e.to_string()))?;
        let at = now();
        let credential = EnrolledCredential {
            credential_id: record.id.0.clone(),
            applicant_id,
            record_json,
            alg: record.public_key.alg().to_i64(),
            sign_count: record.sign_count,
            aaguid: record.aaguid.to_string(),
            backup_eligible: record.backup_eligible,
            backup_state: record.backup_state,
            transports: record.transports.join(","),
            label: automatic_label(&record.aaguid, &user_agent, at),
            created_at: at,
            last_used_at: None,
        };
        s.store.add_credential(&credential, at)?;
        Ok(credential.credential_id)
    })
    .await?;
    state.sessions.update(&id, |s| {
        s.stage = Stage::Registered {
            applicant_id,
            registry_number: registered_number,
            credential_id,
        }
    });
    Ok(json_answer(
        StatusCode::OK,
        &json!({"status": "ok", "next": "/label"}),
    ))
}

async fn authenticate_options(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (id, applicant_id, registry_number) = api_signed_in(&state, &headers)?;
    let _: serde_json::Value = json_body(raw)?;
    let s = state.clone();
    let credentials = blocking(move || {
        usable_applicant(&s, &registry_number)?;
        Ok(s.store.credentials(applicant_id)?)
    })
    .await?;
    if credentials.is_empty() {
        return Err(SiteError::NoCredential.into());
    }
    let allow: Vec<Vec<u8>> = credentials
        .iter()
        .map(|c| c.credential_id.clone())
        .collect();
    let descriptors: Vec<_> = credentials
        .iter()
        .map(|c| {
            let transports: Vec<&str> = c.transports.split(',').filter(|t| !t.is_empty()).collect();
            json!({"type": "public-key", "id": Base64Url(c.credential_id.clone()).encode(), "transports": transports})
        })
        .collect();
    let challenge = new_challenge(&state, &id, Ceremony::SignIn, allow);
    let policy = &state.config.policy;
    let options = json!({
        "challenge": Base64Url(challenge).encode(),
        "timeout": policy.timeout.as_millis() as u64,
        "rpId": state.config.rp_id,
        "allowCredentials": descriptors,
        "userVerification": policy.user_verification,
        "hints": hints(policy),
    });
    Ok(json_answer(StatusCode::OK, &options))
}

async fn authenticate_finish(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (id, applicant_id, registry_number) = api_signed_in(&state, &headers)?;
    let pending = take_challenge(&state, &id, Ceremony::SignIn)?;
    let response: AuthenticationResponseJson = json_body(raw)?;
    let s = state.clone();
    blocking(move || {
        let applicant = usable_applicant(&s, &registry_number)?;
        let raw_id = response.raw_id.0.clone();
        if !pending.allow.contains(&raw_id) {
            audit(
                &s,
                "signin.refused",
                Some(applicant_id),
                "credential not offered".into(),
            );
            return Err(SiteError::UnknownCredential);
        }
        let stored = s
            .store
            .credentials(applicant_id)?
            .into_iter()
            .find(|c| c.credential_id == raw_id)
            .ok_or(SiteError::UnknownCredential)?;
        let mut record: CredentialRecord = serde_json::from_str(&stored.record_json)
            .map_err(|e| SiteError::Internal(format!("stored credential record: {e}")))?;
        let expected = AssertionExpectations {
            challenge: &pending.challenge,
            allow_credentials: &pending.allow,
            user_handle: Some(&applicant.user_handle),
        };
        let result = verify_authentication(&s.verification, &expected, &record, &response)
            .map_err(|e| {
                audit(&s, "signin.refused", Some(applicant_id), e.to_string());
                SiteError::Verification(format!("{e}; {}", e.failure.hint()))
            })?;
        record.update(&result);
        let record_json =
            serde_json::to_string(&record).map_err(|e| SiteError::Internal(e.to_string()))?;
        s.store.record_sign_in(
            &raw_id,
            result.sign_count,
            result.flags.bs(),
            &record_json,
            now(),
        )?;
        Ok(())
    })
    .await?;
    state.sessions.update(&id, |s| {
        s.stage = Stage::Complete {
            applicant_id,
            signed_in: true,
        }
    });
    Ok(json_answer(
        StatusCode::OK,
        &json!({"status": "ok", "next": "/complete"}),
    ))
}

#[derive(Deserialize)]
struct ClientErrorReport {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

/// `POST /webauthn/client-error`: the page reports a ceremony that failed in the browser
/// (audited as a refused attempt).
async fn client_error(
    State(state): State<Shared>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (_, session) = api_session(&state, &headers)?;
    let report: ClientErrorReport = json_body(raw)?;
    let applicant = session.stage.signed_in().map(|(id, _)| id);
    let detail: String = format!("{}: {}", report.name, report.message)
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    let s = state.clone();
    blocking(move || {
        audit(&s, "ceremony.client-error", applicant, detail);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
