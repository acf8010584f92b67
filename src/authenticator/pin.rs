//! authenticatorClientPIN, the authenticator side (CTAP 2.1 §6.5.5): PIN/UV auth protocols
//! 1 and 2, retries, blocking after 3 consecutive failures (power cycle) and after 8 in all.

use std::time::Instant;

use super::keys;
use super::state::{PinState, MAX_PIN_RETRIES, MAX_UV_RETRIES};
use super::{Authenticator, PinToken, Presence};
use crate::cbor::Value;
use crate::ctap2::client_pin::{self, permission};
use crate::ctap2::{
    decode_body, ClientPinRequest, ClientPinResponse, ClientPinSubCommand, KeyAgreementKey,
    PinUvAuthProtocol, Request as _, Response as _, StatusCode,
};
use crate::webauthn::Base64Url;

/// Consecutive wrong PINs before a power cycle is required.
const MAX_CONSECUTIVE_FAILURES: u8 = 3;

/// A required request member, or CTAP2_ERR_MISSING_PARAMETER.
fn required<T>(member: &Option<T>) -> Result<&T, StatusCode> {
    member.as_ref().ok_or(StatusCode::MISSING_PARAMETER)
}

impl Authenticator {
    /// The key agreement key for `protocol`, generated on first use (volatile).
    pub(super) fn key_agreement(
        &mut self,
        protocol: PinUvAuthProtocol,
    ) -> Result<&KeyAgreementKey, StatusCode> {
        let pos = self
            .volatile
            .key_agreement
            .iter()
            .position(|k| k.protocol() == protocol);
        let pos = match pos {
            Some(p) => p,
            None => {
                let key = KeyAgreementKey::generate(protocol).map_err(|e| e.to_status())?;
                self.volatile.key_agreement.push(key);
                self.volatile.key_agreement.len() - 1
            }
        };
        Ok(&self.volatile.key_agreement[pos])
    }

    /// Decapsulates the platform's key agreement key into the shared secret.
    fn shared_secret(
        &mut self,
        p: PinUvAuthProtocol,
        peer: &crate::ctap2::EcdhPublicKey,
    ) -> Result<Vec<u8>, StatusCode> {
        self.key_agreement(p)?
            .decapsulate(peer)
            .map_err(|e| e.to_status())
    }

    fn regenerate_key_agreement(&mut self) {
        for key in &mut self.volatile.key_agreement {
            let _ = key.regenerate();
        }
    }

    pub(super) fn client_pin(
        &mut self,
        body: &[u8],
        presence: &mut dyn Presence,
    ) -> Result<Option<Value>, StatusCode> {
        if !self.profile.client_pin && !self.profile.builtin_uv {
            return Err(StatusCode::INVALID_COMMAND);
        }
        let req = ClientPinRequest::from_cbor(decode_body(body, false)?)?;
        use ClientPinSubCommand as Sub;
        let needs_protocol = !matches!(req.sub_command, Sub::GetPinRetries | Sub::GetUvRetries);
        let protocol = if needs_protocol {
            let p = req.protocol()?;
            if !self.profile.pin_protocols.contains(&p.value()) && !self.profile.builtin_uv {
                return Err(StatusCode::INVALID_PARAMETER);
            }
            Some(p)
        } else {
            None
        };
        let response = match (req.sub_command, protocol) {
            (Sub::GetPinRetries, _) => ClientPinResponse {
                pin_retries: Some(u64::from(self.state.pin_retries)),
                power_cycle_state: Some(
                    self.volatile.consecutive_pin_failures >= MAX_CONSECUTIVE_FAILURES,
                ),
                ..Default::default()
            },
            (Sub::GetUvRetries, _) => {
                if !self.profile.builtin_uv {
                    return Err(StatusCode::INVALID_SUBCOMMAND);
                }
                ClientPinResponse {
                    uv_retries: Some(u64::from(self.state.uv_retries)),
                    ..Default::default()
                }
            }
            (Sub::GetKeyAgreement, Some(p)) => ClientPinResponse {
                key_agreement: Some(self.key_agreement(p)?.public_key().clone()),
                ..Default::default()
            },
            (Sub::SetPin, Some(p)) => {
                self.set_pin(p, &req)?;
                ClientPinResponse::default()
            }
            (Sub::ChangePin, Some(p)) => {
                self.change_pin(p, &req)?;
                ClientPinResponse::default()
            }
            (Sub::GetPinToken, Some(p)) => {
                if req.permissions.is_some() || req.rp_id.is_some() {
                    return Err(StatusCode::INVALID_PARAMETER);
                }
                let shared = self.check_pin(p, &req)?;
                self.issue_token(
                    p,
                    &shared,
                    permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
                    None,
                )?
            }
            (Sub::GetPinUvAuthTokenUsingPinWithPermissions, Some(p)) => {
                let permissions = self.requested_permissions(&req)?;
                let shared = self.check_pin(p, &req)?;
                self.issue_token(p, &shared, permissions, req.rp_id.clone())?
            }
            (Sub::GetPinUvAuthTokenUsingUvWithPermissions, Some(p)) => {
                if !self.profile.builtin_uv {
                    return Err(StatusCode::INVALID_SUBCOMMAND);
                }
                if self.profile.uv_not_configured {
                    return Err(StatusCode::NOT_ALLOWED);
                }
                let permissions = self.requested_permissions(&req)?;
                let peer = required(&req.key_agreement)?;
                let shared = self.shared_secret(p, peer)?;
                self.biometric(presence)?;
                self.issue_token(p, &shared, permissions, req.rp_id.clone())?
            }
            _ => return Err(StatusCode::INVALID_SUBCOMMAND),
        };
        Ok(response.to_cbor())
    }

    fn requested_permissions(&self, req: &ClientPinRequest) -> Result<u64, StatusCode> {
        let permissions = req.permissions.ok_or(StatusCode::MISSING_PARAMETER)?;
        if permissions == 0 {
            return Err(StatusCode::INVALID_PARAMETER);
        }
        let unsupported = permission::BIO_ENROLLMENT
            | permission::LARGE_BLOB_WRITE
            | permission::AUTHENTICATOR_CONFIGURATION
            | if self.profile.credential_management {
                0
            } else {
                permission::CREDENTIAL_MANAGEMENT
            };
        if permissions & unsupported != 0 {
            return Err(StatusCode::UNAUTHORIZED_PERMISSION);
        }
        Ok(permissions)
    }

    fn set_pin(&mut self, p: PinUvAuthProtocol, req: &ClientPinRequest) -> Result<(), StatusCode> {
        let peer = required(&req.key_agreement)?;
        let param = required(&req.pin_uv_auth_param)?;
        let new_pin_enc = required(&req.new_pin_enc)?;
        if self.state.pin.is_some() {
            return Err(StatusCode::NOT_ALLOWED);
        }
        let shared = self.shared_secret(p, peer)?;
        if !p.verify(&shared, new_pin_enc, param) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        self.store_new_pin(p, &shared, new_pin_enc)
    }

    fn store_new_pin(
        &mut self,
        p: PinUvAuthProtocol,
        shared: &[u8],
        new_pin_enc: &[u8],
    ) -> Result<(), StatusCode> {
        let pin = client_pin::decrypt_new_pin(
            p,
            shared,
            new_pin_enc,
            usize::from(self.state.min_pin_length),
        )?;
        let code_points = pin.chars().count();
        self.state.pin = Some(PinState {
            hash: Base64Url(client_pin::pin_hash(&pin).to_vec()),
            code_points,
        });
        self.state.pin_retries = MAX_PIN_RETRIES;
        self.volatile.token = None;
        Ok(())
    }

    fn change_pin(
        &mut self,
        p: PinUvAuthProtocol,
        req: &ClientPinRequest,
    ) -> Result<(), StatusCode> {
        let param = required(&req.pin_uv_auth_param)?;
        let new_pin_enc = required(&req.new_pin_enc)?;
        let pin_hash_enc = required(&req.pin_hash_enc)?;
        let peer = required(&req.key_agreement)?;
        if self.state.pin.is_none() {
            return Err(StatusCode::PIN_NOT_SET);
        }
        let shared = self.shared_secret(p, peer)?;
        let signed = [new_pin_enc.as_slice(), pin_hash_enc].concat();
        if !p.verify(&shared, &signed, param) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        self.verify_pin_hash(p, &shared, pin_hash_enc)?;
        self.store_new_pin(p, &shared, new_pin_enc)
    }

    /// Decapsulates and checks pinHashEnc; returns the shared secret.
    fn check_pin(
        &mut self,
        p: PinUvAuthProtocol,
        req: &ClientPinRequest,
    ) -> Result<Vec<u8>, StatusCode> {
        let peer = required(&req.key_agreement)?;
        let pin_hash_enc = required(&req.pin_hash_enc)?;
        if self.state.pin.is_none() {
            return Err(StatusCode::PIN_NOT_SET);
        }
        let shared = self.shared_secret(p, peer)?;
        self.verify_pin_hash(p, &shared, pin_hash_enc)?;
        Ok(shared)
    }

    /// The PIN check with retries (§6.5.5.5 "Validating pinHashEnc").
    fn verify_pin_hash(
        &mut self,
        p: PinUvAuthProtocol,
        shared: &[u8],
        pin_hash_enc: &[u8],
    ) -> Result<(), StatusCode> {
        if self.state.pin_retries == 0 {
            return Err(StatusCode::PIN_BLOCKED);
        }
        if self.volatile.consecutive_pin_failures >= MAX_CONSECUTIVE_FAILURES {
            return Err(StatusCode::PIN_AUTH_BLOCKED);
        }
        // Decrement first, so that a crash mid-check cannot give a free attempt.
        self.state.pin_retries -= 1;
        self.persist().map_err(|_| StatusCode::OTHER)?;
        let expected = self
            .state
            .pin
            .as_ref()
            .map(|s| s.hash.0.clone())
            .unwrap_or_default();
        let matches = p
            .decrypt(shared, pin_hash_enc)
            .map(|h| {
                h.len() == 16
                    && aws_lc_rs::constant_time::verify_slices_are_equal(&h, &expected).is_ok()
            })
            .unwrap_or(false);
        if !matches {
            self.regenerate_key_agreement();
            self.volatile.consecutive_pin_failures += 1;
            return Err(if self.state.pin_retries == 0 {
                StatusCode::PIN_BLOCKED
            } else if self.volatile.consecutive_pin_failures >= MAX_CONSECUTIVE_FAILURES {
                StatusCode::PIN_AUTH_BLOCKED
            } else {
                StatusCode::PIN_INVALID
            });
        }
        self.state.pin_retries = MAX_PIN_RETRIES;
        self.state.uv_retries = MAX_UV_RETRIES;
        self.volatile.consecutive_pin_failures = 0;
        Ok(())
    }

    fn issue_token(
        &mut self,
        p: PinUvAuthProtocol,
        shared: &[u8],
        permissions: u64,
        rp_id: Option<String>,
    ) -> Result<ClientPinResponse, StatusCode> {
        let token = keys::random::<32>();
        let encrypted = p.encrypt(shared, &token).map_err(|e| e.to_status())?;
        self.volatile.token = Some(PinToken {
            token,
            protocol: p,
            permissions,
            rp_id,
            issued: Instant::now(),
        });
        Ok(ClientPinResponse {
            pin_uv_auth_token: Some(encrypted),
            ..Default::default()
        })
    }
}
