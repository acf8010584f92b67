"""Independent interop checks: Yubico's python-fido2 (a client and an RP that ctapkit did not
write) drives `ctapkit emulate --udp` and verifies what it produced.

The emulator binary comes from $CTAPKIT_BIN (scripts/test sets it); each test starts its own
emulator on free loopback ports with a temporary --state file and stops it afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fido2.attestation import (
    AttestationType,
    AttestationVerifier,
    InvalidSignature,
    NoneAttestation,
    PackedAttestation,
    verify_x509_chain,
)
from fido2.client import (
    ClientError,
    DefaultClientDataCollector,
    Fido2Client,
    UserInteraction,
)
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.server import Fido2Server
from fido2.utils import sha256
from fido2.webauthn import (
    AttestationConveyancePreference,
    AttestationObject,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from udp_device import UdpCtapHidConnection, open_device

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "https://example.com"
RP = PublicKeyCredentialRpEntity(id="example.com", name="ctapkit interop RP")
USER = PublicKeyCredentialUserEntity(
    id=b"user-0001-python-fido2", name="alice@example.com", display_name="Alice"
)
PIN = "4821-ctapkit"

ES256, EDDSA, RS256 = -7, -8, -257
ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"
GOOGLE_PASSWORD_MANAGER_AAGUID = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
CTAPKIT_SECURITY_KEY_AAGUID = "c7a1b0e4-7d3f-4e0b-9a51-2f6d8e1c4b90"

# authenticatorData flags (WebAuthn §6.1).
UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80


# --------------------------------------------------------------------------- emulator


def ctapkit_bin() -> str:
    explicit = os.environ.get("CTAPKIT_BIN")
    if explicit:
        return explicit
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    candidate = target / "debug" / "ctapkit"
    if candidate.is_file():
        return str(candidate)
    pytest.fail(
        "set CTAPKIT_BIN to the ctapkit binary (scripts/test does; or run `cargo build --bin ctapkit`)"
    )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One `ctapkit emulate --udp` process and a python-fido2 device/Ctap2 talking to it."""

    def __init__(
        self,
        binary: str,
        profile: str,
        state: Path,
        log: Path,
        extra: list[str],
        ca_der: bytes | None = None,
    ):
        self.binary, self.profile, self.state, self.log = binary, profile, state, log
        self.ca_der = ca_der  # the attestation CA for `state` (security-key only)
        self.proc: subprocess.Popen | None = None
        self.conn: UdpCtapHidConnection | None = None
        for _attempt in range(5):
            if self._start(extra):
                break
        else:
            raise RuntimeError(f"ctapkit emulate --profile {profile} did not start:\n{self.stderr()}")
        try:
            self.device = open_device(self.conn)
            self.ctap2 = Ctap2(self.device)
        except BaseException:
            self.stop()
            raise

    def _start(self, extra: list[str]) -> bool:
        # Our socket is the emulator's --peer (bound first, so it is ours); its --udp port is
        # a free port picked just before, retried if someone else took it meanwhile.
        self.conn = UdpCtapHidConnection(("127.0.0.1", free_udp_port()))
        argv = [
            self.binary, "emulate",
            "--profile", self.profile,
            "--udp", f"127.0.0.1:{self.conn.device[1]}",
            "--peer", f"127.0.0.1:{self.conn.local[1]}",
            "--state", str(self.state),
            "--user", "approve",
            *extra,
        ]
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.conn.close()
                return False  # e.g. the --udp port was taken: try other ports
            if self.conn.probe():
                self.conn.drain()
                return True
        self.stop()
        raise RuntimeError(f"ctapkit emulate never answered CTAPHID_INIT:\n{self.stderr()}")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def fresh_ctap2(self) -> Ctap2:
        """A Ctap2 with current getInfo (python-fido2 caches it per Ctap2 instance)."""
        self.ctap2 = Ctap2(self.device)
        return self.ctap2

    def client(self, pin: str | None = None) -> tuple[Fido2Client, "Interaction"]:
        interaction = Interaction(pin)
        return (
            Fido2Client(self.device, DefaultClientDataCollector(ORIGIN), interaction),
            interaction,
        )

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def attestation_ca_der(binary: str, state: Path) -> bytes:
    """The CA that signs the security-key attestation certificates for `state`."""
    out = subprocess.run(
        [binary, "emulate", "--profile", "security-key", "--state", str(state),
         "--print-attestation-ca"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    return x509.load_pem_x509_certificate(out.encode()).public_bytes(Encoding.DER)


@pytest.fixture
def emulator(tmp_path):
    """Factory: emulator(profile, *extra_args) -> a running Emulator, stopped after the test."""
    binary = ctapkit_bin()
    started: list[Emulator] = []

    def start(profile: str, *extra: str) -> Emulator:
        n = len(started)
        state = tmp_path / f"{profile}-{n}.state.json"
        if profile == "security-key":
            # Creates the state file with its attestation CA before the emulator opens it.
            ca = attestation_ca_der(binary, state)
        else:
            ca = None
        emu = Emulator(binary, profile, state, tmp_path / f"{profile}-{n}.stderr", list(extra), ca)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()
        print(f"--- ctapkit emulate --profile {emu.profile} stderr ---\n{emu.stderr()}")


class Interaction(UserInteraction):
    """The person at the keyboard: always approves, and knows the PIN when there is one."""

    def __init__(self, pin: str | None):
        self.pin = pin
        self.pin_requests = 0

    def request_pin(self, permissions, rp_id):
        self.pin_requests += 1
        return self.pin

    def request_uv(self, permissions, rp_id):
        return True


class CtapkitCa(AttestationVerifier):
    """Trusts exactly one CA: the ctapkit test CA printed for the emulator's state file."""

    def __init__(self, ca_der: bytes):
        super().__init__()
        self.ca_der = ca_der

    def ca_lookup(self, attestation_result, auth_data):
        return self.ca_der


def server_for(alg: int, attestation: str = "none", ca_der: bytes | None = None) -> Fido2Server:
    server = Fido2Server(
        RP,
        attestation=AttestationConveyancePreference(attestation),
        verify_attestation=CtapkitCa(ca_der) if ca_der else None,
    )
    server.allowed_algorithms = [
        PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=alg)
    ]
    return server


# --------------------------------------------------------------------------- getInfo

EXPECTED_INFO = {
    "ios": dict(
        versions=["FIDO_2_0", "FIDO_2_1"],
        aaguid=ZERO_AAGUID,
        options={"plat": True, "uv": True, "rk": True, "up": True},
        absent_options=["clientPin"],
        algorithms=[ES256],
    ),
    "android": dict(
        versions=["FIDO_2_0", "FIDO_2_1"],
        aaguid=GOOGLE_PASSWORD_MANAGER_AAGUID,
        options={"plat": True, "uv": True, "rk": True, "up": True},
        absent_options=["clientPin"],
        algorithms=[ES256, RS256],
    ),
    "security-key": dict(
        versions=["U2F_V2", "FIDO_2_0", "FIDO_2_1"],
        aaguid=CTAPKIT_SECURITY_KEY_AAGUID,
        options={
            "plat": False, "clientPin": False, "rk": True, "up": True,
            "pinUvAuthToken": True, "credMgmt": True, "makeCredUvNotRqd": True,
        },
        absent_options=["uv"],
        algorithms=[ES256, EDDSA],
    ),
    "no-biometric": dict(
        versions=["FIDO_2_0", "FIDO_2_1"],
        aaguid=ZERO_AAGUID,
        options={"plat": True, "uv": False, "rk": True, "up": True},
        absent_options=["clientPin"],
        algorithms=[ES256],
    ),
}


@pytest.mark.parametrize("profile", list(EXPECTED_INFO))
def test_get_info(emulator, profile):
    """Ctap2(device).info (python-fido2 also rejects non-canonical CBOR here)."""
    info = emulator(profile).ctap2.info
    want = EXPECTED_INFO[profile]
    assert info.versions == want["versions"]
    assert str(info.aaguid) == want["aaguid"]
    for name, value in want["options"].items():
        assert info.options.get(name) == value, f"option {name}: {info.options}"
    for name in want["absent_options"]:
        assert name not in info.options, f"option {name} should be absent: {info.options}"
    assert info.algorithms == [{"alg": a, "type": "public-key"} for a in want["algorithms"]]
    assert "credProtect" in info.extensions
    if profile == "security-key":
        assert info.pin_uv_protocols == [2, 1]
        assert info.transports == ["usb", "nfc"]
    else:
        assert info.transports == ["internal", "hybrid"]


# --------------------------------------------------------------------------- WebAuthn ceremonies

PROFILE_ALGORITHMS = {"ios": [ES256], "android": [ES256, RS256], "security-key": [ES256, EDDSA]}


def flags_of(auth_data) -> int:
    return int(auth_data.flags)


def ceremony_params():
    for profile, algs in PROFILE_ALGORITHMS.items():
        for alg in algs:
            yield pytest.param(profile, alg, id=f"{profile}-{alg}")


@pytest.mark.parametrize("profile,alg", list(ceremony_params()))
def test_register_and_sign_in(emulator, profile, alg):
    """Fido2Client registers and signs in; Fido2Server verifies both (and the attestation)."""
    emu = emulator(profile)
    is_key = profile == "security-key"
    if is_key:
        ClientPin(emu.ctap2).set_pin(PIN)
    client, interaction = emu.client(PIN if is_key else None)
    uv = UserVerificationRequirement.REQUIRED
    server = server_for(alg, "direct" if is_key else "none", emu.ca_der if is_key else None)

    # Registration.
    create, state = server.register_begin(
        USER, user_verification=uv, resident_key_requirement=ResidentKeyRequirement.REQUIRED
    )
    reg = client.make_credential(create.public_key)
    auth_data = server.register_complete(state, reg)  # origin, challenge, rpIdHash, UP, UV, attestation
    cred = auth_data.credential_data
    assert cred.public_key.ALGORITHM == alg
    att = reg.response.attestation_object
    flags = flags_of(auth_data)
    assert flags & (UP | UV | AT) == UP | UV | AT
    if is_key:
        assert interaction.pin_requests >= 1, "python-fido2 never asked for the PIN"
        assert str(cred.aaguid) == CTAPKIT_SECURITY_KEY_AAGUID
        assert flags & (BE | BS) == 0
        assert att.fmt == "packed"
        result = PackedAttestation().verify(att.att_stmt, att.auth_data, reg.response.client_data.hash)
        assert result.attestation_type == AttestationType.BASIC
        assert len(result.trust_path) == 1
        verify_x509_chain(result.trust_path + [emu.ca_der])
        # Not vacuous: another state file's CA must not verify this chain.
        other_ca = attestation_ca_der(emu.binary, emu.state.with_name("other-ca.state.json"))
        with pytest.raises(InvalidSignature):
            verify_x509_chain(result.trust_path + [other_ca])
    else:
        assert str(cred.aaguid) == (ZERO_AAGUID if profile == "ios" else GOOGLE_PASSWORD_MANAGER_AAGUID)
        assert flags & (BE | BS) == BE | BS, "synced passkeys are backup eligible and backed up"
        assert auth_data.counter == 0
        assert att.fmt == "none"
        assert NoneAttestation().verify(att.att_stmt, att.auth_data, b"").attestation_type == AttestationType.NONE

    # Sign-in with the credential in allowCredentials, twice (counters).
    counters = []
    for _ in range(2):
        request, state = server.authenticate_begin([cred], user_verification=uv)
        response = client.get_assertion(request.public_key).get_response(0)
        server.authenticate_complete(state, [cred], response)  # signature over authData||hash
        a = response.response.authenticator_data
        assert flags_of(a) & (UP | UV) == UP | UV
        counters.append(a.counter)
    if is_key:
        assert 0 < counters[0] < counters[1], f"per-credential counter must increase: {counters}"
    else:
        assert counters == [0, 0]

    # Sign-in without allowCredentials: the discoverable credential and its user handle.
    request, state = server.authenticate_begin(None, user_verification=uv)
    response = client.get_assertion(request.public_key).get_response(0)
    assert response.raw_id == cred.credential_id
    assert response.response.user_handle == USER.id
    server.authenticate_complete(state, [cred], response)


@pytest.mark.parametrize(
    "profile,alg",
    [(p, a) for p in ("ios", "android") for a in PROFILE_ALGORITHMS[p]],
    ids=lambda v: str(v),
)
def test_phone_ceremony_with_builtin_uv(emulator, profile, alg):
    """The phones' output through Fido2Server, with the platform side done at the CTAP level.

    Complements test_register_and_sign_in at the CTAP level: this does what the client
    does for built-in UV without pinUvAuthToken: python-fido2's client data collector, then
    Ctap2 makeCredential/getAssertion with options uv=true; Fido2Server verifies the results.
    """
    emu = emulator(profile)
    server = server_for(alg)
    uv = UserVerificationRequirement.REQUIRED
    collector = DefaultClientDataCollector(ORIGIN)

    create, state = server.register_begin(
        USER, user_verification=uv, resident_key_requirement=ResidentKeyRequirement.REQUIRED
    )
    options = create.public_key
    client_data, rp_id = collector.collect_client_data(options)
    att = emu.ctap2.make_credential(
        client_data.hash,
        {"id": rp_id, "name": options.rp.name},
        {"id": options.user.id, "name": options.user.name, "displayName": options.user.display_name},
        [{"type": "public-key", "alg": p.alg} for p in options.pub_key_cred_params],
        options={"rk": True, "uv": True},
    )
    att_obj = AttestationObject.create(att.fmt, att.auth_data, att.att_stmt)
    reg = RegistrationResponse(
        raw_id=att.auth_data.credential_data.credential_id,
        response=AuthenticatorAttestationResponse(client_data=client_data, attestation_object=att_obj),
        type=PublicKeyCredentialType.PUBLIC_KEY,
    )
    auth_data = server.register_complete(state, reg)
    cred = auth_data.credential_data
    assert cred.public_key.ALGORITHM == alg
    assert flags_of(auth_data) & (UP | UV | BE | BS | AT) == UP | UV | BE | BS | AT
    assert auth_data.counter == 0
    assert att.fmt == "none" and att.att_stmt == {}
    assert str(cred.aaguid) == (ZERO_AAGUID if profile == "ios" else GOOGLE_PASSWORD_MANAGER_AAGUID)

    for allow in ([cred], None):
        request, state = server.authenticate_begin(allow, user_verification=uv)
        options = request.public_key
        client_data, rp_id = collector.collect_client_data(options)
        allow_list = (
            [{"type": "public-key", "id": d.id} for d in options.allow_credentials]
            if options.allow_credentials
            else None
        )
        got = emu.ctap2.get_assertion(rp_id, client_data.hash, allow_list, options={"uv": True})
        response = AuthenticationResponse(
            raw_id=got.credential["id"],
            response=AuthenticatorAssertionResponse(
                client_data=client_data,
                authenticator_data=got.auth_data,
                signature=got.signature,
                user_handle=got.user["id"] if got.user else None,
            ),
            type=PublicKeyCredentialType.PUBLIC_KEY,
        )
        server.authenticate_complete(state, [cred], response)
        assert flags_of(got.auth_data) & (UP | UV | BE | BS) == UP | UV | BE | BS
        assert got.auth_data.counter == 0
        if allow is None:
            assert got.user["id"] == USER.id, "discoverable sign-in must return the user handle"


def test_no_biometric_refuses_required_uv(emulator):
    """No biometric enrolled: registration that requires UV fails, at both levels."""
    emu = emulator("no-biometric")
    # At the CTAP level the authenticator itself must refuse uv=true (CTAP 2.1 §6.1.2 step 5).
    with pytest.raises(CtapError) as err:
        emu.ctap2.make_credential(
            sha256(b"client data"),
            {"id": "example.com", "name": "ctapkit interop RP"},
            {"id": USER.id, "name": USER.name},
            [{"type": "public-key", "alg": ES256}],
            options={"uv": True},
        )
    assert err.value.code == CtapError.ERR.INVALID_OPTION, (
        f"makeCredential with uv=true on a phone with no biometric enrolled must answer "
        f"CTAP2_ERR_INVALID_OPTION (0x2C), got {err.value.code!r}"
    )
    # Through the WebAuthn client: python-fido2 reads getInfo uv=false and refuses before
    # sending the request (its equivalent of the browser's "security key error").
    client, _ = emu.client()
    create, _state = server_for(ES256).register_begin(
        USER, user_verification=UserVerificationRequirement.REQUIRED
    )
    with pytest.raises(ClientError) as err:
        client.make_credential(create.public_key)
    assert err.value.code == ClientError.ERR.CONFIGURATION_UNSUPPORTED, (
        f"user_verification=required with no UV configured must fail as "
        f"CONFIGURATION_UNSUPPORTED, got {err.value!r}"
    )


# --------------------------------------------------------------------------- clientPIN


@pytest.mark.parametrize("protocol", [PinProtocolV2, PinProtocolV1], ids=["v2", "v1"])
def test_pin_set_retries_and_token(emulator, protocol):
    emu = emulator("security-key")
    client_pin = ClientPin(emu.ctap2, protocol())
    client_pin.set_pin(PIN)
    assert emu.fresh_ctap2().info.options["clientPin"] is True
    client_pin = ClientPin(emu.ctap2, protocol())
    assert client_pin.get_pin_retries()[0] == 8

    # A wrong PIN is refused and costs one retry.
    with pytest.raises(CtapError) as err:
        client_pin.get_pin_token("not-the-pin", ClientPin.PERMISSION.MAKE_CREDENTIAL)
    assert err.value.code == CtapError.ERR.PIN_INVALID
    assert client_pin.get_pin_retries()[0] == 7

    # The right PIN: a token with mc|ga permissions (getPinUvAuthTokenUsingPinWithPermissions),
    # and the retries are back to 8.
    permissions = ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION
    token = client_pin.get_pin_token(PIN, permissions, "example.com")
    assert len(token) == 32
    assert client_pin.get_pin_retries()[0] == 8

    # The token is real: it authorises makeCredential and getAssertion (UV set).
    cdh = sha256(b"pin client data")
    proto = client_pin.protocol
    made = emu.ctap2.make_credential(
        cdh,
        {"id": "example.com", "name": "ctapkit interop RP"},
        {"id": USER.id, "name": USER.name},
        [{"type": "public-key", "alg": ES256}],
        pin_uv_param=proto.authenticate(token, cdh),
        pin_uv_protocol=proto.VERSION,
    )
    assert flags_of(made.auth_data) & (UP | UV) == UP | UV
    cred_id = made.auth_data.credential_data.credential_id
    got = emu.ctap2.get_assertion(
        "example.com", cdh, [{"type": "public-key", "id": cred_id}],
        pin_uv_param=proto.authenticate(token, cdh), pin_uv_protocol=proto.VERSION,
    )
    got.verify(cdh, made.auth_data.credential_data.public_key)
    assert flags_of(got.auth_data) & (UP | UV) == UP | UV

    # A token bound to example.com does not authorise another RP.
    with pytest.raises(CtapError) as err:
        emu.ctap2.make_credential(
            cdh,
            {"id": "other.example", "name": "other"},
            {"id": USER.id, "name": USER.name},
            [{"type": "public-key", "alg": ES256}],
            pin_uv_param=proto.authenticate(token, cdh),
            pin_uv_protocol=proto.VERSION,
        )
    assert err.value.code == CtapError.ERR.PIN_AUTH_INVALID


# --------------------------------------------------------------------------- credProtect


def test_cred_protect_uv_required(emulator):
    """credProtect=3 through Fido2Client: recorded in authData, hidden without UV."""
    emu = emulator("security-key")
    ClientPin(emu.ctap2).set_pin(PIN)
    client, _ = emu.client(PIN)
    server = server_for(ES256, "direct", emu.ca_der)
    create, state = server.register_begin(
        USER,
        user_verification=UserVerificationRequirement.REQUIRED,
        resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        extensions={
            "credentialProtectionPolicy": "userVerificationRequired",
            "enforceCredentialProtectionPolicy": True,
        },
    )
    reg = client.make_credential(create.public_key)
    auth_data = server.register_complete(state, reg)
    assert flags_of(auth_data) & ED, "extension data flag (ED) not set"
    assert auth_data.extensions == {"credProtect": 3}
    cred = auth_data.credential_data

    ctap2 = emu.fresh_ctap2()
    cdh = sha256(b"no uv")
    # Without UV and without an allowList the credential must not be found (CTAP 2.1 §12.1).
    with pytest.raises(CtapError) as err:
        ctap2.get_assertion("example.com", cdh)
    assert err.value.code == CtapError.ERR.NO_CREDENTIALS
    # Level 3 also hides it from a no-UV request that names it.
    with pytest.raises(CtapError) as err:
        ctap2.get_assertion("example.com", cdh, [{"type": "public-key", "id": cred.credential_id}])
    assert err.value.code == CtapError.ERR.NO_CREDENTIALS

    # With UV (PIN) it signs in, verified by the server.
    request, state = server.authenticate_begin(None, user_verification=UserVerificationRequirement.REQUIRED)
    response = client.get_assertion(request.public_key).get_response(0)
    server.authenticate_complete(state, [cred], response)
    assert response.raw_id == cred.credential_id


def test_cred_protect_optional_with_list(emulator):
    """credProtect=2 at the CTAP level: found without UV only when the allowList names it."""
    emu = emulator("security-key")
    cdh = sha256(b"cred protect 2")
    made = emu.ctap2.make_credential(
        cdh,
        {"id": "example.com", "name": "ctapkit interop RP"},
        {"id": USER.id, "name": USER.name},
        [{"type": "public-key", "alg": ES256}],
        extensions={"credProtect": 2},
        options={"rk": True},
    )
    assert made.auth_data.extensions == {"credProtect": 2}
    cred = made.auth_data.credential_data
    with pytest.raises(CtapError) as err:
        emu.ctap2.get_assertion("example.com", cdh)
    assert err.value.code == CtapError.ERR.NO_CREDENTIALS
    got = emu.ctap2.get_assertion("example.com", cdh, [{"type": "public-key", "id": cred.credential_id}])
    got.verify(cdh, cred.public_key)
    assert flags_of(got.auth_data) & (UP | UV) == UP
