//! Authenticator models known by AAGUID, for labels and reports. The names and AAGUIDs are
//! the ones the vendors publish (FIDO MDS3 entries, and the community list of passkey
//! provider AAGUIDs for platform authenticators, which carry no metadata statement).

use super::auth_data::Aaguid;

/// (AAGUID, model name).
const MODELS: &[(&str, &str)] = &[
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    (
        "dd4ec289-e01d-41c9-bb89-70fa845d4bf2",
        "iCloud Keychain (managed)",
    ),
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    ("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series"),
    (
        "fa2b99dc-9e39-4257-8f92-4a30d23c4118",
        "YubiKey 5 Series with NFC",
    ),
    (
        "2fc0579f-8113-47ea-b116-bb5a8db9202a",
        "YubiKey 5 Series with NFC",
    ),
    (
        "c7a1b0e4-7d3f-4e0b-9a51-2f6d8e1c4b90",
        "ctapkit emulated security key",
    ),
];

/// The model name for `aaguid`, when it is known.
pub fn model_name(aaguid: &Aaguid) -> Option<&'static str> {
    if *aaguid == Aaguid::ZERO {
        return None;
    }
    let text = aaguid.to_string();
    MODELS
        .iter()
        .find(|(id, _)| *id == text)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_a_valid_aaguid_and_is_found() {
        for (id, name) in MODELS {
            let aaguid = Aaguid::parse(id).unwrap_or(Aaguid::ZERO);
            assert_ne!(aaguid, Aaguid::ZERO, "{id}");
            assert_eq!(model_name(&aaguid), Some(*name));
        }
    }

    #[test]
    fn zero_and_unknown_have_no_model() {
        assert_eq!(model_name(&Aaguid::ZERO), None);
        assert_eq!(model_name(&Aaguid([7; 16])), None);
    }
}
