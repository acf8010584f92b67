#!/usr/bin/env bash
# Builds the seed corpora fuzz/seeds/<target>/ from the repository's test vectors
# (vectors/w3c/*.json, vectors/cose/keys.json). Needs only bash and python3 (standard library):
# a small CBOR walker below extracts authData and the credential COSE keys from attestation
# objects, and the enrollment site's targets get hand-written pages, options and request bodies.
# Re-running replaces these targets' seed folders with the same files; the seeds of the CTAP
# targets (ctaphid, ctap2_*) are committed files of their own and are left alone.
set -euo pipefail
cd "$(dirname "$0")"
for t in cbor_decode cose_key auth_data attestation_object client_data registration_json \
         html_page options_json site_requests; do
  rm -rf "seeds/$t"
done
mkdir -p seeds
python3 - <<'PY'
import base64, glob, hashlib, json, os

ROOT = ".."
TARGETS = ["cbor_decode", "cose_key", "auth_data", "attestation_object",
           "client_data", "registration_json", "html_page", "options_json", "site_requests"]
for t in TARGETS:
    os.makedirs(os.path.join("seeds", t), exist_ok=True)

written = {}  # (target, sha256) -> name, to skip duplicates

# Which vectors seed which target: one of each format, algorithm or shape is enough (the
# committed seeds stay a few dozen small files; libFuzzer grows fuzz/corpus/ from them).
ALL = None
PICK = {
    "attestation_object": ALL,
    "attestation_object.plain": {"none-es256", "packed-es256", "packed-rs256"},
    "cbor_decode": {"none-es256", "packed-rs256", "tpm-es256", "android-key-es256"},
    "cose_key": {"packed-es256", "packed-es384", "packed-es512", "packed-eddsa",
                 "packed-ed448", "packed-rs256"},
    "auth_data": {"none-es256", "none-es256-long-credential-id", "packed-eddsa",
                  "packed-rs256", "packed-es512"},
    "auth_data.get": {"none-es256", "packed-eddsa"},
    "client_data": {"none-es256", "none-es256-crossOrigin", "none-es256-topOrigin"},
    "client_data.get": {"none-es256"},
    "registration_json": {"none-es256", "none-es256-crossOrigin", "none-es256-topOrigin",
                          "none-es256-long-credential-id", "packed-es256", "packed-rs256",
                          "fido-u2f-es256", "apple-es256", "tpm-es256", "android-key-es256"},
}

def picked(rule, name):
    return PICK[rule] is ALL or name in PICK[rule]

def put(target, name, data):
    digest = hashlib.sha256(data).hexdigest()
    if (target, digest) in written:
        return
    written[(target, digest)] = name
    with open(os.path.join("seeds", target, name), "wb") as f:
        f.write(data)

# --- minimal CBOR reader (definite lengths, no tags/floats: what CTAP2 uses) ---------------
def head(buf, pos):
    ib = buf[pos]; major, info = ib >> 5, ib & 0x1F; pos += 1
    if info < 24:
        return major, info, pos
    n = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if n is None:
        raise ValueError("unsupported additional info %d" % info)
    return major, int.from_bytes(buf[pos:pos + n], "big"), pos + n

def item(buf, pos):
    """Returns (value, end) of the CBOR item at pos."""
    major, arg, pos = head(buf, pos)
    if major == 0: return arg, pos
    if major == 1: return -1 - arg, pos
    if major == 2: return bytes(buf[pos:pos + arg]), pos + arg
    if major == 3: return buf[pos:pos + arg].decode("utf-8"), pos + arg
    if major == 4:
        out = []
        for _ in range(arg):
            v, pos = item(buf, pos); out.append(v)
        return out, pos
    if major == 5:
        out = {}
        for _ in range(arg):
            k, pos = item(buf, pos)
            v, pos = item(buf, pos)
            out[k if not isinstance(k, list) else tuple(k)] = v
        return out, pos
    if major == 7 and arg in (20, 21, 22):
        return {20: False, 21: True, 22: None}[arg], pos
    raise ValueError("unsupported CBOR major type %d" % major)

def credential_key(auth_data):
    """The raw COSE key bytes inside authenticator data with AT set, else None."""
    if len(auth_data) < 37 or not auth_data[32] & 0x40:
        return None
    pos = 37 + 16
    id_len = int.from_bytes(auth_data[pos:pos + 2], "big")
    pos += 2 + id_len
    _, end = item(auth_data, pos)
    return auth_data[pos:end]

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

ZERO_CHALLENGE = b64u(bytes(32))

# --- W3C WebAuthn vectors ---------------------------------------------------------------
for path in sorted(glob.glob(os.path.join(ROOT, "vectors", "w3c", "*.json"))):
    name = os.path.splitext(os.path.basename(path))[0]
    v = json.load(open(path))
    reg = v.get("registration") or {}
    auth = v.get("authentication") or {}
    if auth.get("client_data_json") and picked("client_data.get", name):
        put("client_data", name + ".get", bytes.fromhex(auth["client_data_json"]))
    if auth.get("authenticator_data") and picked("auth_data.get", name):
        put("auth_data", name + ".get", bytes.fromhex(auth["authenticator_data"]))
    if not reg.get("attestation_object"):
        continue
    att = bytes.fromhex(reg["attestation_object"])
    cdj = bytes.fromhex(reg["client_data_json"])
    if picked("attestation_object.plain", name):
        put("attestation_object", name, att)
    # attestationObject || SHA-256(clientDataJSON): the target's second reading, under
    # which the vector's signature verifies.
    put("attestation_object", name + ".with-hash", att + hashlib.sha256(cdj).digest())
    if picked("cbor_decode", name):
        put("cbor_decode", name + ".attObj", att)
    if picked("client_data", name):
        put("client_data", name + ".create", cdj)
    obj, _ = item(att, 0)
    auth_data = obj["authData"]
    if picked("auth_data", name):
        put("auth_data", name + ".create", auth_data)
    key = credential_key(auth_data)
    if key is not None and picked("cose_key", name):
        put("cose_key", name + ".credential", key)
    if not picked("registration_json", name):
        continue
    # RegistrationResponseJSON whose clientDataJSON carries the target's fixed challenge
    # (32 zero bytes), so the ceremony gets past the client data checks.
    c = json.loads(cdj)
    fixed = {"type": c["type"], "challenge": ZERO_CHALLENGE, "origin": c["origin"],
             "crossOrigin": c.get("crossOrigin", False)}
    if "topOrigin" in c:
        fixed["topOrigin"] = c["topOrigin"]
    cred_id = bytes.fromhex(reg["credential_id"]) if reg.get("credential_id") else b"\x00" * 16
    resp = {
        "id": b64u(cred_id),
        "rawId": b64u(cred_id),
        "response": {
            "clientDataJSON": b64u(json.dumps(fixed, separators=(",", ":")).encode()),
            "attestationObject": b64u(att),
            "transports": ["usb"],
        },
        "clientExtensionResults": {},
        "type": "public-key",
    }
    put("registration_json", name, json.dumps(resp, separators=(",", ":")).encode())

# --- COSE keys ----------------------------------------------------------------------------
for i, k in enumerate(json.load(open(os.path.join(ROOT, "vectors", "cose", "keys.json")))):
    hx = k.get("cose_key_public_hex")
    if not hx:
        continue
    data = bytes.fromhex(hx)
    put("cose_key", "keys-%02d" % i, data)
    if i == 0:
        put("cbor_decode", "keys-%02d" % i, data)

# --- a few hand-written CBOR shapes the vectors lack ---------------------------------------
for name, hx in [
    ("int-edges", "881b7fffffffffffffff3b7fffffffffffffff1bffffffffffffffff3bffffffffffffffff00201817390100"),
    ("noncanonical-map", "a2200102"),          # keys out of canonical order
    ("nonshortest-int", "1800"),
    ("nested", "818181818181a1616181f6"),
    ("simple-values", "83f4f5f6"),
    ("text-and-bytes", "a2616140626262434100ff"),
]:
    put("cbor_decode", name, bytes.fromhex(hx))

# --- the enrollment site: page shapes, options JSON, request bodies ------------------------
PAGES = {
    "password": '<!doctype html><html lang="ja"><head><meta charset="utf-8"></head><body><main><h1>x</h1>'
                '<p id="error" class="error" data-code="password-refused">x</p><form method="post" action="/r/abc">'
                '<input type="hidden" name="csrf" value="T"><input id="password" name="password" type="password">'
                '<button id="password-submit" type="submit">OK</button></form></main></body></html>',
    "signin": '<form method="post" action="/signin"><input type="hidden" name="csrf" value="T">'
              '<input id="username" name="username" value="999999-jpa"><button id="signin">SignIn</button></form>',
    "step5": '<head><meta name="csrf-token" content="T"></head><button id="register" data-ceremony="create" '
             'data-options="/webauthn/register/options" data-finish="/webauthn/register/finish">Register</button>'
             '<section id="error-panel" hidden><p id="error"></p></section>',
    "label": '<form method="post" action="/label"><input type="hidden" name="csrf" value="T">'
             '<input id="label" name="label" value="iPhone 2026-11-30"><button id="label-ok">OK</button></form>',
    "complete": '<p id="complete" data-outcome="registered">処理が完了しました</p>',
}
for name, html in PAGES.items():
    put("html_page", name, html.encode())
CREATE = {"rp": {"id": "localhost", "name": "HPKI"}, "user": {"id": "AAECAwQFBgcICQoLDA0ODw", "name": "999999-jpa", "displayName": "x"},
          "challenge": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
          "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
          "timeout": 120000, "excludeCredentials": [],
          "authenticatorSelection": {"authenticatorAttachment": "platform", "residentKey": "preferred", "requireResidentKey": False, "userVerification": "required"},
          "attestation": "none", "hints": ["client-device"], "extensions": {"credProps": True}}
GET = {"challenge": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "timeout": 120000, "rpId": "localhost",
       "allowCredentials": [{"type": "public-key", "id": "AQID", "transports": ["internal"]}], "userVerification": "required"}
put("options_json", "create", json.dumps(CREATE).encode())
put("options_json", "get", json.dumps(GET).encode())
# site_requests: first byte picks the route (see the target), the rest is the body.
for name, route, body in [
    ("password", 0, b"password=19900317"),
    ("signin", 1, b"username=999999-jpa"),
    ("label", 2, "label=iPhone%202026-11-30".encode()),
    ("register-options", 3, b"{}"),
    ("register-finish", 4, b'{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}'),
    ("authenticate-options", 5, b"{}"),
    ("authenticate-finish", 6, b'{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}'),
    ("client-error", 7, b'{"name":"NotAllowedError","message":"x"}'),
]:
    put("site_requests", name, bytes([route]) + body)

counts = {}
for (t, _) in written:
    counts[t] = counts.get(t, 0) + 1
print(" ".join("%s=%d" % (t, counts.get(t, 0)) for t in TARGETS))
PY
du -sb seeds | awk '{print "seeds total: " $1 " bytes"}'
