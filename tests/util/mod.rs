//! Shared helpers for the integration tests: loading vectors, building policies.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ctapkit::webauthn::policy::Policy;
use ctapkit::webauthn::TrustStore;
use serde_json::Value;

/// The repository's `vectors/` folder.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Reads a JSON file under `vectors/`.
pub fn read_json(rel: &str) -> Value {
    let path = vectors_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a hex string field.
pub fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key]
        .as_str()
        .unwrap_or_else(|| panic!("field {key} missing in {v}"));
    hex::decode(s).unwrap_or_else(|e| panic!("field {key}: {e}"))
}

/// A W3C WebAuthn L3 test vector (registration + authentication).
pub struct W3cVector {
    pub name: String,
    pub rp_id: String,
    pub origin: String,
    pub reg_challenge: Vec<u8>,
    pub reg_client_data_json: Vec<u8>,
    pub attestation_object: Vec<u8>,
    pub credential_id: Vec<u8>,
    pub trust_anchors: Vec<Vec<u8>>,
    pub auth_challenge: Vec<u8>,
    pub auth_client_data_json: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    pub signature: Vec<u8>,
    /// topOrigin given in the spec, if any.
    pub top_origin: Option<String>,
}

/// Every W3C vector file that has a registration and an authentication.
pub fn w3c_vectors() -> Vec<W3cVector> {
    let dir = vectors_dir().join("w3c");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let v = read_json(&format!("w3c/{name}"));
        let (Some(reg), Some(auth)) = (
            v["registration"].as_object(),
            v["authentication"].as_object(),
        ) else {
            continue;
        };
        let reg = Value::Object(reg.clone());
        let auth = Value::Object(auth.clone());
        let trust_anchors = reg["attestation_trust_anchors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let client_data: Value =
            serde_json::from_slice(&hex_field(&reg, "client_data_json")).unwrap();
        out.push(W3cVector {
            name: name.trim_end_matches(".json").to_string(),
            rp_id: v["rp_id"].as_str().unwrap().to_string(),
            origin: v["origin"].as_str().unwrap().to_string(),
            reg_challenge: hex_field(&reg, "challenge"),
            reg_client_data_json: hex_field(&reg, "client_data_json"),
            attestation_object: hex_field(&reg, "attestation_object"),
            credential_id: hex_field(&reg, "credential_id"),
            trust_anchors,
            auth_challenge: hex_field(&auth, "challenge"),
            auth_client_data_json: hex_field(&auth, "client_data_json"),
            authenticator_data: hex_field(&auth, "authenticator_data"),
            signature: hex_field(&auth, "signature"),
            top_origin: client_data["topOrigin"].as_str().map(str::to_string),
        });
    }
    out.retain(|v| {
        !std::env::var("SKIP_VECTORS")
            .unwrap_or_default()
            .split(",")
            .any(|s| s == v.name)
    });
    assert!(out.len() >= 12, "expected the W3C vectors in vectors/w3c");
    out
}

/// 2025-01-01T00:00:00Z: inside the validity of the spec's test certificates.
pub const VECTOR_TIME: i64 = 1_735_689_600;

/// The policy a W3C vector is meant to pass: its RP ID and origin, its trust anchors
/// required when it has any, embedding allowed where the vector is cross-origin.
pub fn policy_for(v: &W3cVector) -> Policy {
    let mut policy = Policy::new(v.rp_id.clone()).with_origins([v.origin.clone()]);
    let mut store = TrustStore::new();
    for a in &v.trust_anchors {
        store.add_der(a.clone()).unwrap();
    }
    policy.require_trusted_attestation = !store.is_empty();
    policy.trust_store = store;
    policy.attestation_time = Some(VECTOR_TIME);
    if v.name.contains("crossOrigin") || v.top_origin.is_some() {
        policy.allowed_top_origins = vec![v
            .top_origin
            .clone()
            .unwrap_or_else(|| "https://example.com".into())];
    }
    policy
}
