"""The enrollment site (`ctapkit site serve`) driven by an independent WebAuthn client:
Yubico's python-fido2 (`Fido2Client`) parses the site's options JSON, runs the ceremony on
`ctapkit emulate` over UDP, and its own `RegistrationResponse` / `AuthenticationResponse`
serialisation is posted back to the site. The browser part is plain urllib with a cookie jar.

What this checks that ctapkit's own tests cannot: the site's options are what another client
library reads, and the site accepts what another client library writes.
"""

from __future__ import annotations

import http.cookiejar
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest
from fido2.client import DefaultClientDataCollector, Fido2Client
from fido2.ctap2.pin import ClientPin
from fido2.webauthn import (
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
)

from test_emulator_interop import PIN, Interaction, ctapkit_bin, emulator  # noqa: F401 (fixture)

COMPLETE = "処理が完了しました"


class Elements(HTMLParser):
    """Every start tag's attributes, and the text inside elements with an id."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self._open.append(a["id"])
            self.text.setdefault(a["id"], "")

    def handle_endtag(self, tag):
        if self._open and tag in ("p", "button", "h1", "section"):
            self._open.pop()

    def handle_data(self, data):
        for i in self._open:
            self.text[i] = self.text.get(i, "") + data

    def by_id(self, id_: str) -> dict | None:
        return next((a for _, a in self.tags if a.get("id") == id_), None)

    def named(self, name: str) -> str | None:
        return next((a.get("value") for t, a in self.tags if t == "input" and a.get("name") == name), None)

    def meta(self, name: str) -> str | None:
        return next((a.get("content") for t, a in self.tags if t == "meta" and a.get("name") == name), None)


class Site:
    """`ctapkit site serve` on a free port with its own database, and a browser session."""

    def __init__(self, tmp_path, policy: str):
        self.bin = ctapkit_bin()
        self.db = str(tmp_path / "site.db")
        self.proc = subprocess.Popen(
            [self.bin, "site", "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--policy", policy],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stderr.readline()
        self.origin = next(w for w in line.split() if w.startswith("http://localhost:"))
        self.new_browser()

    def new_browser(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def add_applicant(self, number: str) -> dict:
        out = subprocess.run(
            [self.bin, "site", "applicant", "add", "--db", self.db, "--registry-number", number,
             "--name", "Interop Test", "--birth-date", "1990-03-17", "--base-url", self.origin, "--json"],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout
        return json.loads(out)

    def status(self) -> dict:
        out = subprocess.run([self.bin, "site", "status", "--db", self.db, "--json"],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return json.loads(out)

    def _open(self, req) -> tuple[int, str]:
        try:
            with self.opener.open(req, timeout=20) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get(self, url: str) -> tuple[int, Elements]:
        status, body = self._open(url)
        return status, Elements(body)

    def post_form(self, url: str, fields: dict) -> tuple[int, Elements]:
        data = urllib.parse.urlencode(fields).encode()
        status, body = self._open(urllib.request.Request(url, data=data, method="POST"))
        return status, Elements(body)

    def post_json(self, path: str, csrf: str, body: dict) -> tuple[int, dict]:
        req = urllib.request.Request(
            self.origin + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
        )
        status, text = self._open(req)
        return status, (json.loads(text) if text else {})

    def to_step5(self, url: str, password: str) -> Elements:
        """Steps 2-4: the password, then SignIn with the pre-filled username."""
        _, page = self.get(url)
        assert page.by_id("password-submit") is not None, "password screen"
        _, page = self.post_form(url, {"password": password, "csrf": page.named("csrf")})
        assert page.by_id("username") is not None, "SignIn screen"
        _, page = self.post_form(self.origin + "/signin",
                                 {"username": page.by_id("username")["value"], "csrf": page.named("csrf")})
        return page

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def site(tmp_path):
    started = []

    def start(policy: str) -> Site:
        s = Site(tmp_path, policy)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def client_for(emu, origin: str, pin: str | None) -> Fido2Client:
    return Fido2Client(emu.device, DefaultClientDataCollector(origin), Interaction(pin))


def test_python_fido2_enrols_and_signs_in_through_the_site(site, emulator):
    """A USB key under the cross-platform policy: python-fido2 reads the site's options and
    the site verifies python-fido2's JSON, for the registration and the second scan."""
    s = site("jpa-hpki-cross-platform")
    applicant = s.add_applicant("810001")
    emu = emulator("security-key")
    ClientPin(emu.ctap2).set_pin(PIN)
    client = client_for(emu, s.origin, PIN)

    page = s.to_step5(applicant["url"], "19900317")
    button = page.by_id("register")
    assert button is not None and page.text["register"].strip() == "Register"
    csrf = page.meta("csrf-token")
    status, options = s.post_json(button["data-options"], csrf, {})
    assert status == 200, options
    create = PublicKeyCredentialCreationOptions.from_dict(options)
    assert create.rp.id == "localhost"
    registration = client.make_credential(create)
    status, answer = s.post_json(button["data-finish"], csrf, dict(registration))
    assert status == 200, answer
    _, label = s.get(s.origin + answer["next"])
    value = label.by_id("label")["value"]
    assert value.startswith("ctapkit emulated security key ")
    _, done = s.post_form(s.origin + "/label", {"label": value, "csrf": label.named("csrf")})
    assert COMPLETE in done.text["complete"]

    # The second scan: Sign In, verified by the site.
    s.new_browser()
    page = s.to_step5(applicant["url"], "19900317")
    assert page.by_id("register") is None
    button = page.by_id("sign-in")
    assert page.text["sign-in"].strip() == "Sign In"
    csrf = page.meta("csrf-token")
    status, options = s.post_json(button["data-options"], csrf, {})
    assert status == 200, options
    request = PublicKeyCredentialRequestOptions.from_dict(options)
    assertion = client.get_assertion(request).get_response(0)
    status, answer = s.post_json(button["data-finish"], csrf, dict(assertion))
    assert status == 200, answer
    _, done = s.get(s.origin + answer["next"])
    assert COMPLETE in done.text["complete"]

    [entry] = [a for a in s.status() if a["applicant"]["registryNumber"] == "810001"]
    [cred] = entry["credentials"]
    assert cred["label"] == value
    assert cred["lastUsedAt"] is not None


def test_the_platform_policy_refuses_a_roaming_client_answer(site, emulator):
    """Under jpa-hpki the options ask for a platform authenticator; python-fido2 talking to a
    USB-style device says "cross-platform", and the site refuses it (nothing stored)."""
    s = site("jpa-hpki")
    applicant = s.add_applicant("810002")
    emu = emulator("android")
    client = client_for(emu, s.origin, None)
    page = s.to_step5(applicant["url"], "19900317")
    button = page.by_id("register")
    csrf = page.meta("csrf-token")
    _, options = s.post_json(button["data-options"], csrf, {})
    create = PublicKeyCredentialCreationOptions.from_dict(options)
    assert create.authenticator_selection.authenticator_attachment == "platform"
    registration = client.make_credential(create)
    body = dict(registration)
    assert body["authenticatorAttachment"] == "cross-platform"
    status, answer = s.post_json(button["data-finish"], csrf, body)
    assert (status, answer["error"]) == (422, "attachment-not-allowed")
    [entry] = [a for a in s.status() if a["applicant"]["registryNumber"] == "810002"]
    assert entry["credentials"] == []
