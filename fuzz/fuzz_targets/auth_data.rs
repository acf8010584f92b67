//! `ctapkit::webauthn::AuthenticatorData::from_bytes` on arbitrary bytes.
//!
//! When it parses: the AT/ED flags match what was parsed, and the raw COSE key slice kept in
//! the attested credential data parses on its own to the same key.
#![no_main]

use ctapkit::cose::PublicKey;
use ctapkit::webauthn::AuthenticatorData;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ad) = AuthenticatorData::from_bytes(data) else {
        return;
    };
    assert_eq!(ad.flags.at(), ad.attested_credential_data.is_some());
    assert_eq!(ad.flags.ed(), ad.extensions.is_some());
    assert_eq!(&ad.rp_id_hash[..], &data[..32]);
    if let Some(acd) = &ad.attested_credential_data {
        match PublicKey::from_cose_bytes(&acd.public_key_cose) {
            Ok(k) => assert_eq!(k, acd.public_key, "public_key_cose parses to another key"),
            Err(e) => panic!("public_key_cose does not parse on its own: {e:?}"),
        }
    }
});
