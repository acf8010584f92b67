//! Applicant sessions: an HttpOnly, SameSite=Strict cookie naming server-side state (where the
//! applicant is in the flow, the CSRF token, and at most one pending WebAuthn challenge).
//! Sessions live in memory: a restart asks the applicant to scan the QR code again, which is
//! what the real site does too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::webauthn::Base64Url;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "ctapkit_session";
/// A session unused for this long is gone.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Sessions kept at most (the oldest are dropped first when full).
const MAX_SESSIONS: usize = 100_000;

/// Where the applicant is in the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Opened a registration URL; no password yet.
    Anonymous,
    /// The password was right (step 3 passed).
    PasswordAccepted {
        /// The applicant's internal ID.
        applicant_id: i64,
        /// Their registry number.
        registry_number: String,
    },
    /// SignIn passed (step 4): at the step-5 screen.
    SignedIn {
        /// The applicant's internal ID.
        applicant_id: i64,
        /// Their registry number.
        registry_number: String,
    },
    /// A credential was registered; the label is next (step 7).
    Registered {
        /// The applicant's internal ID.
        applicant_id: i64,
        /// Their registry number.
        registry_number: String,
        /// The new credential.
        credential_id: Vec<u8>,
    },
    /// Finished: registration labelled, or a sign-in verified (step 8).
    Complete {
        /// The applicant's internal ID.
        applicant_id: i64,
        /// Whether this was a sign-in (second scan) rather than a registration.
        signed_in: bool,
    },
}

impl Stage {
    /// The registry number of a signed-in applicant (SignIn passed, not yet complete).
    pub fn signed_in(&self) -> Option<(i64, &str)> {
        match self {
            Stage::SignedIn {
                applicant_id,
                registry_number,
            }
            | Stage::Registered {
                applicant_id,
                registry_number,
                ..
            } => Some((*applicant_id, registry_number)),
            _ => None,
        }
    }
}

/// Which ceremony a challenge was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// navigator.credentials.create.
    Register,
    /// navigator.credentials.get.
    SignIn,
}

/// A challenge waiting for its response: single-use, bound to this session, expiring.
#[derive(Debug, Clone)]
pub struct PendingChallenge {
    /// The ceremony.
    pub ceremony: Ceremony,
    /// The random challenge.
    pub challenge: Vec<u8>,
    /// Credential IDs offered (allowCredentials) for a sign-in.
    pub allow: Vec<Vec<u8>>,
    /// When it stops being accepted.
    pub expires: Instant,
}

/// One applicant's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The CSRF token that forms and JSON requests must carry.
    pub csrf: String,
    /// Where the applicant is.
    pub stage: Stage,
    /// The challenge of the ceremony in progress.
    pub pending: Option<PendingChallenge>,
    last_seen: Instant,
}

/// 32 random bytes, base64url: session IDs, CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // aws-lc's system RNG; a failure leaves zeros, which `fill` never does on Linux.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    Base64Url(bytes.to_vec()).encode()
}

/// Every live session.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A poisoned map only means another request panicked mid-update; the data is plain.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session at `stage`; returns its ID (the cookie value).
    pub fn create(&self, stage: Stage) -> (String, Session) {
        self.create_within(stage, MAX_SESSIONS)
    }

    /// [`Sessions::create`] keeping at most `max_sessions`.
    fn create_within(&self, stage: Stage, max_sessions: usize) -> (String, Session) {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| now.duration_since(s.last_seen) < IDLE_TIMEOUT);
        if map.len() >= max_sessions {
            // A flood of visits must not push out applicants who are further on: the oldest
            // anonymous session goes first, the oldest of all only when there is none.
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| (s.stage != Stage::Anonymous, s.last_seen))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        let id = random_token();
        let session = Session {
            csrf: random_token(),
            stage,
            pending: None,
            last_seen: now,
        };
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    /// The session `id`, if it is live (and marks it used).
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get_mut(id) {
            Some(s) if now.duration_since(s.last_seen) < IDLE_TIMEOUT => {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Changes the session `id` in place; `None` when it is gone.
    pub fn update<T>(&self, id: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        let mut map = self.lock();
        map.get_mut(id).map(f)
    }

    /// Ends the session `id`.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Takes the pending challenge of `id` out (single use: a second take finds nothing).
    pub fn take_pending(&self, id: &str) -> Option<PendingChallenge> {
        self.update(id, |s| s.pending.take()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_challenge_is_taken_once() {
        let sessions = Sessions::default();
        let (id, _) = sessions.create(Stage::Anonymous);
        sessions.update(&id, |s| {
            s.pending = Some(PendingChallenge {
                ceremony: Ceremony::Register,
                challenge: vec![1; 32],
                allow: vec![],
                expires: Instant::now() + Duration::from_secs(60),
            })
        });
        assert!(sessions.take_pending(&id).is_some());
        assert!(sessions.take_pending(&id).is_none());
    }

    #[test]
    fn a_flood_of_visits_pushes_out_anonymous_sessions_first() {
        let sessions = Sessions::default();
        let signed_in = Stage::SignedIn {
            applicant_id: 1,
            registry_number: "999999".into(),
        };
        let (applicant, _) = sessions.create_within(signed_in, 3);
        for _ in 0..10 {
            sessions.create_within(Stage::Anonymous, 3);
        }
        assert!(
            sessions.get(&applicant).is_some(),
            "the applicant's session survives"
        );
        assert_eq!(sessions.lock().len(), 3);
    }

    #[test]
    fn ids_and_csrf_tokens_are_distinct_and_long() {
        let sessions = Sessions::default();
        let (a, sa) = sessions.create(Stage::Anonymous);
        let (b, sb) = sessions.create(Stage::Anonymous);
        assert_ne!(a, b);
        assert_ne!(sa.csrf, sb.csrf);
        assert_eq!(a.len(), 43);
        assert!(sessions.get("nope").is_none());
    }
}
