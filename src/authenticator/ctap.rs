//! getInfo, makeCredential, getAssertion, getNextAssertion and reset, following the
//! authenticator steps of CTAP 2.1 §6.1.2, §6.2.2, §6.3 and §6.6.

use std::time::{Duration, Instant};

use super::keys::{self, CredentialKey};
use super::profile::{AttestationKind, SignCountMode};
use super::state::StoredCredential;
use super::{Authenticator, Fault, PendingAssertions, Presence};
use crate::cbor::Value;
use crate::cose::CoseAlgorithm;
use crate::ctap2::client_pin::permission;
use crate::ctap2::extensions::{
    CredBlobInput, CredBlobOutput, ExtensionInputs, ExtensionOutputs, HmacSecretInput,
    HmacSecretOutput,
};
use crate::ctap2::{
    decode_body, AuthenticatorOptions, GetAssertionRequest, GetAssertionResponse, GetInfoResponse,
    MakeCredentialRequest, MakeCredentialResponse, PinUvAuthProtocol,
    PublicKeyCredentialDescriptor, PublicKeyCredentialParameters, PublicKeyCredentialUserEntity,
    Request as _, Response as _, StatusCode,
};
use crate::webauthn::auth_data::{AttestedCredentialData, AuthenticatorData, CredentialId, Flags};
use crate::webauthn::{sha256, Base64Url};

/// Longest credBlob stored.
pub(super) const MAX_CRED_BLOB_LEN: usize = 32;
/// How long getNextAssertion may follow getAssertion.
const PENDING_TIMEOUT: Duration = Duration::from_secs(30);

impl Authenticator {
    pub(super) fn get_info(&self) -> Value {
        let p = &self.profile;
        let mut versions = Vec::new();
        if p.ctap1 {
            versions.push("U2F_V2".to_string());
        }
        versions.push("FIDO_2_0".to_string());
        versions.push("FIDO_2_1".to_string());
        let mut options = vec![
            ("rk".to_string(), p.discoverable_slots != Some(0)),
            ("up".to_string(), true),
            ("plat".to_string(), p.platform),
        ];
        if p.builtin_uv {
            options.push(("uv".to_string(), !p.uv_not_configured));
        }
        if p.client_pin {
            options.push(("clientPin".to_string(), self.state.pin.is_some()));
        }
        if p.credential_management {
            options.push(("credMgmt".to_string(), true));
        }
        if p.client_pin || p.builtin_uv {
            options.push(("pinUvAuthToken".to_string(), true));
        }
        if p.make_cred_uv_not_required {
            options.push(("makeCredUvNotRqd".to_string(), true));
        }
        let remaining = p.discoverable_slots.map(|slots| {
            let used = self
                .state
                .credentials
                .iter()
                .filter(|c| c.discoverable)
                .count();
            slots.saturating_sub(used) as u64
        });
        let info = GetInfoResponse {
            versions,
            extensions: (!p.extensions.is_empty())
                .then(|| p.extensions.iter().map(|e| e.to_string()).collect()),
            aaguid: p.aaguid,
            options: Some(options),
            max_msg_size: Some(1200),
            pin_uv_auth_protocols: (!p.pin_protocols.is_empty())
                .then(|| p.pin_protocols.iter().map(|v| u64::from(*v)).collect()),
            max_credential_count_in_list: Some(8),
            max_credential_id_length: Some(128),
            transports: Some(p.transports.iter().map(|t| t.to_string()).collect()),
            algorithms: Some(
                p.algorithms
                    .iter()
                    .map(|a| PublicKeyCredentialParameters::public_key(*a))
                    .collect(),
            ),
            min_pin_length: p.client_pin.then_some(u64::from(self.state.min_pin_length)),
            firmware_version: Some(0x0001_0000),
            max_cred_blob_length: p
                .extensions
                .contains(&"credBlob")
                .then_some(MAX_CRED_BLOB_LEN as u64),
            remaining_discoverable_credentials: remaining,
            ..Default::default()
        };
        info.to_cbor().unwrap_or(Value::Map(Vec::new()))
    }

    /// Whether the device is protected by some form of user verification.
    fn protected(&self) -> bool {
        self.state.pin.is_some() || (self.profile.builtin_uv && !self.profile.uv_not_configured)
    }

    /// §6.1.2 step 1 / §6.2.2 step 1: a zero-length pinUvAuthParam asks the user to touch,
    /// then answers whether a PIN is set.
    fn zero_length_pin_uv_auth_param(&mut self, presence: &mut dyn Presence) -> StatusCode {
        if let Err(s) = self.user.presence(presence) {
            return s;
        }
        if self.state.pin.is_some() {
            StatusCode::PIN_INVALID
        } else {
            StatusCode::PIN_NOT_SET
        }
    }

    /// Verifies pinUvAuthParam over clientDataHash with the current token and `permission`.
    fn check_pin_uv_auth_param(
        &mut self,
        protocol: Option<u64>,
        param: &[u8],
        client_data_hash: &[u8],
        permission: u64,
        rp_id: &str,
    ) -> Result<(), StatusCode> {
        let protocol = protocol.ok_or(StatusCode::MISSING_PARAMETER)?;
        let protocol = PinUvAuthProtocol::try_from(protocol)
            .ok()
            .filter(|p| self.profile.pin_protocols.contains(&p.value()) || self.profile.builtin_uv)
            .ok_or(StatusCode::INVALID_PARAMETER)?;
        let token = self
            .volatile
            .token
            .as_mut()
            .ok_or(StatusCode::PIN_AUTH_INVALID)?;
        if token.protocol != protocol || !protocol.verify(&token.token, client_data_hash, param) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        if token.permissions & permission == 0 {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        if token.issued.elapsed() > Duration::from_secs(600) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        match &token.rp_id {
            Some(bound) if bound != rp_id => return Err(StatusCode::PIN_AUTH_INVALID),
            Some(_) => {}
            None => token.rp_id = Some(rp_id.to_string()),
        }
        Ok(())
    }

    /// Built-in biometric UV (one gesture, also user presence). Counts retries down.
    pub(super) fn biometric(&mut self, presence: &mut dyn Presence) -> Result<(), StatusCode> {
        if self.state.uv_retries == 0 {
            return Err(StatusCode::UV_BLOCKED);
        }
        if self.user.verify(presence)? {
            self.state.uv_retries = super::state::MAX_UV_RETRIES;
            Ok(())
        } else {
            self.state.uv_retries -= 1;
            if self.state.uv_retries == 0 {
                Err(StatusCode::UV_BLOCKED)
            } else {
                Err(StatusCode::UV_INVALID)
            }
        }
    }

    fn flags(&self, up: bool, uv: bool) -> u8 {
        let mut f = 0;
        if up && !self.has(Fault::ClearUp) {
            f |= Flags::UP;
        }
        if uv && !self.has(Fault::ClearUv) {
            f |= Flags::UV;
        }
        if self.has(Fault::BsWithoutBe) {
            f |= Flags::BS;
        } else {
            if self.profile.backup_eligible {
                f |= Flags::BE;
            }
            if self.profile.backed_up {
                f |= Flags::BS;
            }
        }
        f
    }

    fn rp_id_hash(&self, rp_id: &str) -> [u8; 32] {
        if self.has(Fault::WrongRpIdHash) {
            sha256(format!("not-{rp_id}").as_bytes())
        } else {
            sha256(rp_id.as_bytes())
        }
    }

    fn sign_with(&self, key: &CredentialKey, msg: &[u8]) -> Result<Vec<u8>, StatusCode> {
        let mut sig = key.sign(msg).map_err(|_| StatusCode::OTHER)?;
        if self.has(Fault::BadSignature) {
            let mid = sig.len() / 2;
            if let Some(b) = sig.get_mut(mid) {
                *b ^= 0x01;
            }
        }
        Ok(sig)
    }

    pub(super) fn make_credential(
        &mut self,
        body: &[u8],
        presence: &mut dyn Presence,
    ) -> Result<Value, StatusCode> {
        let req = MakeCredentialRequest::from_cbor(decode_body(body, false)?)?;
        if req.client_data_hash.len() != 32 {
            return Err(StatusCode::INVALID_PARAMETER);
        }
        // Step 1: zero-length pinUvAuthParam.
        if req.pin_uv_auth_param.as_deref() == Some(&[]) {
            return Err(self.zero_length_pin_uv_auth_param(presence));
        }
        // Step 3: the first requested algorithm the authenticator supports.
        let alg = req
            .pub_key_cred_params
            .iter()
            .map(|p| p.alg)
            .find(|a| self.profile.algorithms.contains(a))
            .ok_or(StatusCode::UNSUPPORTED_ALGORITHM)?;
        // Step 5: options.
        let options = req.options.unwrap_or_default();
        let rk = options.rk.unwrap_or(false) || self.profile.always_discoverable;
        if options.rk == Some(true) && self.profile.discoverable_slots == Some(0) {
            return Err(StatusCode::UNSUPPORTED_OPTION);
        }
        if options.up == Some(false) {
            return Err(StatusCode::INVALID_OPTION);
        }
        let mut uv_requested = options.uv == Some(true) && req.pin_uv_auth_param.is_none();
        if uv_requested && (!self.profile.builtin_uv || self.profile.uv_not_configured) {
            return Err(StatusCode::INVALID_OPTION);
        }
        // Steps 6-11: user verification by token, built-in UV, or not at all.
        let mut uv = false;
        if let Some(param) = &req.pin_uv_auth_param {
            self.check_pin_uv_auth_param(
                req.pin_uv_auth_protocol,
                param,
                &req.client_data_hash,
                permission::MAKE_CREDENTIAL,
                &req.rp.id,
            )?;
            uv = true;
        } else if self.protected() {
            let platform_uv = self.profile.builtin_uv && !self.profile.uv_not_configured;
            if platform_uv {
                // A platform authenticator always verifies with its biometric.
                uv_requested = true;
            } else if !self.profile.make_cred_uv_not_required || rk {
                return Err(StatusCode::PUAT_REQUIRED);
            }
        }
        // Step 11: the exclude list.
        if let Some(exclude) = &req.exclude_list {
            let excluded = exclude.iter().any(|d| {
                self.state
                    .credentials
                    .iter()
                    .any(|c| c.rp_id == req.rp.id && c.id.0 == d.id)
            });
            if excluded {
                self.user.presence(presence)?;
                return Err(StatusCode::CREDENTIAL_EXCLUDED);
            }
        }
        // Step 12: extensions.
        let ext = req.extensions.clone().unwrap_or_default();
        let mut outputs = ExtensionOutputs::default();
        let supports = |name: &str| self.profile.extensions.contains(&name);
        let mut cred_protect = 1u8;
        if let (Some(level), true) = (ext.cred_protect, supports("credProtect")) {
            cred_protect = level.to_u64() as u8;
            outputs.cred_protect = Some(level);
        }
        let mut cred_random = None;
        if let (Some(HmacSecretInput::Create(true)), true) =
            (&ext.hmac_secret, supports("hmac-secret"))
        {
            cred_random = Some(Base64Url(keys::random::<64>().to_vec()));
            outputs.hmac_secret = Some(HmacSecretOutput::Created(true));
        }
        let mut cred_blob = None;
        if let (Some(CredBlobInput::Store(blob)), true) = (&ext.cred_blob, supports("credBlob")) {
            let ok = blob.len() <= MAX_CRED_BLOB_LEN;
            if ok {
                cred_blob = Some(Base64Url(blob.clone()));
            }
            outputs.cred_blob = Some(CredBlobOutput::Stored(ok));
        }
        let large_blob_key = (ext.large_blob_key == Some(true) && supports("largeBlobKey") && rk)
            .then(|| keys::random::<32>().to_vec());
        // Step 13: the user: biometric (presence and verification) or a touch.
        if uv_requested {
            self.biometric(presence)?;
            uv = true;
        } else {
            self.user.presence(presence)?;
        }
        // Step 14-16: store the credential.
        if rk {
            if let Some(slots) = self.profile.discoverable_slots {
                let same_user = |c: &StoredCredential| {
                    c.discoverable && c.rp_id == req.rp.id && c.user_id.0 == req.user.id
                };
                let used = self
                    .state
                    .credentials
                    .iter()
                    .filter(|c| c.discoverable && !same_user(c))
                    .count();
                if used >= slots {
                    return Err(StatusCode::KEY_STORE_FULL);
                }
            }
            // A new discoverable credential replaces the one for the same RP and user.
            let (rp, user) = (req.rp.id.clone(), req.user.id.clone());
            self.state
                .credentials
                .retain(|c| !(c.discoverable && c.rp_id == rp && c.user_id.0 == user));
        }
        let (key, pkcs8) = CredentialKey::generate(alg).map_err(|_| StatusCode::OTHER)?;
        let public_key = key.public_key().map_err(|_| StatusCode::OTHER)?;
        let id = keys::random::<32>().to_vec();
        let initial_count = if self.has(Fault::SignCountRegression) {
            5
        } else {
            0
        };
        let created = self.state.next_sequence;
        self.state.next_sequence += 1;
        self.state.credentials.push(StoredCredential {
            id: Base64Url(id.clone()),
            rp_id: req.rp.id.clone(),
            rp_name: req.rp.name.clone(),
            user_id: Base64Url(req.user.id.clone()),
            user_name: req.user.name.clone(),
            user_display_name: req.user.display_name.clone(),
            alg: alg.to_i64(),
            private_key: Base64Url(pkcs8),
            sign_count: initial_count,
            discoverable: rk,
            cred_protect,
            cred_random,
            cred_blob,
            large_blob_key: large_blob_key.clone().map(Base64Url),
            created,
            u2f_app: None,
        });
        // Step 17: authenticator data.
        let mut aaguid = self.profile.aaguid;
        if self.has(Fault::WrongAaguid) {
            aaguid.0[0] ^= 0xff;
        }
        let mut flags = self.flags(true, uv) | Flags::AT;
        let extensions = (!outputs.is_empty()).then(|| outputs.to_cbor());
        if extensions.is_some() {
            flags |= Flags::ED;
        }
        let auth_data = AuthenticatorData {
            rp_id_hash: self.rp_id_hash(&req.rp.id),
            flags: Flags(flags),
            sign_count: initial_count,
            attested_credential_data: Some(AttestedCredentialData {
                aaguid,
                credential_id: CredentialId::new(id).ok_or(StatusCode::OTHER)?,
                public_key_cose: public_key.to_cose_bytes(),
                public_key,
            }),
            extensions,
        }
        .to_bytes();
        // Step 19: attestation.
        let (fmt, att_stmt) = match (self.profile.attestation, &self.attester) {
            (AttestationKind::PackedX5c, Some(attester)) => {
                let signed = [auth_data.as_slice(), &req.client_data_hash].concat();
                let mut sig = attester.sign(&signed).map_err(|_| StatusCode::OTHER)?;
                if self.has(Fault::BadSignature) {
                    let mid = sig.len() / 2;
                    if let Some(b) = sig.get_mut(mid) {
                        *b ^= 0x01;
                    }
                }
                (
                    "packed",
                    Value::Map(vec![
                        (
                            Value::Text("alg".into()),
                            Value::from(CoseAlgorithm::Es256.to_i64()),
                        ),
                        (Value::Text("sig".into()), Value::Bytes(sig)),
                        (
                            Value::Text("x5c".into()),
                            Value::Array(vec![Value::Bytes(attester.cert().to_vec())]),
                        ),
                    ]),
                )
            }
            _ => ("none", Value::Map(Vec::new())),
        };
        self.volatile.pending = None;
        let response = MakeCredentialResponse {
            fmt: fmt.to_string(),
            auth_data,
            att_stmt,
            ep_att: None,
            large_blob_key,
        };
        response.to_cbor().ok_or(StatusCode::OTHER)
    }

    pub(super) fn get_assertion(
        &mut self,
        body: &[u8],
        presence: &mut dyn Presence,
    ) -> Result<Value, StatusCode> {
        let req = GetAssertionRequest::from_cbor(decode_body(body, false)?)?;
        if req.client_data_hash.len() != 32 {
            return Err(StatusCode::INVALID_PARAMETER);
        }
        if req.pin_uv_auth_param.as_deref() == Some(&[]) {
            return Err(self.zero_length_pin_uv_auth_param(presence));
        }
        let options: AuthenticatorOptions = req.options.unwrap_or_default();
        if options.rk.is_some() {
            return Err(StatusCode::UNSUPPORTED_OPTION);
        }
        let up = options.up.unwrap_or(true);
        let mut uv_requested = options.uv == Some(true) && req.pin_uv_auth_param.is_none();
        if uv_requested && (!self.profile.builtin_uv || self.profile.uv_not_configured) {
            return Err(StatusCode::INVALID_OPTION);
        }
        let mut uv = false;
        if let Some(param) = &req.pin_uv_auth_param {
            self.check_pin_uv_auth_param(
                req.pin_uv_auth_protocol,
                param,
                &req.client_data_hash,
                permission::GET_ASSERTION,
                &req.rp_id,
            )?;
            uv = true;
        } else if up && self.profile.builtin_uv && !self.profile.uv_not_configured {
            uv_requested = true;
        }
        // Locate credentials.
        let allow: Vec<Vec<u8>> = req
            .allow_list
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|d| d.id.clone())
            .collect();
        let will_verify = uv || uv_requested;
        let mut found: Vec<StoredCredential> = self
            .state
            .credentials
            .iter()
            .filter(|c| c.rp_id == req.rp_id)
            .filter(|c| {
                if allow.is_empty() {
                    c.discoverable
                } else {
                    allow.contains(&c.id.0)
                }
            })
            .filter(|c| match c.cred_protect {
                3 => will_verify,
                2 => will_verify || !allow.is_empty(),
                _ => true,
            })
            .cloned()
            .collect();
        if found.is_empty() {
            return Err(StatusCode::NO_CREDENTIALS);
        }
        found.sort_by_key(|c| std::cmp::Reverse(c.created));
        // The user.
        if uv_requested {
            self.biometric(presence)?;
            uv = true;
        } else if up {
            self.user.presence(presence)?;
        }
        let flags = self.flags(up, uv);
        let ext = req.extensions.clone().unwrap_or_default();
        let first = found[0].clone();
        let response =
            self.assert_one(&first, &req.rp_id, &req.client_data_hash, flags, &ext, uv)?;
        let mut response = response;
        if allow.is_empty() && found.len() > 1 {
            response.number_of_credentials = Some(found.len() as u64);
            self.volatile.pending = Some(PendingAssertions {
                credential_ids: found.iter().map(|c| c.id.0.clone()).collect(),
                next: 1,
                rp_id: req.rp_id.clone(),
                client_data_hash: req.client_data_hash.clone(),
                flags,
                issued: Instant::now(),
            });
        } else {
            self.volatile.pending = None;
        }
        response.to_cbor().ok_or(StatusCode::OTHER)
    }

    pub(super) fn get_next_assertion(&mut self) -> Result<Value, StatusCode> {
        let pending = self
            .volatile
            .pending
            .take()
            .ok_or(StatusCode::NOT_ALLOWED)?;
        if pending.issued.elapsed() > PENDING_TIMEOUT
            || pending.next >= pending.credential_ids.len()
        {
            return Err(StatusCode::NOT_ALLOWED);
        }
        let id = &pending.credential_ids[pending.next];
        let cred = self
            .state
            .credentials
            .iter()
            .find(|c| &c.id.0 == id)
            .cloned()
            .ok_or(StatusCode::NOT_ALLOWED)?;
        let uv = pending.flags & Flags::UV != 0;
        let response = self.assert_one(
            &cred,
            &pending.rp_id,
            &pending.client_data_hash,
            pending.flags,
            &ExtensionInputs::default(),
            uv,
        )?;
        let mut next = pending;
        next.next += 1;
        if next.next < next.credential_ids.len() {
            self.volatile.pending = Some(next);
        }
        response.to_cbor().ok_or(StatusCode::OTHER)
    }

    /// Signs one assertion for `cred`, updating its counter.
    fn assert_one(
        &mut self,
        cred: &StoredCredential,
        rp_id: &str,
        client_data_hash: &[u8],
        flags: u8,
        ext: &ExtensionInputs,
        uv: bool,
    ) -> Result<GetAssertionResponse, StatusCode> {
        let alg = CoseAlgorithm::from_i64(cred.alg);
        let key =
            CredentialKey::from_pkcs8(alg, &cred.private_key.0).map_err(|_| StatusCode::OTHER)?;
        let count = match self.profile.sign_count {
            SignCountMode::AlwaysZero => 0,
            SignCountMode::PerCredential => {
                let stored = self
                    .state
                    .credentials
                    .iter_mut()
                    .find(|c| c.id == cred.id)
                    .ok_or(StatusCode::OTHER)?;
                stored.sign_count = stored.sign_count.wrapping_add(1);
                stored.sign_count
            }
        };
        let count = if self.has(Fault::SignCountRegression) {
            3
        } else {
            count
        };
        let mut outputs = ExtensionOutputs::default();
        if let Some(HmacSecretInput::Get(input)) = &ext.hmac_secret {
            outputs.hmac_secret =
                Some(HmacSecretOutput::Secret(self.hmac_secret(cred, input, uv)?));
        }
        if let Some(CredBlobInput::Get(true)) = &ext.cred_blob {
            outputs.cred_blob = Some(CredBlobOutput::Blob(
                cred.cred_blob
                    .as_ref()
                    .map(|b| b.0.clone())
                    .unwrap_or_default(),
            ));
        }
        let mut flags = flags;
        let extensions = (!outputs.is_empty()).then(|| outputs.to_cbor());
        if extensions.is_some() {
            flags |= Flags::ED;
        }
        let auth_data = AuthenticatorData {
            rp_id_hash: self.rp_id_hash(rp_id),
            flags: Flags(flags),
            sign_count: count,
            attested_credential_data: None,
            extensions,
        }
        .to_bytes();
        let signed = [auth_data.as_slice(), client_data_hash].concat();
        let signature = self.sign_with(&key, &signed)?;
        let user = cred.discoverable.then(|| PublicKeyCredentialUserEntity {
            id: cred.user_id.0.clone(),
            name: if uv { cred.user_name.clone() } else { None },
            display_name: if uv {
                cred.user_display_name.clone()
            } else {
                None
            },
        });
        Ok(GetAssertionResponse {
            credential: Some(PublicKeyCredentialDescriptor::public_key(cred.id.0.clone())),
            auth_data,
            signature,
            user,
            number_of_credentials: None,
            user_selected: None,
            large_blob_key: None,
        })
    }

    /// hmac-secret (§12.5): HMAC-SHA-256 of CredRandom over the decrypted salts.
    fn hmac_secret(
        &mut self,
        cred: &StoredCredential,
        input: &crate::ctap2::extensions::HmacSecretGetInput,
        uv: bool,
    ) -> Result<Vec<u8>, StatusCode> {
        let cred_random = cred
            .cred_random
            .as_ref()
            .ok_or(StatusCode::INVALID_PARAMETER)?;
        let protocol = PinUvAuthProtocol::try_from(input.pin_uv_auth_protocol.unwrap_or(1))
            .map_err(|_| StatusCode::INVALID_PARAMETER)?;
        let peer = crate::ctap2::EcdhPublicKey::from_cose_value(&input.key_agreement)
            .map_err(|e| e.to_status())?;
        let shared = self
            .key_agreement(protocol)?
            .decapsulate(&peer)
            .map_err(|e| e.to_status())?;
        if !protocol.verify(&shared, &input.salt_enc, &input.salt_auth) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        let salts = protocol
            .decrypt(&shared, &input.salt_enc)
            .map_err(|e| e.to_status())?;
        if salts.len() != 32 && salts.len() != 64 {
            return Err(StatusCode::INVALID_LENGTH);
        }
        let secret = if uv {
            &cred_random.0[..32]
        } else {
            &cred_random.0[32..]
        };
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        let mut out = Vec::with_capacity(64);
        for salt in salts.chunks(32) {
            out.extend_from_slice(aws_lc_rs::hmac::sign(&key, salt).as_ref());
        }
        protocol.encrypt(&shared, &out).map_err(|e| e.to_status())
    }

    pub(super) fn reset(&mut self, presence: &mut dyn Presence) -> Result<(), StatusCode> {
        self.user.presence(presence)?;
        self.state.reset();
        self.volatile = super::Volatile::default();
        Ok(())
    }
}
