//! The site's state behind one interface ([`Store`]), with the embedded SQLite
//! implementation ([`SqliteStore`]): WAL mode, schema migrations, and every security rule
//! enforced inside one `BEGIN IMMEDIATE` transaction so that it holds across threads and
//! processes.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    Applicant, AuditEvent, CertificateStatus, EnrolledCredential, PasswordOutcome,
    RegistrationUrlInfo, UrlInvalidReason, MAX_PASSWORD_ATTEMPTS,
};
use crate::webauthn::{sha256, Base64Url};

#[cfg(test)]
mod tests;

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// No such applicant.
    #[error("no applicant with registry number {0}")]
    UnknownApplicant(String),
    /// The credential ID is already registered.
    #[error("credential already registered")]
    DuplicateCredential,
    /// No such credential.
    #[error("no such credential")]
    UnknownCredential,
    /// The applicant already has a registered credential (delete it to enrol another device).
    #[error("the applicant already has a registered credential")]
    AlreadyEnrolled,
}

/// What an office operator enters for a new applicant.
#[derive(Debug, Clone)]
pub struct NewApplicant {
    /// Registry number (digits).
    pub registry_number: String,
    /// Name.
    pub name: String,
    /// Date of birth, YYYY-MM-DD.
    pub birth_date: String,
}

/// The state of the enrollment site.
pub trait Store: Send + Sync {
    /// Adds an applicant and a registration URL valid for `ttl`; returns the applicant and the
    /// URL token (shown once: only its hash is kept).
    fn add_applicant(
        &self,
        new: &NewApplicant,
        ttl: Duration,
        now: i64,
    ) -> Result<(Applicant, String), StoreError>;
    /// The applicant with `registry_number`.
    fn applicant(&self, registry_number: &str) -> Result<Applicant, StoreError>;
    /// Every applicant.
    fn applicants(&self) -> Result<Vec<Applicant>, StoreError>;
    /// The registration URLs of an applicant, newest first.
    fn urls(&self, applicant_id: i64) -> Result<Vec<RegistrationUrlInfo>, StoreError>;
    /// Checks `password` for the URL `token`, counting failures atomically (5 invalidate).
    fn check_password(
        &self,
        token: &str,
        password: &str,
        now: i64,
    ) -> Result<PasswordOutcome, StoreError>;
    /// Whether `token` is a usable URL (known, not invalidated, not expired), for the
    /// password page; the applicant is not revealed.
    fn url_usable(&self, token: &str, now: i64) -> Result<bool, StoreError>;
    /// Issues a new URL for the applicant; the old ones stop working (superseded).
    fn reissue_url(
        &self,
        registry_number: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<String, StoreError>;
    /// Revokes the card and/or the second certificate.
    fn revoke(
        &self,
        registry_number: &str,
        card: bool,
        second: bool,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Stores a newly registered credential: a unique credential ID, and the applicant's only
    /// one ([`StoreError::AlreadyEnrolled`] otherwise), checked atomically.
    fn add_credential(&self, credential: &EnrolledCredential, now: i64) -> Result<(), StoreError>;
    /// The applicant's credentials.
    fn credentials(&self, applicant_id: i64) -> Result<Vec<EnrolledCredential>, StoreError>;
    /// Records a successful sign-in (new counter, backup state, record JSON).
    fn record_sign_in(
        &self,
        credential_id: &[u8],
        sign_count: u32,
        backup_state: bool,
        record_json: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Sets a credential's label.
    fn set_label(&self, credential_id: &[u8], label: &str, now: i64) -> Result<(), StoreError>;
    /// Deletes an applicant's credentials (lost device); returns how many.
    fn delete_credentials(&self, registry_number: &str, now: i64) -> Result<usize, StoreError>;
    /// Appends to the audit trail.
    fn audit(
        &self,
        actor: &str,
        action: &str,
        applicant_id: Option<i64>,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// The audit trail, oldest first.
    fn audit_trail(&self) -> Result<Vec<AuditEvent>, StoreError>;
}

/// The embedded SQLite store (one file, WAL).
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "CREATE TABLE applicants (
        id INTEGER PRIMARY KEY,
        registry_number TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        card_certificate TEXT NOT NULL DEFAULT 'valid',
        second_certificate TEXT NOT NULL DEFAULT 'valid',
        created_at INTEGER NOT NULL
    );
    CREATE TABLE registration_urls (
        id INTEGER PRIMARY KEY,
        applicant_id INTEGER NOT NULL REFERENCES applicants(id),
        token_hash BLOB NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        invalid TEXT,
        superseded_by INTEGER REFERENCES registration_urls(id),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE credentials (
        credential_id BLOB PRIMARY KEY,
        applicant_id INTEGER NOT NULL REFERENCES applicants(id),
        record_json TEXT NOT NULL,
        alg INTEGER NOT NULL,
        sign_count INTEGER NOT NULL,
        aaguid TEXT NOT NULL,
        backup_eligible INTEGER NOT NULL,
        backup_state INTEGER NOT NULL,
        transports TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        applicant_id INTEGER,
        detail TEXT NOT NULL
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    // 2: a random WebAuthn user handle per applicant (user.id: opaque, no personal data).
    "ALTER TABLE applicants ADD COLUMN user_handle BLOB;
    UPDATE applicants SET user_handle = randomblob(16) WHERE user_handle IS NULL;",
];

fn token_hash(token: &str) -> Vec<u8> {
    sha256(token.as_bytes()).to_vec()
}

/// A new URL token: 192 random bits, base64url.
pub fn new_token() -> String {
    let mut b = [0u8; 24];
    let _ = aws_lc_rs::rand::fill(&mut b);
    Base64Url(b.to_vec()).encode()
}

fn applicant_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Applicant> {
    Ok(Applicant {
        id: row.get(0)?,
        registry_number: row.get(1)?,
        name: row.get(2)?,
        birth_date: row.get(3)?,
        card_certificate: CertificateStatus::parse(&row.get::<_, String>(4)?),
        second_certificate: CertificateStatus::parse(&row.get::<_, String>(5)?),
        user_handle: row.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default(),
    })
}

const APPLICANT_COLUMNS: &str =
    "id, registry_number, name, birth_date, card_certificate, second_certificate, user_handle";

fn reason_str(r: UrlInvalidReason) -> &'static str {
    match r {
        UrlInvalidReason::Expired => "expired",
        UrlInvalidReason::Locked => "locked",
        UrlInvalidReason::Superseded => "superseded",
    }
}

fn parse_reason(s: Option<String>) -> Option<UrlInvalidReason> {
    match s.as_deref() {
        Some("expired") => Some(UrlInvalidReason::Expired),
        Some("locked") => Some(UrlInvalidReason::Locked),
        Some("superseded") => Some(UrlInvalidReason::Superseded),
        _ => None,
    }
}

fn insert_audit(
    tx: &Connection,
    actor: &str,
    action: &str,
    applicant_id: Option<i64>,
    detail: &str,
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, applicant_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, actor, action, applicant_id, detail],
    )
    .map(|_| ())
}

/// The applicant a credential belongs to.
fn credential_owner(tx: &Connection, credential_id: &[u8]) -> Result<i64, StoreError> {
    tx.query_row(
        "SELECT applicant_id FROM credentials WHERE credential_id = ?1",
        [credential_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::UnknownCredential)
}

fn validate(new: &NewApplicant) -> Result<(), StoreError> {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(&new.registry_number) || new.registry_number.len() > 12 {
        return Err(StoreError::Invalid(format!(
            "registry number {:?} must be 1 to 12 digits",
            new.registry_number
        )));
    }
    if new.name.trim().is_empty() || new.name.len() > 200 {
        return Err(StoreError::Invalid("name must be 1 to 200 bytes".into()));
    }
    let b = new.birth_date.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(&new.birth_date[..4])
        && digits(&new.birth_date[5..7])
        && digits(&new.birth_date[8..])
        && (1..=12).contains(&new.birth_date[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&new.birth_date[8..].parse::<u32>().unwrap_or(0));
    if !ok {
        return Err(StoreError::Invalid(format!(
            "birth date {:?} must be YYYY-MM-DD",
            new.birth_date
        )));
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (or creates) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Invalid("store lock poisoned".into()))?;
        f(&mut conn)
    }

    fn insert_url(
        tx: &Connection,
        applicant_id: i64,
        ttl: Duration,
        now: i64,
    ) -> rusqlite::Result<(i64, String)> {
        let token = new_token();
        tx.execute(
            "INSERT INTO registration_urls (applicant_id, token_hash, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![applicant_id, token_hash(&token), now + ttl.as_secs() as i64, now],
        )?;
        Ok((tx.last_insert_rowid(), token))
    }
}

impl Store for SqliteStore {
    fn add_applicant(
        &self,
        new: &NewApplicant,
        ttl: Duration,
        now: i64,
    ) -> Result<(Applicant, String), StoreError> {
        validate(new)?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM applicants WHERE registry_number = ?1",
                    [&new.registry_number],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Invalid(format!(
                    "registry number {} is already registered: use `site url reissue`",
                    new.registry_number
                )));
            }
            let mut user_handle = vec![0u8; 16];
            aws_lc_rs::rand::fill(&mut user_handle)
                .map_err(|_| StoreError::Invalid("no randomness for the user handle".into()))?;
            tx.execute(
                "INSERT INTO applicants (registry_number, name, birth_date, created_at, user_handle) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new.registry_number, new.name, new.birth_date, now, user_handle],
            )?;
            let id = tx.last_insert_rowid();
            let (_, token) = Self::insert_url(&tx, id, ttl, now)?;
            insert_audit(&tx, "office", "applicant.added", Some(id), &format!("registry number {}", new.registry_number), now)?;
            tx.commit()?;
            Ok((
                Applicant {
                    id,
                    registry_number: new.registry_number.clone(),
                    name: new.name.clone(),
                    birth_date: new.birth_date.clone(),
                    card_certificate: CertificateStatus::Valid,
                    second_certificate: CertificateStatus::Valid,
                    user_handle,
                },
                token,
            ))
        })
    }

    fn applicant(&self, registry_number: &str) -> Result<Applicant, StoreError> {
        self.with(|conn| {
            conn.query_row(
                &format!("SELECT {APPLICANT_COLUMNS} FROM applicants WHERE registry_number = ?1"),
                [registry_number],
                applicant_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::UnknownApplicant(registry_number.to_string()))
        })
    }

    fn applicants(&self) -> Result<Vec<Applicant>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {APPLICANT_COLUMNS} FROM applicants ORDER BY id"
            ))?;
            let rows = stmt.query_map([], applicant_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn urls(&self, applicant_id: i64) -> Result<Vec<RegistrationUrlInfo>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, applicant_id, expires_at, failed_attempts, invalid, created_at
                 FROM registration_urls WHERE applicant_id = ?1 ORDER BY id DESC",
            )?;
            let rows = stmt.query_map([applicant_id], |r| {
                Ok(RegistrationUrlInfo {
                    id: r.get(0)?,
                    applicant_id: r.get(1)?,
                    expires_at: r.get(2)?,
                    failed_attempts: r.get(3)?,
                    invalid: parse_reason(r.get(4)?),
                    created_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn check_password(
        &self,
        token: &str,
        password: &str,
        now: i64,
    ) -> Result<PasswordOutcome, StoreError> {
        self.with(|conn| {
            // One writer at a time across threads and processes: the count cannot race.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row: Option<(i64, i64, i64, u32, Option<String>)> = tx
                .query_row(
                    "SELECT id, applicant_id, expires_at, failed_attempts, invalid
                     FROM registration_urls WHERE token_hash = ?1",
                    [token_hash(token)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((url_id, applicant_id, expires_at, failed, invalid)) = row else {
                insert_audit(&tx, "applicant", "password.refused", None, "unknown URL", now)?;
                tx.commit()?;
                return Ok(PasswordOutcome::Refused);
            };
            if let Some(reason) = invalid {
                insert_audit(&tx, "applicant", "password.refused", Some(applicant_id), &format!("URL {url_id} is {reason}"), now)?;
                tx.commit()?;
                return Ok(PasswordOutcome::Refused);
            }
            if now >= expires_at {
                tx.execute("UPDATE registration_urls SET invalid = 'expired' WHERE id = ?1", [url_id])?;
                insert_audit(&tx, "system", "url.expired", Some(applicant_id), &format!("URL {url_id}"), now)?;
                tx.commit()?;
                return Ok(PasswordOutcome::Refused);
            }
            let applicant = tx.query_row(
                &format!("SELECT {APPLICANT_COLUMNS} FROM applicants WHERE id = ?1"),
                [applicant_id],
                applicant_from_row,
            )?;
            let expected = applicant.password();
            let right = aws_lc_rs::constant_time::verify_slices_are_equal(
                expected.as_bytes(),
                password.as_bytes(),
            )
            .is_ok();
            if right {
                insert_audit(&tx, "applicant", "password.accepted", Some(applicant_id), &format!("URL {url_id}"), now)?;
                tx.commit()?;
                return Ok(PasswordOutcome::Accepted(applicant));
            }
            let failed = failed + 1;
            if failed >= MAX_PASSWORD_ATTEMPTS {
                tx.execute(
                    "UPDATE registration_urls SET failed_attempts = ?1, invalid = 'locked' WHERE id = ?2",
                    params![failed, url_id],
                )?;
                insert_audit(&tx, "system", "url.locked", Some(applicant_id), &format!("URL {url_id} after {failed} wrong passwords"), now)?;
            } else {
                tx.execute(
                    "UPDATE registration_urls SET failed_attempts = ?1 WHERE id = ?2",
                    params![failed, url_id],
                )?;
            }
            insert_audit(&tx, "applicant", "password.refused", Some(applicant_id), &format!("wrong password {failed}/{MAX_PASSWORD_ATTEMPTS} on URL {url_id}"), now)?;
            tx.commit()?;
            Ok(PasswordOutcome::Refused)
        })
    }

    fn url_usable(&self, token: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|conn| {
            let row: Option<(i64, Option<String>)> = conn
                .query_row(
                    "SELECT expires_at, invalid FROM registration_urls WHERE token_hash = ?1",
                    [token_hash(token)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(matches!(row, Some((expires, None)) if now < expires))
        })
    }

    fn reissue_url(
        &self,
        registry_number: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<String, StoreError> {
        let applicant = self.applicant(registry_number)?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (new_id, token) = Self::insert_url(&tx, applicant.id, ttl, now)?;
            tx.execute(
                "UPDATE registration_urls SET invalid = COALESCE(invalid, 'superseded'), superseded_by = ?1
                 WHERE applicant_id = ?2 AND id <> ?1",
                params![new_id, applicant.id],
            )?;
            insert_audit(&tx, "office", "url.reissued", Some(applicant.id), &format!("new URL {new_id}; older URLs superseded"), now)?;
            tx.commit()?;
            Ok(token)
        })
    }

    fn revoke(
        &self,
        registry_number: &str,
        card: bool,
        second: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        if !card && !second {
            return Err(StoreError::Invalid(
                "say which certificate: --card and/or --second".into(),
            ));
        }
        let applicant = self.applicant(registry_number)?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if card {
                tx.execute(
                    "UPDATE applicants SET card_certificate = 'revoked' WHERE id = ?1",
                    [applicant.id],
                )?;
                insert_audit(
                    &tx,
                    "office",
                    "certificate.card.revoked",
                    Some(applicant.id),
                    "",
                    now,
                )?;
            }
            if second {
                tx.execute(
                    "UPDATE applicants SET second_certificate = 'revoked' WHERE id = ?1",
                    [applicant.id],
                )?;
                insert_audit(
                    &tx,
                    "office",
                    "certificate.second.revoked",
                    Some(applicant.id),
                    "",
                    now,
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn add_credential(&self, c: &EnrolledCredential, now: i64) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM credentials WHERE credential_id = ?1", [&c.credential_id], |r| r.get(0))
                .optional()?;
            if exists.is_some() {
                insert_audit(&tx, "applicant", "credential.refused", Some(c.applicant_id), "credential ID already registered", now)?;
                tx.commit()?;
                return Err(StoreError::DuplicateCredential);
            }
            // One credential per applicant: step 5 reads Sign In once there is one, and two
            // sessions racing through Register must not both enrol (checked in this transaction,
            // so it holds across threads and processes).
            let enrolled: Option<i64> = tx
                .query_row("SELECT 1 FROM credentials WHERE applicant_id = ?1", [c.applicant_id], |r| r.get(0))
                .optional()?;
            if enrolled.is_some() {
                insert_audit(&tx, "applicant", "credential.refused", Some(c.applicant_id), "the applicant already has a registered credential", now)?;
                tx.commit()?;
                return Err(StoreError::AlreadyEnrolled);
            }
            tx.execute(
                "INSERT INTO credentials (credential_id, applicant_id, record_json, alg, sign_count, aaguid,
                   backup_eligible, backup_state, transports, label, created_at, last_used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)",
                params![
                    c.credential_id, c.applicant_id, c.record_json, c.alg, c.sign_count, c.aaguid,
                    c.backup_eligible, c.backup_state, c.transports, c.label, now
                ],
            )?;
            insert_audit(&tx, "applicant", "credential.registered", Some(c.applicant_id), &format!("credential {} ({}), AAGUID {}", Base64Url(c.credential_id.clone()).encode(), c.label, c.aaguid), now)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn credentials(&self, applicant_id: i64) -> Result<Vec<EnrolledCredential>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT credential_id, applicant_id, record_json, alg, sign_count, aaguid, backup_eligible,
                        backup_state, transports, label, created_at, last_used_at
                 FROM credentials WHERE applicant_id = ?1 ORDER BY created_at",
            )?;
            let rows = stmt.query_map([applicant_id], |r| {
                Ok(EnrolledCredential {
                    credential_id: r.get(0)?,
                    applicant_id: r.get(1)?,
                    record_json: r.get(2)?,
                    alg: r.get(3)?,
                    sign_count: r.get(4)?,
                    aaguid: r.get(5)?,
                    backup_eligible: r.get(6)?,
                    backup_state: r.get(7)?,
                    transports: r.get(8)?,
                    label: r.get(9)?,
                    created_at: r.get(10)?,
                    last_used_at: r.get(11)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn record_sign_in(
        &self,
        credential_id: &[u8],
        sign_count: u32,
        backup_state: bool,
        record_json: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let applicant = credential_owner(&tx, credential_id)?;
            tx.execute(
                "UPDATE credentials SET sign_count = ?1, backup_state = ?2, record_json = ?3, last_used_at = ?4
                 WHERE credential_id = ?5",
                params![sign_count, backup_state, record_json, now, credential_id],
            )?;
            insert_audit(&tx, "applicant", "credential.signed-in", Some(applicant), &format!("sign count {sign_count}"), now)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn set_label(&self, credential_id: &[u8], label: &str, now: i64) -> Result<(), StoreError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 64 {
            return Err(StoreError::Invalid("a label has 1 to 64 characters".into()));
        }
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let applicant = credential_owner(&tx, credential_id)?;
            tx.execute(
                "UPDATE credentials SET label = ?1 WHERE credential_id = ?2",
                params![label, credential_id],
            )?;
            insert_audit(
                &tx,
                "applicant",
                "credential.labelled",
                Some(applicant),
                label,
                now,
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn delete_credentials(&self, registry_number: &str, now: i64) -> Result<usize, StoreError> {
        let applicant = self.applicant(registry_number)?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "DELETE FROM credentials WHERE applicant_id = ?1",
                [applicant.id],
            )?;
            insert_audit(
                &tx,
                "office",
                "credential.deleted",
                Some(applicant.id),
                &format!("{n} credential(s) deleted (lost device)"),
                now,
            )?;
            tx.commit()?;
            Ok(n)
        })
    }

    fn audit(
        &self,
        actor: &str,
        action: &str,
        applicant_id: Option<i64>,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            Ok(insert_audit(
                conn,
                actor,
                action,
                applicant_id,
                detail,
                now,
            )?)
        })
    }

    fn audit_trail(&self) -> Result<Vec<AuditEvent>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, at, actor, action, applicant_id, detail FROM audit ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(AuditEvent {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    applicant_id: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

/// The reason text of a URL's state, for the office (never for applicants).
pub fn reason_text(reason: Option<UrlInvalidReason>) -> &'static str {
    reason.map_or("valid", reason_str)
}
