//! The emulator's persistent state (credentials, PIN, retries, counters, attestation
//! material) and its atomic file storage: a crash mid-write never loses or corrupts a
//! credential (write to a temporary file, fsync, rename, fsync the directory).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::webauthn::Base64Url;

/// One credential the emulator holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredCredential {
    /// Credential ID.
    pub id: Base64Url,
    /// RP ID.
    pub rp_id: String,
    /// RP name.
    #[serde(default)]
    pub rp_name: Option<String>,
    /// User handle.
    pub user_id: Base64Url,
    /// User name.
    #[serde(default)]
    pub user_name: Option<String>,
    /// User display name.
    #[serde(default)]
    pub user_display_name: Option<String>,
    /// COSE algorithm.
    pub alg: i64,
    /// PKCS#8 private key.
    pub private_key: Base64Url,
    /// Signature counter.
    pub sign_count: u32,
    /// Discoverable (resident).
    pub discoverable: bool,
    /// credProtect level (1..=3).
    pub cred_protect: u8,
    /// hmac-secret CredRandom (with UV, then without UV: 32 bytes each).
    #[serde(default)]
    pub cred_random: Option<Base64Url>,
    /// credBlob.
    #[serde(default)]
    pub cred_blob: Option<Base64Url>,
    /// largeBlobKey.
    #[serde(default)]
    pub large_blob_key: Option<Base64Url>,
    /// Creation order.
    pub created: u64,
    /// For credentials registered over CTAP1/U2F: the application parameter (SHA-256 of
    /// the AppID or RP ID) they are bound to.
    #[serde(default)]
    pub u2f_app: Option<Base64Url>,
}

/// The PIN as the authenticator keeps it: LEFT(SHA-256(PIN), 16) and its length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinState {
    /// LEFT(SHA-256(PIN), 16).
    pub hash: Base64Url,
    /// Length in Unicode code points.
    pub code_points: usize,
}

/// Attestation keys and certificates (generated once, then kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationMaterial {
    /// The test CA certificate (DER).
    pub ca_cert: Base64Url,
    /// The attestation certificate (DER), issued by the CA.
    pub cert: Base64Url,
    /// The attestation private key (PKCS#8, P-256).
    pub key: Base64Url,
}

/// Maximum PIN retries.
pub const MAX_PIN_RETRIES: u8 = 8;
/// Maximum built-in UV retries.
pub const MAX_UV_RETRIES: u8 = 5;

/// Everything that survives a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentState {
    /// Format version.
    pub version: u32,
    /// The profile this state belongs to.
    pub profile: String,
    /// Credentials.
    pub credentials: Vec<StoredCredential>,
    /// The PIN, once set.
    pub pin: Option<PinState>,
    /// PIN retries left.
    pub pin_retries: u8,
    /// Built-in UV retries left.
    pub uv_retries: u8,
    /// Minimum PIN length in code points.
    pub min_pin_length: u8,
    /// Next creation sequence number.
    pub next_sequence: u64,
    /// Attestation material.
    #[serde(default)]
    pub attestation: Option<AttestationMaterial>,
}

impl PersistentState {
    /// A fresh state for `profile`.
    pub fn new(profile: &str) -> Self {
        PersistentState {
            version: 1,
            profile: profile.to_string(),
            credentials: Vec::new(),
            pin: None,
            pin_retries: MAX_PIN_RETRIES,
            uv_retries: MAX_UV_RETRIES,
            min_pin_length: 4,
            next_sequence: 1,
            attestation: None,
        }
    }

    /// Forgets credentials and the PIN (authenticatorReset), keeping attestation material.
    pub fn reset(&mut self) {
        let attestation = self.attestation.take();
        *self = PersistentState {
            attestation,
            ..PersistentState::new(&self.profile)
        };
    }
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Reading or writing failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a ctapkit emulator state.
    #[error("state file {path} is not a ctapkit emulator state: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The file belongs to another profile.
    #[error("state file {path} belongs to profile {found:?}, not {expected:?}: use another --state file")]
    WrongProfile {
        /// The file.
        path: PathBuf,
        /// The profile in the file.
        found: String,
        /// The profile requested.
        expected: String,
    },
}

/// Loads the state at `path`, or `None` when the file does not exist yet.
pub fn load(path: &Path, profile: &str) -> Result<Option<PersistentState>, StateError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let state: PersistentState =
        serde_json::from_slice(&bytes).map_err(|source| StateError::Format {
            path: path.to_path_buf(),
            source,
        })?;
    if state.profile != profile {
        return Err(StateError::WrongProfile {
            path: path.to_path_buf(),
            found: state.profile,
            expected: profile.to_string(),
        });
    }
    Ok(Some(state))
}

/// Writes `state` to `path` atomically.
pub fn save(path: &Path, state: &PersistentState) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let json = serde_json::to_vec_pretty(state).map_err(|source| StateError::Format {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(&json).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    fs::rename(&tmp, path).map_err(io)?;
    // Make the rename itself durable.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_profile_check() {
        let dir = std::env::temp_dir().join(format!("ctapkit-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.json");
        assert!(load(&path, "ios").unwrap().is_none());
        let mut s = PersistentState::new("ios");
        s.pin_retries = 3;
        save(&path, &s).unwrap();
        assert_eq!(load(&path, "ios").unwrap(), Some(s.clone()));
        assert!(matches!(
            load(&path, "android"),
            Err(StateError::WrongProfile { .. })
        ));
        fs::write(&path, b"{garbage").unwrap();
        assert!(matches!(load(&path, "ios"), Err(StateError::Format { .. })));
        // No temporary file left behind.
        save(&path, &s).unwrap();
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn reset_keeps_attestation_material() {
        let mut s = PersistentState::new("security-key");
        s.attestation = Some(AttestationMaterial {
            ca_cert: Base64Url(vec![1]),
            cert: Base64Url(vec![2]),
            key: Base64Url(vec![3]),
        });
        s.pin_retries = 1;
        s.reset();
        assert_eq!(s.pin_retries, MAX_PIN_RETRIES);
        assert!(s.attestation.is_some());
    }
}
