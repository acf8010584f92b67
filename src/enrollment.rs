//! The enrollment site's domain: applicants, registration URLs with their password lockout,
//! registered credentials, certificate status and the audit trail
//! (`../shared/spec/enrollment-flow.md`), behind one [`store::Store`] interface with an
//! embedded SQLite implementation.

pub mod qr;
pub mod store;

pub use store::{SqliteStore, Store, StoreError};

use serde::{Deserialize, Serialize};

/// Wrong passwords after which a registration URL is invalidated (manual §1.2 step 3).
pub const MAX_PASSWORD_ATTEMPTS: u32 = 5;

/// Status of one of the applicant's certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    /// Valid.
    Valid,
    /// Revoked by the registration office.
    Revoked,
}

impl CertificateStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Revoked => "revoked",
        }
    }
    /// The status for a stored name (anything but "revoked" is valid).
    pub fn parse(s: &str) -> Self {
        if s == "revoked" {
            CertificateStatus::Revoked
        } else {
            CertificateStatus::Valid
        }
    }
}

/// A pharmacist enrolling a second certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applicant {
    /// Internal ID.
    pub id: i64,
    /// Pharmacist registry number (e.g. "999999").
    pub registry_number: String,
    /// Name.
    pub name: String,
    /// Date of birth, YYYY-MM-DD.
    pub birth_date: String,
    /// HPKI card certificate.
    pub card_certificate: CertificateStatus,
    /// Second certificate (the one used through FIDO2).
    pub second_certificate: CertificateStatus,
    /// The WebAuthn user handle (`user.id`): 16 random bytes, no personal data.
    #[serde(skip)]
    pub user_handle: Vec<u8>,
}

impl Applicant {
    /// The SignIn user name: `<registry number>-jpa` (manual §1.2 step 4).
    pub fn username(&self) -> String {
        format!("{}-jpa", self.registry_number)
    }

    /// The password printed on the QR sheet: the date of birth as YYYYMMDD.
    pub fn password(&self) -> String {
        self.birth_date.replace('-', "")
    }
}

/// Why a registration URL no longer works (never shown to the applicant: one wording for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlInvalidReason {
    /// Past its expiry.
    Expired,
    /// Locked after too many wrong passwords.
    Locked,
    /// Replaced by a re-issued URL.
    Superseded,
}

/// A registration URL as the office sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationUrlInfo {
    /// Internal ID.
    pub id: i64,
    /// The applicant.
    pub applicant_id: i64,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// Wrong passwords so far.
    pub failed_attempts: u32,
    /// Why it no longer works, if it does not.
    pub invalid: Option<UrlInvalidReason>,
    /// Created, Unix seconds.
    pub created_at: i64,
}

/// A credential registered for an applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledCredential {
    /// Credential ID.
    pub credential_id: Vec<u8>,
    /// The applicant.
    pub applicant_id: i64,
    /// The credential record (JSON of [`crate::webauthn::CredentialRecord`]).
    pub record_json: String,
    /// COSE algorithm.
    pub alg: i64,
    /// Signature counter.
    pub sign_count: u32,
    /// AAGUID text.
    pub aaguid: String,
    /// Backup eligible.
    pub backup_eligible: bool,
    /// Backed up.
    pub backup_state: bool,
    /// Transports, comma-separated.
    pub transports: String,
    /// The label shown to the applicant.
    pub label: String,
    /// Created, Unix seconds.
    pub created_at: i64,
    /// Last sign-in, Unix seconds.
    pub last_used_at: Option<i64>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Sequence number.
    pub id: i64,
    /// When, Unix seconds.
    pub at: i64,
    /// Who: "office", "applicant" or "system".
    pub actor: String,
    /// What happened (stable machine-readable name, e.g. "password.refused").
    pub action: String,
    /// The applicant concerned, if known.
    pub applicant_id: Option<i64>,
    /// Details for the office (never shown to applicants).
    pub detail: String,
}

/// The outcome of a password attempt. Refusals carry no reason: wrong password, unknown,
/// expired, locked and superseded URLs answer alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordOutcome {
    /// The password is right and the URL valid.
    Accepted(Applicant),
    /// Refused (the reason is in the audit trail only).
    Refused,
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
