// The step-5 ceremony: fetch the options, run navigator.credentials.create / get, send the
// PublicKeyCredential.toJSON() fields back, then follow the site to the next screen.
// On failure, show the manual's "Security Key Error" guidance.
(() => {
  'use strict';
  const button = document.getElementById('register') || document.getElementById('sign-in');
  if (!button) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const progress = document.getElementById('progress');

  const b64urlToBytes = (s) => {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  };
  const bytesToB64url = (buf) => {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: b64urlToBytes(d.id) }));

  const creationOptions = (json) => {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: b64urlToBytes(json.challenge),
      user: { ...json.user, id: b64urlToBytes(json.user.id) },
      excludeCredentials: descriptors(json.excludeCredentials),
    };
  };
  const requestOptions = (json) => {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return { ...json, challenge: b64urlToBytes(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
  };
  const credentialJSON = (cred) => {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: bytesToB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: { clientDataJSON: bytesToB64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = bytesToB64url(r.attestationObject);
      out.response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bytesToB64url(r.authenticatorData);
      out.response.signature = bytesToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bytesToB64url(r.userHandle);
    }
    return out;
  };

  const post = async (url, body) => {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await res.json(); } catch (_) { data = {}; }
    if (!res.ok) {
      const err = new Error(data.message || `the site answered ${res.status}`);
      err.name = 'SiteError';
      err.code = data.error || String(res.status);
      throw err;
    }
    return data;
  };

  const showError = (err, notCapable) => {
    const panel = document.getElementById('error-panel');
    const message = document.getElementById('error');
    message.dataset.code = err.code || err.name || 'client-error';
    message.textContent = `Security Key Error: ${err.message || err.name}`;
    for (const item of document.querySelectorAll('#guidance li')) {
      const which = item.dataset.guidance;
      item.hidden = notCapable ? which !== 'not-capable' : false;
    }
    panel.hidden = false;
    progress.hidden = true;
    button.disabled = false;
  };

  button.addEventListener('click', async () => {
    button.disabled = true;
    progress.hidden = false;
    progress.textContent = '認証器の応答を待っています… (waiting for the authenticator…)';
    if (!window.PublicKeyCredential || !navigator.credentials) {
      const err = new Error('this browser or device does not support FIDO2 (WebAuthn)');
      err.code = 'not-capable';
      showError(err, true);
      post('/webauthn/client-error', { name: 'NotSupported', message: err.message }).catch(() => {});
      return;
    }
    try {
      const options = await post(button.dataset.options, {});
      let credential;
      if (button.dataset.ceremony === 'create') {
        credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      } else {
        credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      }
      const result = await post(button.dataset.finish, credentialJSON(credential));
      window.location.assign(result.next);
    } catch (err) {
      if (err.name !== 'SiteError') {
        post('/webauthn/client-error', { name: String(err.name), message: String(err.message) }).catch(() => {});
      }
      showError(err, false);
    }
  });
})();
