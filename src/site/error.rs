//! What the site refuses, each with a stable machine-readable code and HTTP status. Pages show
//! the applicant's wording; JSON endpoints answer `{"error": code, "message": ..}`.

use axum::http::StatusCode;

/// One refusal of the site.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// No live session (never started, expired, or the server restarted).
    #[error("your session has ended: scan the QR code (open the registration URL) again")]
    NoSession,
    /// The request is not allowed at this point of the flow.
    #[error("this step is not available now: start again from the registration URL")]
    WrongStep,
    /// The CSRF token is missing or wrong.
    #[error("the form has expired: reload the page and try again")]
    Csrf,
    /// The request came from another origin.
    #[error("request refused: it did not come from this site")]
    BadOrigin,
    /// The body is larger than the site accepts.
    #[error("request too large")]
    BodyTooLarge,
    /// The body could not be read or is not what the endpoint takes.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The JSON body could not be parsed.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The second certificate is revoked: mobile sign-in and enrolment are refused.
    #[error("セカンド電子証明書は失効しています。HPKIカードによる認証をご利用いただくか、登録局にお問い合わせください。 (The second certificate is revoked: use HPKI card authentication or contact the registration office.)")]
    SecondCertificateRevoked,
    /// Sign-in was asked for, but there is no credential to sign in with.
    #[error("no registered credential: start again from the registration URL to register")]
    NoCredential,
    /// No challenge is pending, or it was used already.
    #[error("no ceremony in progress (or it was already used): press the button again")]
    NoChallenge,
    /// The challenge is past its timeout.
    #[error("the ceremony took too long: press the button again")]
    ChallengeExpired,
    /// The authenticator is not of the attachment the policy requires.
    #[error("this site accepts only the device's own authenticator (fingerprint or face on the phone), not {0}: use HPKI card authentication")]
    Attachment(String),
    /// The credential ID is already registered.
    #[error("this authenticator is already registered")]
    CredentialExists,
    /// The response is not for one of the credentials offered.
    #[error("the credential used is not registered for this applicant")]
    UnknownCredential,
    /// The verification core refused the response.
    #[error("{0}")]
    Verification(String),
    /// The label is empty, too long or has control characters.
    #[error("the label must be 1 to 64 characters without control characters")]
    BadLabel,
    /// Something failed inside the site.
    #[error("the site failed to process the request: try again later")]
    Internal(String),
}

impl SiteError {
    /// The stable error code (documented in the README).
    pub fn code(&self) -> &'static str {
        match self {
            SiteError::NoSession => "no-session",
            SiteError::WrongStep => "wrong-step",
            SiteError::Csrf => "csrf",
            SiteError::BadOrigin => "bad-origin",
            SiteError::BodyTooLarge => "body-too-large",
            SiteError::Malformed(_) => "malformed-request",
            SiteError::MalformedJson(_) => "malformed-json",
            SiteError::SecondCertificateRevoked => "second-certificate-revoked",
            SiteError::NoCredential => "no-credential",
            SiteError::NoChallenge => "no-challenge",
            SiteError::ChallengeExpired => "challenge-expired",
            SiteError::Attachment(_) => "attachment-not-allowed",
            SiteError::CredentialExists => "credential-exists",
            SiteError::UnknownCredential => "unknown-credential",
            SiteError::Verification(_) => "verification-failed",
            SiteError::BadLabel => "bad-label",
            SiteError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            SiteError::NoSession | SiteError::WrongStep => StatusCode::FORBIDDEN,
            SiteError::Csrf | SiteError::BadOrigin => StatusCode::FORBIDDEN,
            SiteError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            SiteError::Malformed(_) | SiteError::MalformedJson(_) | SiteError::BadLabel => {
                StatusCode::BAD_REQUEST
            }
            SiteError::SecondCertificateRevoked => StatusCode::FORBIDDEN,
            SiteError::NoCredential | SiteError::NoChallenge | SiteError::ChallengeExpired => {
                StatusCode::CONFLICT
            }
            SiteError::CredentialExists => StatusCode::CONFLICT,
            SiteError::Attachment(_)
            | SiteError::UnknownCredential
            | SiteError::Verification(_) => StatusCode::UNPROCESSABLE_ENTITY,
            SiteError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text shown to the applicant (internal details stay in the log and audit trail).
    pub fn public_message(&self) -> String {
        match self {
            SiteError::Internal(_) => {
                "the site failed to process the request: try again later".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<crate::enrollment::StoreError> for SiteError {
    fn from(e: crate::enrollment::StoreError) -> Self {
        match e {
            crate::enrollment::StoreError::DuplicateCredential => SiteError::CredentialExists,
            // Another session of the applicant registered first: this one is past step 5.
            crate::enrollment::StoreError::AlreadyEnrolled => SiteError::WrongStep,
            other => SiteError::Internal(other.to_string()),
        }
    }
}
