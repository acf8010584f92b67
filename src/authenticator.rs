//! The software authenticator: a CTAP2 (and CTAP1/U2F) authenticator that behaves like the
//! devices people use ([`profile`]), with a simulated user ([`user`]), fault injection
//! ([`faults`]) and persistent state ([`state`]).
//!
//! Requests arrive as bytes (command byte + CBOR), are decoded into the shared
//! [`crate::ctap2`] types, and answered through one dispatch; decoding failures become the
//! exact CTAP status. [`hid_server`] puts the CTAPHID device side in front, so clients talk to
//! it through real framing: in-process ([`crate::transport::loopback`]), over UDP, or /dev/uhid.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use crate::cbor::{self, Value};
use crate::ctap2::{command, PinUvAuthProtocol, StatusCode};
use crate::ctaphid::capability;

pub mod attestation_ca;
pub mod faults;
pub mod hid_server;
pub mod keys;
pub mod profile;
pub mod state;
pub mod user;

mod cred_mgmt;
mod ctap;
mod pin;
mod u2f;

#[cfg(test)]
mod tests;

pub use faults::Fault;
pub use hid_server::{HidFaults, Presence};
pub use profile::Profile;
pub use user::{UserAction, UserSimulation};

use attestation_ca::Attester;
use keys::KeyError;
use state::{PersistentState, StateError};

/// Why the authenticator could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticatorError {
    /// The state file cannot be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// Key generation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// No such profile.
    #[error("unknown profile {0:?}; profiles: ios, android, security-key, u2f, no-biometric")]
    UnknownProfile(String),
}

/// A pinUvAuthToken the authenticator issued (§6.5.2.1).
#[derive(Debug, Clone)]
struct PinToken {
    token: [u8; 32],
    protocol: PinUvAuthProtocol,
    permissions: u64,
    rp_id: Option<String>,
    issued: Instant,
}

/// Assertions left for authenticatorGetNextAssertion.
#[derive(Debug, Clone)]
struct PendingAssertions {
    credential_ids: Vec<Vec<u8>>,
    next: usize,
    rp_id: String,
    client_data_hash: Vec<u8>,
    flags: u8,
    issued: Instant,
}

/// State lost at power-off.
#[derive(Default)]
struct Volatile {
    key_agreement: Vec<crate::ctap2::KeyAgreementKey>,
    token: Option<PinToken>,
    pending: Option<PendingAssertions>,
    consecutive_pin_failures: u8,
    cred_mgmt: Option<cred_mgmt::Enumeration>,
}

/// The software authenticator.
pub struct Authenticator {
    profile: Profile,
    state: PersistentState,
    state_path: Option<PathBuf>,
    user: UserSimulation,
    faults: HashSet<Fault>,
    attester: Option<Attester>,
    volatile: Volatile,
}

impl Authenticator {
    /// An authenticator with `profile`, in-memory state and a user who always approves.
    pub fn new(profile: Profile) -> Result<Self, AuthenticatorError> {
        let state = PersistentState::new(profile.name);
        let mut a = Authenticator {
            profile,
            state,
            state_path: None,
            user: UserSimulation::default(),
            faults: HashSet::new(),
            attester: None,
            volatile: Volatile::default(),
        };
        a.ensure_attestation()?;
        Ok(a)
    }

    /// An authenticator for the profile called `name`.
    pub fn with_profile_name(name: &str) -> Result<Self, AuthenticatorError> {
        let profile = profile::by_name(name)
            .ok_or_else(|| AuthenticatorError::UnknownProfile(name.to_string()))?;
        Self::new(profile)
    }

    /// Keeps the state in `path` (loaded now if it exists, saved atomically on every change).
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> Result<Self, AuthenticatorError> {
        let path = path.into();
        if let Some(loaded) = state::load(&path, self.profile.name)? {
            self.state = loaded;
            self.attester = None;
        }
        self.state_path = Some(path);
        self.ensure_attestation()?;
        self.persist()?;
        Ok(self)
    }

    /// Sets the simulated user.
    pub fn with_user(mut self, user: UserSimulation) -> Self {
        self.user = user;
        self
    }

    /// Adds faults.
    pub fn with_faults(mut self, faults: impl IntoIterator<Item = Fault>) -> Self {
        self.faults.extend(faults);
        self
    }

    /// The simulated user, to script it between requests.
    pub fn user_mut(&mut self) -> &mut UserSimulation {
        &mut self.user
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The persistent state.
    pub fn state(&self) -> &PersistentState {
        &self.state
    }

    /// The transport-level faults, for the CTAPHID server.
    pub fn hid_faults(&self) -> HidFaults {
        HidFaults {
            no_keepalive: self.faults.contains(&Fault::NoKeepalive),
            busy_storm: if self.faults.contains(&Fault::BusyStorm) {
                3
            } else {
                0
            },
            truncate_responses: self.faults.contains(&Fault::TruncatedResponse),
        }
    }

    /// The test CA certificate (PEM) that signs this authenticator's attestation
    /// certificates, if its profile attests.
    pub fn attestation_ca_pem(&self) -> Option<String> {
        self.attester.as_ref().map(|a| a.ca_pem())
    }

    fn ensure_attestation(&mut self) -> Result<(), AuthenticatorError> {
        use profile::AttestationKind;
        if self.profile.attestation == AttestationKind::None {
            return Ok(());
        }
        let material = match &self.state.attestation {
            Some(m) => m.clone(),
            None => {
                let m = attestation_ca::generate(self.profile.aaguid, self.profile.model)?;
                self.state.attestation = Some(m.clone());
                m
            }
        };
        self.attester = Some(Attester::new(material)?);
        Ok(())
    }

    fn persist(&self) -> Result<(), StateError> {
        match &self.state_path {
            Some(p) => state::save(p, &self.state),
            None => Ok(()),
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    /// Handles one CTAP2 request directly (no HID framing), for unit tests and tools.
    pub fn handle(&mut self, request: &[u8], presence: &mut dyn Presence) -> Vec<u8> {
        let Some((&cmd, body)) = request.split_first() else {
            return vec![StatusCode::INVALID_LENGTH.0];
        };
        let result = if !self.profile.ctap2 {
            Err(StatusCode::INVALID_COMMAND)
        } else {
            self.end_enumeration_unless_credential_management(cmd);
            match cmd {
                command::GET_INFO => Ok(Some(self.get_info())),
                command::MAKE_CREDENTIAL => self.make_credential(body, presence).map(Some),
                command::GET_ASSERTION => self.get_assertion(body, presence).map(Some),
                command::GET_NEXT_ASSERTION => self.get_next_assertion().map(Some),
                command::CLIENT_PIN => self.client_pin(body, presence),
                command::RESET => self.reset(presence).map(|_| None),
                command::SELECTION => self.user.presence(presence).map(|_| None),
                command::CREDENTIAL_MANAGEMENT | command::CREDENTIAL_MANAGEMENT_PRE => {
                    self.credential_management(body)
                }
                _ => Err(StatusCode::INVALID_COMMAND),
            }
        };
        if let Err(e) = self.persist() {
            // A state that cannot be saved must not be reported as saved.
            eprintln!("ctapkit emulator: {e}");
            return vec![StatusCode::OTHER.0];
        }
        match result {
            Ok(None) => vec![StatusCode::OK.0],
            Ok(Some(value)) => {
                let mut out = vec![StatusCode::OK.0];
                self.encode_answer(&value, &mut out);
                out
            }
            Err(status) => vec![status.0],
        }
    }

    /// Encodes an answer canonically, or with the CBOR faults.
    fn encode_answer(&self, value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Map(entries) if self.has(Fault::NonCanonicalCbor) && entries.len() > 1 => {
                // Keys in descending order: valid CBOR, not canonical.
                let mut encoded: Vec<(Vec<u8>, Vec<u8>)> = entries
                    .iter()
                    .filter_map(|(k, v)| Some((cbor::encode(k).ok()?, cbor::encode(v).ok()?)))
                    .collect();
                encoded.sort_by(|a, b| cbor::canonical_key_order(&b.0, &a.0));
                out.push(0xa0 | encoded.len() as u8);
                for (k, v) in encoded {
                    out.extend_from_slice(&k);
                    out.extend_from_slice(&v);
                }
            }
            Value::Map(entries) if self.has(Fault::DuplicateKeyCbor) && !entries.is_empty() => {
                let mut bytes = cbor::encode(value).unwrap_or_default();
                // One more entry: the first key again.
                if let (Some(first), Some((k, v))) = (bytes.first_mut(), entries.first()) {
                    if *first < 0xb7 {
                        *first += 1;
                        bytes.extend(cbor::encode(k).unwrap_or_default());
                        bytes.extend(cbor::encode(v).unwrap_or_default());
                    }
                }
                out.extend_from_slice(&bytes);
            }
            _ => {
                let _ = cbor::encode_into(value, out);
            }
        }
    }
}

impl hid_server::Handler for Authenticator {
    fn cbor(&mut self, request: &[u8], presence: &mut dyn Presence) -> Vec<u8> {
        self.handle(request, presence)
    }

    fn msg(&mut self, apdu: &[u8], presence: &mut dyn Presence) -> Option<Vec<u8>> {
        self.profile.ctap1.then(|| self.u2f(apdu, presence))
    }

    fn capabilities(&self) -> u8 {
        let mut caps = capability::WINK;
        if self.profile.ctap2 {
            caps |= capability::CBOR;
        }
        if !self.profile.ctap1 {
            caps |= capability::NMSG;
        }
        caps
    }

    fn power_cycle(&mut self) {
        self.volatile = Volatile::default();
    }
}
