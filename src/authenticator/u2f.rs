//! CTAP1/U2F on the authenticator side ([FIDO U2F Raw Message Formats v1.2](https://fidoalliance.org/specs/fido-u2f-v1.2-ps-20170411/fido-u2f-raw-message-formats-v1.2-ps-20170411.html)):
//! U2F_REGISTER, U2F_AUTHENTICATE (check-only, enforce and don't-enforce presence) and
//! U2F_VERSION, over short or extended-length APDUs.

use super::keys::{self, CredentialKey};
use super::state::StoredCredential;
use super::{Authenticator, Fault, Presence};
use crate::cose::{CoseAlgorithm, KeyMaterial};
use crate::ctap1::{self, Apdu, StatusWord};
use crate::webauthn::Base64Url;

impl Authenticator {
    /// Handles one CTAP1 APDU; the answer ends with the status word.
    pub(super) fn u2f(&mut self, apdu: &[u8], presence: &mut dyn Presence) -> Vec<u8> {
        let answer = match Apdu::parse(apdu) {
            Err(sw) => Err(sw),
            Ok(apdu) if apdu.cla != 0 => Err(StatusWord::CLA_NOT_SUPPORTED),
            Ok(apdu) => match apdu.ins {
                ctap1::INS_REGISTER => self.u2f_register(&apdu, presence),
                ctap1::INS_AUTHENTICATE => self.u2f_authenticate(&apdu, presence),
                ctap1::INS_VERSION if apdu.data.is_empty() => Ok(b"U2F_V2".to_vec()),
                ctap1::INS_VERSION => Err(StatusWord::WRONG_LENGTH),
                _ => Err(StatusWord::INS_NOT_SUPPORTED),
            },
        };
        if let Err(e) = self.persist() {
            eprintln!("ctapkit emulator: {e}");
        }
        match answer {
            Ok(mut body) => {
                body.extend_from_slice(&StatusWord::NO_ERROR.0.to_be_bytes());
                body
            }
            Err(sw) => sw.0.to_be_bytes().to_vec(),
        }
    }

    fn u2f_register(
        &mut self,
        apdu: &Apdu,
        presence: &mut dyn Presence,
    ) -> Result<Vec<u8>, StatusWord> {
        if apdu.data.len() != 64 {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let (challenge, app) = apdu.data.split_at(32);
        // No touch yet: "test of user presence required"; the client polls.
        if self.user.presence(presence).is_err() {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let attester = self
            .attester
            .as_ref()
            .ok_or(StatusWord::INS_NOT_SUPPORTED)?;
        let (key, pkcs8) = CredentialKey::generate(CoseAlgorithm::Es256)
            .map_err(|_| StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let point = match key.public_key().map(|k| k.material().clone()) {
            Ok(KeyMaterial::Ec2 { x, y, .. }) => [&[0x04u8][..], &x, &y].concat(),
            _ => return Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        };
        let key_handle = keys::random::<64>().to_vec();
        let signed = [&[0x00u8][..], app, challenge, &key_handle, &point].concat();
        let mut sig = attester
            .sign(&signed)
            .map_err(|_| StatusWord::CONDITIONS_NOT_SATISFIED)?;
        if self.has(Fault::BadSignature) {
            let mid = sig.len() / 2;
            sig[mid] ^= 1;
        }
        let created = self.state.next_sequence;
        self.state.next_sequence += 1;
        self.state.credentials.push(StoredCredential {
            id: Base64Url(key_handle.clone()),
            rp_id: String::new(),
            rp_name: None,
            user_id: Base64Url(Vec::new()),
            user_name: None,
            user_display_name: None,
            alg: CoseAlgorithm::Es256.to_i64(),
            private_key: Base64Url(pkcs8),
            sign_count: 0,
            discoverable: false,
            cred_protect: 1,
            cred_random: None,
            cred_blob: None,
            large_blob_key: None,
            created,
            u2f_app: Some(Base64Url(app.to_vec())),
        });
        let mut out = vec![0x05];
        out.extend_from_slice(&point);
        out.push(key_handle.len() as u8);
        out.extend_from_slice(&key_handle);
        out.extend_from_slice(attester.cert());
        out.extend_from_slice(&sig);
        Ok(out)
    }

    fn u2f_authenticate(
        &mut self,
        apdu: &Apdu,
        presence: &mut dyn Presence,
    ) -> Result<Vec<u8>, StatusWord> {
        let data = &apdu.data;
        if data.len() < 65 {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let (challenge, rest) = data.split_at(32);
        let (app, rest) = rest.split_at(32);
        let (&len, key_handle) = rest.split_first().ok_or(StatusWord::WRONG_LENGTH)?;
        if key_handle.len() != usize::from(len) {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let index = self
            .state
            .credentials
            .iter()
            .position(|c| {
                c.id.0 == key_handle && c.u2f_app.as_ref().map(|a| a.0.as_slice()) == Some(app)
            })
            .ok_or(StatusWord::WRONG_DATA)?;
        let user_presence = match apdu.p1 {
            ctap1::P1_CHECK_ONLY => return Err(StatusWord::CONDITIONS_NOT_SATISFIED),
            ctap1::P1_ENFORCE_USER_PRESENCE => {
                self.user
                    .presence(presence)
                    .map_err(|_| StatusWord::CONDITIONS_NOT_SATISFIED)?;
                1u8
            }
            ctap1::P1_DONT_ENFORCE_USER_PRESENCE => 0u8,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let cred = &mut self.state.credentials[index];
        cred.sign_count = cred.sign_count.wrapping_add(1);
        let count = cred.sign_count;
        let key = CredentialKey::from_pkcs8(CoseAlgorithm::Es256, &cred.private_key.0)
            .map_err(|_| StatusWord::WRONG_DATA)?;
        let up = if self.has(Fault::ClearUp) {
            0
        } else {
            user_presence
        };
        let signed = [app, &[up], &count.to_be_bytes(), challenge].concat();
        let mut sig = key.sign(&signed).map_err(|_| StatusWord::WRONG_DATA)?;
        if self.has(Fault::BadSignature) {
            let mid = sig.len() / 2;
            sig[mid] ^= 1;
        }
        let mut out = vec![up];
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&sig);
        Ok(out)
    }
}
