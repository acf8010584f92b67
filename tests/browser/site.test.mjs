// End-to-end tests of `ctapkit site serve`: the applicant's pages driven in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core), with Chromium's CDP virtual
// authenticator standing in for the phone's biometrics.
//
// Each test starts its own server on a free port with a fresh SQLite file, adds the applicant
// through the office CLI, walks the pages, and checks the outcome both on screen and in the
// database (`ctapkit site status --json`).
//
// Run: scripts/browser-test   (or: CTAPKIT_BIN=... node --test site.test.mjs)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.CTAPKIT_BIN
  ? path.resolve(process.env.CTAPKIT_BIN)
  : path.resolve(here, '../../target/debug/ctapkit');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const run = promisify(execFile);

const REGISTRY = '999999';
const USERNAME = `${REGISTRY}-jpa`;
const BIRTH_DATE = '1990-03-17';
const PASSWORD = '19900317';
const WRONG_PASSWORD = '19900318';
const COMPLETE = '処理が完了しました';
/// How long one page action may take before the test fails (the site answers in milliseconds).
const STEP_TIMEOUT = 15_000;

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

// ---- the office side: the CLI and the server ----------------------------------------------

/** Runs `ctapkit site ...args` and returns its stdout. */
async function ctapkit(...args) {
  try {
    const { stdout } = await run(BIN, ['site', ...args], { timeout: 30_000 });
    return stdout;
  } catch (e) {
    throw new Error(`ctapkit site ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

/** A TCP port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A running `ctapkit site serve` over a fresh database: `base` (http://localhost:PORT), `db`,
 * the office operations, and `stop()`.
 */
async function startSite() {
  const dir = await mkdtemp(path.join(tmpdir(), 'ctapkit-browser-'));
  const db = path.join(dir, 'site.db');
  // Create the schema before the server opens the file.
  await ctapkit('status', '--db', db, '--json');
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const child = spawn(BIN, ['site', 'serve', '--db', db, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const site = {
    base,
    db,
    get log() {
      return log;
    },
    /** Adds the applicant; returns the registration URL. */
    async addApplicant({ validDays } = {}) {
      const args = ['applicant', 'add', '--db', db, '--registry-number', REGISTRY,
        '--name', '薬剤 花子', '--birth-date', BIRTH_DATE, '--base-url', base, '--json'];
      if (validDays !== undefined) args.push('--valid-days', String(validDays));
      const out = JSON.parse(await ctapkit(...args));
      assert.equal(out.username, USERNAME);
      assert.match(out.url, new RegExp(`^${base}/r/[A-Za-z0-9_-]{20,}$`));
      return out.url;
    },
    /** Issues a new URL; returns it. */
    async reissue() {
      const out = await ctapkit('url', 'reissue', '--db', db, '--registry-number', REGISTRY,
        '--base-url', base);
      const url = out.trim().split('\n').pop();
      assert.match(url, new RegExp(`^${base}/r/`));
      return url;
    },
    revokeSecond: () => ctapkit('revoke', '--db', db, '--registry-number', REGISTRY, '--second'),
    deleteCredentials: () => ctapkit('credential', 'delete', '--db', db, '--registry-number', REGISTRY),
    /** The applicant's row of `site status --json`. */
    async status() {
      const rows = JSON.parse(await ctapkit('status', '--db', db, '--json'));
      const row = rows.find((r) => r.applicant.registryNumber === REGISTRY);
      assert.ok(row, 'the applicant is in the database');
      return row;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };

  // Wait until it answers (at most 15 s).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await site.stop();
      throw new Error(`ctapkit site serve exited with ${child.exitCode}:\n${log}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      if (res.ok) break;
    } catch (_) {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await site.stop();
      throw new Error(`ctapkit site serve did not answer on ${base}:\n${log}`);
    }
    await sleep(50);
  }
  return site;
}

// ---- the applicant side: a browser tab with a virtual authenticator --------------------------

const UV_AUTHENTICATOR = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

/**
 * A fresh browser context and tab with a virtual authenticator (`authenticator` options), and
 * a record of console errors, uncaught page errors and CSP violations.
 */
async function openPhone(t, authenticator = UV_AUTHENTICATOR) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT);
  const problems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
  // Init scripts are injected by the browser itself: the page's CSP does not apply to them.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/Content.Security.Policy|CSP violation/i.test(text)) problems.cspViolations.push(text);
    problems.consoleErrors.push(text);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));

  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: authenticator,
  });
  t.after(() => context.close());

  const phone = {
    context,
    page,
    cdp,
    authenticatorId,
    problems,
    /** The credentials the virtual authenticator holds. */
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials;
    },
    /** Opens the registration URL (step 2) and answers the password screen (step 3). */
    async enterPassword(url, password) {
      const res = await page.goto(url);
      assert.equal(res.status(), 200);
      await page.locator('#password').fill(password);
      // The form posts and the site answers with the next screen (or the same one, refused).
      await Promise.all([page.waitForNavigation(), page.locator('#password-submit').click()]);
      return res;
    },
    /** The SignIn screen (step 4), with the pre-filled username. */
    async signIn() {
      await assertSignInScreen(page);
      await page.locator('#signin').click();
      await page.waitForURL(/\/step5$/);
    },
    /** Steps 2–4: URL, password, SignIn; ends on the step-5 screen. */
    async reachStep5(url) {
      await phone.enterPassword(url, PASSWORD);
      await phone.signIn();
    },
    /** Steps 5–8 of a first enrolment: Register, label OK, completion. Returns the label. */
    async register() {
      const button = page.locator('#register');
      await button.waitFor({ state: 'visible' });
      assert.equal((await button.textContent()).trim(), 'Register');
      assert.equal(await page.locator('#sign-in').count(), 0);
      await button.click();
      await page.waitForURL(/\/label$/);
      const label = await page.locator('#label').inputValue();
      assert.ok(label.trim().length > 0, 'the label is pre-filled by the system');
      await page.locator('#label-ok').click();
      await page.waitForURL(/\/complete$/);
      await assertComplete(page, 'registered');
      return label;
    },
    /** Steps 5–8 of a second scan: Sign In, completion. */
    async signInWithCredential() {
      const button = page.locator('#sign-in');
      await button.waitFor({ state: 'visible' });
      assert.equal((await button.textContent()).trim(), 'Sign In');
      assert.equal(await page.locator('#register').count(), 0);
      await button.click();
      await page.waitForURL(/\/complete$/);
      await assertComplete(page, 'signed-in');
    },
    /** A new scan of the QR code on the same phone: the site's session cookie is gone. */
    async forgetSession() {
      await context.clearCookies();
    },
    /** Nothing went wrong in the page (no console errors, no CSP violations, no exceptions). */
    assertClean() {
      assert.deepEqual(problems.cspViolations, [], 'no CSP violations');
      assert.deepEqual(problems.pageErrors, [], 'no uncaught page errors');
      assert.deepEqual(problems.consoleErrors, [], 'no console errors');
    },
  };
  return phone;
}

async function assertSignInScreen(page) {
  await page.waitForURL(/\/signin$/);
  assert.equal(await page.locator('#username').inputValue(), USERNAME);
  assert.equal(await page.locator('#error').count(), 0);
}

async function assertComplete(page, outcome) {
  const complete = page.locator('#complete');
  await complete.waitFor({ state: 'visible' });
  assert.ok((await complete.textContent()).includes(COMPLETE));
  assert.equal(await complete.getAttribute('data-outcome'), outcome);
}

/** The #error of a refused password, asserting that the password screen is shown again. */
async function refusedPasswordText(page) {
  const error = page.locator('#error');
  await error.waitFor({ state: 'visible' });
  assert.equal(await error.getAttribute('data-code'), 'password-refused');
  assert.equal(await page.locator('#password').count(), 1, 'still on the password screen');
  assert.equal(await page.locator('#username').count(), 0, 'not let through to SignIn');
  return (await error.textContent()).trim();
}

/** One test with its own server and tab; the server is stopped whatever happens. */
function siteTest(name, body, { authenticator } = {}) {
  test(name, async (t) => {
    const site = await startSite();
    try {
      const phone = await openPhone(t, authenticator);
      await body({ t, site, phone, page: phone.page });
    } catch (e) {
      e.message += `\n--- server log ---\n${site.log}`;
      throw e;
    } finally {
      await site.stop();
    }
  });
}

// ---- the scenarios ------------------------------------------------------------------------

siteTest('a. first enrolment: password, SignIn, Register, label, 処理が完了しました', async ({ site, phone, page }) => {
  const url = await site.addApplicant();
  const res = await phone.enterPassword(url, PASSWORD);

  // The security headers of a page, and the session cookie's attributes.
  const headers = res.headers();
  assert.ok(headers['content-security-policy'], 'Content-Security-Policy is set');
  assert.match(headers['content-security-policy'], /default-src 'none'/);
  assert.equal(headers['cache-control'], 'no-store');
  const cookies = await phone.context.cookies();
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0].httpOnly, true);
  assert.equal(cookies[0].sameSite, 'Strict');

  await phone.signIn();
  const label = await phone.register();
  assert.equal((await phone.credentials()).length, 1, 'the authenticator made one credential');

  const row = await site.status();
  assert.equal(row.credentials.length, 1);
  assert.equal(row.credentials[0].label, label);
  assert.equal(row.credentials[0].lastUsedAt, null);
  assert.ok([-7, -257].includes(row.credentials[0].alg), 'ES256 or RS256');
  phone.assertClean();
});

siteTest('b. second scan: step 5 reads Sign In and authenticates', async ({ site, phone }) => {
  const url = await site.addApplicant();
  await phone.reachStep5(url);
  await phone.register();
  const enrolled = (await site.status()).credentials[0];

  await phone.forgetSession();
  await phone.reachStep5(url);
  await phone.signInWithCredential();

  const row = await site.status();
  assert.equal(row.credentials.length, 1, 'no second credential');
  const after = row.credentials[0];
  assert.equal(after.label, enrolled.label);
  assert.equal(typeof after.lastUsedAt, 'number', 'the sign-in is recorded');
  assert.ok(after.lastUsedAt >= enrolled.createdAt);
  assert.ok(after.signCount > enrolled.signCount, 'the sign count moved on');
  phone.assertClean();
});

siteTest('c. five wrong passwords lock the URL', async ({ site, phone, page }) => {
  const url = await site.addApplicant();
  const texts = [];
  for (let i = 0; i < 5; i++) {
    await phone.enterPassword(url, WRONG_PASSWORD);
    texts.push(await refusedPasswordText(page));
  }
  assert.equal(new Set(texts).size, 1, 'every refusal reads alike');
  let row = await site.status();
  assert.equal(row.urls[0].failedAttempts, 5);
  assert.equal(row.urls[0].state, 'locked');

  await phone.enterPassword(url, PASSWORD);
  assert.equal(await refusedPasswordText(page), texts[0], 'the right password is refused alike');
  row = await site.status();
  assert.equal(row.urls.length, 1);
  assert.equal(row.urls[0].state, 'locked');
  assert.equal(row.credentials.length, 0);
});

siteTest(
  'd. no user verification on the device: Security Key Error, nothing stored',
  async ({ site, phone, page }) => {
    const url = await site.addApplicant();
    await phone.reachStep5(url);
    const button = page.locator('#register');
    assert.equal((await button.textContent()).trim(), 'Register');
    assert.equal(await page.locator('#error-panel').isVisible(), false);
    await button.click();

    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    assert.ok(await page.locator('#error-panel').isVisible());
    assert.match(await error.textContent(), /Security Key Error/);
    // The browser refused the ceremony (no authenticator can verify the user).
    assert.equal(await error.getAttribute('data-code'), 'NotAllowedError');
    assert.match(await page.locator('#error-panel h2').textContent(), /Security Key Error/);
    // The manual's guidance: enrol biometrics, or use a supported browser.
    assert.ok(await page.locator('#guidance [data-guidance="biometrics"]').isVisible());
    assert.equal(new URL(page.url()).pathname, '/step5', 'no label screen');
    assert.equal(await button.isEnabled(), true, 'the applicant may try again');

    assert.equal((await site.status()).credentials.length, 0, 'no credential stored');
    // The page reported the failure to the site, which audited it.
    let reported = false;
    for (let i = 0; i < 50 && !reported; i++) {
      const trail = JSON.parse(await ctapkit('audit', '--db', site.db, '--json'));
      reported = trail.some((e) => e.action === 'ceremony.client-error' && /NotAllowedError/.test(e.detail));
      if (!reported) await sleep(100);
    }
    assert.ok(reported, 'the failed ceremony is in the audit trail');
    assert.deepEqual(phone.problems.cspViolations, []);
    assert.deepEqual(phone.problems.pageErrors, []);
  },
  {
    authenticator: { ...UV_AUTHENTICATOR, hasUserVerification: false, isUserVerified: false },
  },
);

siteTest('e. an expired URL refuses the right password like a wrong one', async ({ site, phone, page }) => {
  const url = await site.addApplicant({ validDays: 0 });
  await phone.enterPassword(url, PASSWORD);
  const right = await refusedPasswordText(page);
  await phone.enterPassword(url, WRONG_PASSWORD);
  const wrong = await refusedPasswordText(page);
  assert.equal(right, wrong);

  const row = await site.status();
  assert.equal(row.urls[0].state, 'expired');
  assert.equal(row.credentials.length, 0);
});

siteTest('f. a re-issued URL enrols; the old one refuses the right password', async ({ site, phone, page }) => {
  const old = await site.addApplicant();
  const fresh = await site.reissue();
  assert.notEqual(fresh, old);

  await phone.reachStep5(fresh);
  await phone.register();

  await phone.forgetSession();
  await phone.enterPassword(old, PASSWORD);
  await refusedPasswordText(page);

  const row = await site.status();
  assert.equal(row.credentials.length, 1);
  const states = row.urls.map((u) => u.state).sort();
  assert.deepEqual(states, ['superseded', 'valid']);
});

siteTest('g. a revoked second certificate: step 5 refuses, no Sign In', async ({ site, phone, page }) => {
  const url = await site.addApplicant();
  await phone.reachStep5(url);
  await phone.register();
  await site.revokeSecond();

  await phone.forgetSession();
  await phone.enterPassword(url, PASSWORD);
  await page.waitForURL(/\/signin$/);
  await page.locator('#signin').click();
  const error = page.locator('#error');
  await error.waitFor({ state: 'visible' });
  assert.equal(await error.getAttribute('data-code'), 'second-certificate-revoked');
  assert.equal(await page.locator('#sign-in').count(), 0);
  assert.equal(await page.locator('#register').count(), 0);

  const row = await site.status();
  assert.equal(row.applicant.secondCertificate, 'revoked');
  assert.equal(row.credentials[0].lastUsedAt, null, 'no sign-in happened');
});

siteTest('h. a deleted credential: Register again, and enrolment works', async ({ site, phone }) => {
  const url = await site.addApplicant();
  await phone.reachStep5(url);
  await phone.register();
  await site.deleteCredentials();
  assert.equal((await site.status()).credentials.length, 0);

  await phone.forgetSession();
  await phone.reachStep5(url);
  await phone.register();
  const row = await site.status();
  assert.equal(row.credentials.length, 1);
  phone.assertClean();
});

siteTest('i. a typed username works; a wrong one is refused with an empty field', async ({ site, phone, page }) => {
  const url = await site.addApplicant();
  await phone.enterPassword(url, PASSWORD);
  await assertSignInScreen(page);

  const username = page.locator('#username');
  await username.fill('');
  await username.pressSequentially('123456-jpa');
  await page.locator('#signin').click();
  const error = page.locator('#error');
  await error.waitFor({ state: 'visible' });
  assert.equal(await error.getAttribute('data-code'), 'wrong-username');
  assert.equal(await username.inputValue(), '', 'the field is empty after an error');
  assert.equal(await page.locator('#register').count(), 0);

  await username.fill('');
  await username.pressSequentially(USERNAME);
  await page.locator('#signin').click();
  await page.waitForURL(/\/step5$/);
  await phone.register();
  assert.equal((await site.status()).credentials.length, 1);
  phone.assertClean();
});

siteTest('j. a browser without WebAuthn: the device cannot be used, use the HPKI card', async ({ site, phone, page }) => {
  // A browser (or in-app web view) that has no WebAuthn at all.
  await phone.context.addInitScript(() => {
    delete window.PublicKeyCredential;
  });
  const url = await site.addApplicant();
  await phone.reachStep5(url);
  await page.locator('#register').click();
  const error = page.locator('#error');
  await error.waitFor({ state: 'visible' });
  assert.equal(await error.getAttribute('data-code'), 'not-capable');
  assert.match(await error.textContent(), /Security Key Error/);
  // Only the "not FIDO2-capable: use the HPKI card" guidance is shown.
  assert.ok(await page.locator('#guidance [data-guidance="not-capable"]').isVisible());
  assert.match(await page.locator('#guidance [data-guidance="not-capable"]').textContent(), /HPKI/);
  assert.equal(await page.locator('#guidance [data-guidance="biometrics"]').isVisible(), false);
  assert.equal((await site.status()).credentials.length, 0, 'no credential stored');
  assert.deepEqual(phone.problems.cspViolations, []);
  assert.deepEqual(phone.problems.pageErrors, []);
});
