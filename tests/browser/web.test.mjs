// piglix's web UI in Debian's Chromium (playwright-core, no downloaded
// browser), against piglix on its test source (bios scenario). Run by
// run.sh, which sets PIGLIX (the binary), PIGLIX_ARTIFACTS (screenshots)
// and PIGLIX_NODE_MODULES (where npm put playwright-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ART, PIGLIX, freePort, launchChromium, startPiglix, waitFor as harnessWaitFor } from './harness.mjs';

const PASSWORD = 'browser-pw-1';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'piglix-browser-'));
const state = path.join(tmp, 'state');
let piglix, port, base, browser;
const figures = {};

function log() { return piglix ? piglix.log() : ''; }

const waitFor = (fn, what, ms = 15000) => harnessWaitFor(fn, what, ms, log);

async function newPage(viewport = { width: 1280, height: 720 }) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  return { ctx, page };
}

// Logs in as admin from the login view.
async function logIn(page) {
  await page.fill('#login-name', 'admin');
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
}

// Colours of the bios scenario (capture/testsrc_bios.c) in the viewer's canvas.
async function canvasColours(page) {
  return page.evaluate(() => {
    const c = document.querySelector('#screen canvas');
    if (!c || c.width < 64) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const n = { total: 0, blue: 0, cyan: 0, yellow: 0, white: 0, width: c.width, height: c.height };
    for (let i = 0; i < d.length; i += 4 * 5) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      n.total++;
      if (r < 40 && g < 40 && b > 140 && b < 210) n.blue++;
      else if (r < 60 && g > 140 && g < 210 && b > 140 && b < 210) n.cyan++;
      else if (r > 220 && g > 220 && b > 50 && b < 140) n.yellow++;
      else if (r > 230 && g > 230 && b > 230) n.white++;
    }
    return n;
  });
}

async function shot(page, name) {
  const file = path.join(ART, name + '.png');
  await page.screenshot({ path: file });
  return file;
}

// piglix's configuration for these tests in DIR; webExtra adds [web] lines.
async function writeIni(dir, webPort, webExtra = []) {
  const vncPort = await freePort();
  const ini = path.join(dir, 'piglix.ini');
  fs.writeFileSync(ini, [
    '[capture]', 'source = test', 'width = 1280', 'height = 720', 'fps = 30', 'scenario = bios', '',
    '[vnc]', 'listen = 127.0.0.1', `port = ${vncPort}`, 'auth = none', '',
    '[web]', 'enabled = yes', 'listen = 127.0.0.1', `port = ${webPort}`, 'login_fail_limit = 3',
    'login_throttle_s = 2', ...webExtra, '',
    '[vmedia]', 'enabled = yes', `dir = ${path.join(dir, 'images')}`, '',
    '[state]', `dir = ${path.join(dir, 'state')}`, ''].join('\n'));
  return ini;
}

before(async () => {
  fs.mkdirSync(state, { mode: 0o700 });
  port = await freePort();
  base = `https://127.0.0.1:${port}`;
  const ini = await writeIni(tmp, port);
  piglix = startPiglix(ini);
  await waitFor(() => /set-up token [0-9a-f]{32}/.test(log()), 'the set-up token in the log');
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (piglix) await piglix.stop('piglix.log');
  fs.rmSync(tmp, { recursive: true, force: true }); /* the log is in ART now */
  console.log('figures: ' + JSON.stringify(figures));
  console.log('screenshots and log in ' + ART);
});

test('set-up token flow creates the first account and shows the picture', async () => {
  const { ctx, page } = await newPage();
  const t0 = Date.now();
  await page.goto(base + '/');
  await page.waitForSelector('#view-setup:not([hidden])');
  await shot(page, '01-setup');
  const token = /set-up token ([0-9a-f]{32})/.exec(log())[1];
  await page.fill('#setup-token', 'f'.repeat(32));
  await page.fill('#setup-name', 'admin');
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-password2', PASSWORD);
  await page.click('#setup-submit');
  await page.waitForFunction(() => document.getElementById('setup-error').textContent.includes('wrong set-up token'));
  await page.fill('#setup-token', token);
  await page.click('#setup-submit');
  await page.waitForSelector('#view-kvm:not([hidden])');
  await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 15000 });
  figures.setupToPictureMs = Date.now() - t0;
  // The first-run checklist: the doctor's checks from after the account was
  // made, problems first, each with its fix.
  await page.waitForSelector('#dlg-health[open]');
  await page.waitForFunction(() => document.querySelectorAll('#health-list tr').length > 5, null, { timeout: 10000 });
  assert.ok(await page.isVisible('#health-first-run'), 'the first-run words show');
  const rows = await page.$$eval('#health-list tr', (trs) => trs.map((t) => [t.className, t.cells[1].textContent,
                                                                            t.cells[2].textContent]));
  const rank = { 'health-problem': 0, 'health-warning': 1, 'health-ok': 2 };
  for (let i = 1; i < rows.length; i++)
    assert.ok(rank[rows[i - 1][0]] <= rank[rows[i][0]], 'problems first: ' + JSON.stringify(rows));
  const accounts = rows.find((r) => r[1] === 'web-accounts');
  assert.deepEqual(accounts && accounts.slice(0, 1), ['health-ok'], 'the account just made: ' + JSON.stringify(rows));
  assert.ok(rows.some((r) => r[1] === 'certificate' && /self-signed/.test(r[2])), JSON.stringify(rows));
  assert.match(await page.textContent('#health-summary'), /\d+ problem\(s\), \d+ warning\(s\), \d+ ok/);
  await shot(page, '02-first-run-checklist');
  await page.click('#dlg-health .close');
  assert.ok(await page.isHidden('#dlg-health'));
  await page.waitForTimeout(500);
  const col = await canvasColours(page);
  await shot(page, '02b-kvm-after-setup');
  assert.equal(col.width, 1280);
  assert.equal(col.height, 720);
  assert.ok(col.blue / col.total > 0.5, 'the bios background is blue: ' + JSON.stringify(col));
  assert.ok(col.cyan > 100, 'the cyan menu bar shows: ' + JSON.stringify(col));
  assert.ok(col.yellow > 20, 'yellow headings show: ' + JSON.stringify(col));
  assert.ok(col.white > 20, 'white text shows: ' + JSON.stringify(col));
  await ctx.close();
});

test('a wrong password is refused and repeated failures are throttled', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  for (let i = 0; i < 3; i++) {
    await page.fill('#login-name', 'admin');
    await page.fill('#login-password', 'wrong-' + i);
    await page.click('#login-submit');
    await page.waitForFunction((n) => document.getElementById('login-error').textContent.includes('wrong')
      && document.getElementById('login-submit').disabled === false, i);
    await page.evaluate(() => { document.getElementById('login-error').textContent = ''; });
  }
  await page.fill('#login-password', PASSWORD); // right, but too soon
  await page.click('#login-submit');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('Too many'));
  await shot(page, '03-throttled');
  assert.ok(await page.isVisible('#view-login'), 'still on the login page');
  assert.match(log(), /admin@127\.0\.0\.1: refused, too many failed logins/);
  await page.waitForTimeout(2300);
  await page.click('#login-submit');
  await page.waitForSelector('#view-kvm:not([hidden])');
  await ctx.close();
});

test('the first picture, typing and clicking, CSRF, logout closing the WebSocket', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await logIn(page);
  await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 15000 });

  // Time from opening the page to the first picture, already logged in.
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await page.goto(base + '/');
    await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 15000 });
    const t = await page.evaluate(() => ({ connect: window.piglix.connectedAt, picture: window.piglix.firstPictureAt }));
    times.push({ wall: Date.now() - t0, connect: Math.round(t.connect), picture: Math.round(t.picture) });
  }
  figures.openToPicture = times;
  const medianPicture = times.map((t) => t.picture).sort((a, b) => a - b)[2];
  figures.openToPictureMedianMs = medianPicture;
  assert.ok(medianPicture < 5000, 'first picture within 5 s: ' + JSON.stringify(times));

  // Status bar
  await page.waitForFunction(() => document.getElementById('st-res').textContent === '1280×720');
  assert.equal(await page.textContent('#st-signal'), 'signal');

  // Typing and clicking in the page reach the input path (counted at exit).
  const box = await page.locator('#screen canvas').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.type('piglix');
  await page.keyboard.press('Enter');
  await page.click('#btn-cad');
  await page.mouse.move(box.x + 50, box.y + 60);
  await page.mouse.click(box.x + 80, box.y + 90);
  await page.waitForTimeout(300);

  // 1:1 and fit: the canvas shows at its own size, then fits again.
  await page.click('#btn-scale');
  await page.waitForFunction(() => document.querySelector('#screen canvas').clientWidth === 1280);
  await shot(page, '04-actual-size');
  await page.click('#btn-scale');
  await page.waitForFunction(() => document.querySelector('#screen canvas').clientWidth < 1280);
  await shot(page, '05-fit');

  // A state change without the CSRF token is refused; with it, it gets through.
  const csrf = await page.evaluate(async () => {
    const body = JSON.stringify({ combo: 'ctrl+alt+delete' });
    const h = { 'Content-Type': 'application/json' };
    const without = await fetch('/api/hid/combo', { method: 'POST', headers: h, body });
    const wrong = await fetch('/api/hid/combo', { method: 'POST', headers: { ...h, 'X-CSRF-Token': 'a'.repeat(64) }, body });
    const right = await fetch('/api/hid/combo', { method: 'POST', headers: { ...h, 'X-CSRF-Token': window.piglix.session.csrf }, body });
    const logout = await fetch('/api/logout', { method: 'POST', headers: h });
    return { without: without.status, wrong: wrong.status, right: right.status, logout: logout.status,
             msg: (await without.json()).error };
  });
  assert.equal(csrf.without, 403, JSON.stringify(csrf));
  assert.equal(csrf.wrong, 403);
  assert.equal(csrf.logout, 403, 'logout without the token is refused too');
  assert.notEqual(csrf.right, 403, 'with the token the request passes the CSRF check');
  assert.match(csrf.msg, /CSRF/);

  // Logout by the API alone: the server closes the viewer's WebSocket.
  const before = await page.evaluate(() => window.piglix.disconnects);
  const st = await page.evaluate(async () => (await fetch('/api/logout', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': window.piglix.session.csrf } })).status);
  assert.equal(st, 200);
  await page.waitForFunction((n) => window.piglix.disconnects > n, before, { timeout: 5000 });
  await page.waitForSelector('#view-login:not([hidden])', { timeout: 10000 });
  await shot(page, '06-after-logout');
  assert.match(log(), /admin@127\.0\.0\.1: session ended: closing its viewer/);
  const after = await page.evaluate(async () => (await fetch('/api/info')).status);
  assert.equal(after, 401, 'the session is gone');

  // The logout button does the same.
  await logIn(page);
  await page.waitForFunction(() => window.piglix.wsState === 'connected');
  await page.click('#btn-account');
  await page.click('#btn-logout');
  await page.waitForSelector('#view-login:not([hidden])');
  assert.equal(await page.evaluate(async () => (await fetch('/api/session')).status), 401);
  await ctx.close();
});

test('the panels and a phone-sized viewport', async () => {
  const { ctx, page } = await newPage({ width: 390, height: 844 });
  await page.goto(base + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await shot(page, '07-phone-login');
  await logIn(page);
  await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 15000 });
  await page.waitForFunction(() => document.getElementById('st-res').textContent.includes('×'));
  const fits = await page.evaluate(() => {
    const c = document.querySelector('#screen canvas').getBoundingClientRect();
    return { overflow: document.documentElement.scrollWidth - window.innerWidth, canvasW: c.width, canvasH: c.height };
  });
  await shot(page, '08-phone-kvm');
  assert.ok(fits.overflow <= 0, 'nothing wider than the phone: ' + JSON.stringify(fits));
  assert.ok(fits.canvasW > 300 && fits.canvasW <= 390, 'the picture fits the width: ' + JSON.stringify(fits));
  await page.click('#btn-media');
  await page.waitForSelector('#media-controls:not([hidden])');
  await shot(page, '09-phone-media');
  await page.click('#dlg-media .close');
  await page.click('#btn-atx');
  assert.match(await page.textContent('#atx-state'), /not configured/);
  // how to turn it on: the pins in [atx], then enabled (a wrong pin could drive something else)
  assert.ok(await page.isVisible('#atx-off-help'), 'the Power panel says how to turn ATX on');
  assert.match(await page.textContent('#atx-off-help'), /\[atx\][\s\S]*enabled = yes[\s\S]*INSTALL\.md/);
  await page.click('#dlg-atx .close');
  await page.click('#btn-health');
  await page.waitForFunction(() => document.querySelectorAll('#health-list tr').length > 5);
  assert.ok(await page.isHidden('#health-first-run'), 'the first-run words only after set-up');
  await shot(page, '09b-phone-health');
  await page.click('#dlg-health .close');
  await page.click('#btn-paste');
  await page.fill('#paste-text', 'hi');
  await shot(page, '10-phone-paste');
  await page.click('#paste-send');
  await page.waitForFunction(() => !document.getElementById('dlg-paste').open);
  await ctx.close();
});

test('virtual media: an upload from the page with progress, its hash, mount refused without a gadget, delete', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await logIn(page);
  await page.waitForSelector('#view-kvm:not([hidden])');
  await page.click('#btn-media');
  await page.waitForSelector('#media-controls:not([hidden])');
  const crypto = await import('node:crypto');
  const data = crypto.randomBytes(48 * 1024 * 1024);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  const file = path.join(tmp, 'installer.iso');
  fs.writeFileSync(file, data);
  const t0 = Date.now();
  await page.setInputFiles('#media-file', file);
  await waitFor(() => page.evaluate(() => !document.getElementById('media-upload-progress').hidden ||
    document.getElementById('media-list').textContent.includes('installer.iso')), 'the upload to start');
  await page.waitForFunction(() => document.getElementById('media-list').textContent.includes('installer.iso'),
    null, { timeout: 60000 });
  figures.browserUpload48MiBMs = Date.now() - t0;
  await shot(page, '11-media-uploaded');
  const title = await page.getAttribute('#media-list tr td:nth-child(3)', 'title');
  assert.equal(title, sha, 'the hash piglix computed while the upload streamed');
  assert.ok(fs.readFileSync(path.join(tmp, 'images', 'installer.iso')).equals(data), 'stored bytes');
  await page.click('#media-list button:text("CD-ROM")');
  await page.waitForFunction(() => /USB gadget/.test(document.getElementById('media-error').textContent));
  page.once('dialog', (d) => d.accept());
  await page.click('#media-list button:text("Delete")');
  await page.waitForFunction(() => !document.getElementById('media-list').textContent.includes('installer.iso'));
  assert.ok(!fs.existsSync(path.join(tmp, 'images', 'installer.iso')), 'deleted from the store');
  await ctx.close();
});

test('without noVNC the set-up, login and every panel work, the viewer says what is missing, errors show', async () => {
  // A second piglix whose [web] novnc is an empty folder: before the UI
  // loaded noVNC lazily, the page stayed on "Loading..." for good.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piglix-nonovnc-'));
  const empty = path.join(dir, 'empty-novnc');
  fs.mkdirSync(empty);
  fs.mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  const p2 = await freePort();
  const ini = await writeIni(dir, p2, [`novnc = ${empty}`]);
  let text = '';
  const d2 = spawn(PIGLIX, ['-c', ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  d2.stdout.on('data', (b) => { text += b; });
  d2.stderr.on('data', (b) => { text += b; });
  const base2 = `https://127.0.0.1:${p2}`;
  const errors = [];
  try {
    await waitFor(() => /set-up token [0-9a-f]{32}/.test(text), 'the second piglix\'s set-up token');
    assert.match(text, /no noVNC at .*empty-novnc/, 'piglix warns at start');
    const { ctx, page } = await newPage();
    page.on('pageerror', (e) => errors.push(e.message));

    // Set-up: the first account, then the viewer's message.
    await page.goto(base2 + '/');
    await page.waitForSelector('#view-setup:not([hidden])', { timeout: 10000 });
    await page.fill('#setup-token', /set-up token ([0-9a-f]{32})/.exec(text)[1]);
    await page.fill('#setup-name', 'admin');
    await page.fill('#setup-password', PASSWORD);
    await page.fill('#setup-password2', PASSWORD);
    await page.click('#setup-submit');
    await page.waitForSelector('#view-kvm:not([hidden])');
    await page.waitForSelector('#dlg-health[open]'); // the first-run checklist, checked above
    await page.click('#dlg-health .close');
    await page.waitForSelector('#viewer-msg:not([hidden])', { timeout: 10000 });
    const msg = await page.textContent('#viewer-msg');
    assert.match(msg, /noVNC is missing/);
    assert.match(msg, /\/novnc\/core\/rfb\.js/, 'names the file: ' + msg);
    assert.match(msg, /404/, 'says it was not found: ' + msg);
    assert.match(msg, /\[web\] novnc/, 'names the setting: ' + msg);
    assert.match(msg, /\/usr\/share\/piglix\/novnc/, 'names where the package puts it: ' + msg);
    assert.equal(await page.textContent('#st-conn'), 'no viewer');
    assert.equal(await page.evaluate(() => document.body.dataset.viewer), 'missing');
    // The status line polls /api/info as with a viewer.
    await page.waitForFunction(() => document.getElementById('st-res').textContent === '1280×720');
    assert.equal(await page.textContent('#st-signal'), 'signal');
    await shot(page, '12-no-novnc-viewer');

    // Ctrl+Alt+Del without a viewer goes to /api/hid/combo; this piglix has
    // no USB keyboard, and the 503 shows in the status line.
    assert.ok(await page.isHidden('#st-error'));
    await page.click('#btn-cad');
    await page.waitForSelector('#st-error:not([hidden])');
    assert.match(await page.textContent('#st-error'), /ctrl\+alt\+delete: HID not configured \(503\)/);
    await shot(page, '13-no-novnc-api-error');
    await page.selectOption('#combo-select', 'alt+f4');
    await page.waitForFunction(() => /alt\+f4: HID not configured/.test(document.getElementById('st-error').textContent));

    // Paste: the API's refusal shows in the dialog, which stays open.
    await page.click('#btn-paste');
    await page.fill('#paste-text', 'hello');
    await page.click('#paste-send');
    await page.waitForFunction(() => /HID not configured/.test(document.getElementById('paste-note').textContent));
    assert.ok(await page.evaluate(() => document.getElementById('dlg-paste').open), 'the dialog stays open');
    await shot(page, '14-no-novnc-paste-error');
    await page.click('#paste-cancel');

    // Media: the store works; a mount without a gadget is refused in the panel.
    const img = path.join(dir, 'tool.img');
    fs.writeFileSync(img, Buffer.alloc(1024 * 1024, 7));
    await page.click('#btn-media');
    await page.waitForSelector('#media-controls:not([hidden])');
    await page.setInputFiles('#media-file', img);
    await page.waitForFunction(() => document.getElementById('media-list').textContent.includes('tool.img'));
    await page.click('#media-list button:text("Flash")');
    await page.waitForFunction(() => /USB gadget/.test(document.getElementById('media-error').textContent));
    await shot(page, '15-no-novnc-media');
    await page.click('#dlg-media .close');

    // Power and account.
    await page.click('#btn-atx');
    assert.match(await page.textContent('#atx-state'), /not configured/);
    await page.click('#dlg-atx .close');
    await page.click('#btn-account');
    await page.click('#totp-start');
    await page.waitForSelector('#totp-setup:not([hidden])');
    await page.fill('#totp-code', '000000');
    await page.click('#totp-confirm');
    await page.waitForFunction(() => document.getElementById('totp-error').textContent.length > 0);
    await page.click('#btn-logout');

    // The login page works, and after it the same message.
    await page.waitForSelector('#view-login:not([hidden])');
    await logIn(page);
    await page.waitForSelector('#view-kvm:not([hidden])');
    await page.waitForSelector('#viewer-msg:not([hidden])');
    assert.ok(await page.isHidden('#st-error'), 'an old error does not outlive the session');

    // piglix stops: the status line says it does not answer, the page stays.
    d2.kill('SIGTERM');
    await new Promise((r) => d2.once('exit', r));
    await page.waitForFunction(() => /Status: piglix does not answer/.test(document.getElementById('st-error').textContent),
      null, { timeout: 10000 });
    assert.ok(await page.isVisible('#view-kvm'), 'still on the viewer page');
    await shot(page, '16-no-novnc-piglix-gone');
    await ctx.close();
  } finally {
    if (d2.exitCode === null && d2.signalCode === null) {
      d2.kill('SIGTERM');
      await new Promise((r) => d2.once('exit', r));
    }
    fs.writeFileSync(path.join(ART, 'piglix-no-novnc.log'), text);
  }
  assert.deepEqual(errors, [], 'no uncaught page errors');
  for (const bad of ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'])
    assert.ok(!text.includes(bad), 'sanitizer report:\n' + text.slice(-4000));
  assert.ok(!text.includes(PASSWORD), 'a password reached the log');
});

test('the Log panel shows the audit log: the failed logins with address, a kind filter, paging', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await logIn(page);
  await page.waitForSelector('#view-kvm:not([hidden])');
  await page.click('#btn-log');
  await page.waitForFunction(() => document.getElementById('log-list').children.length > 0);
  const rows = await page.$$eval('#log-list tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const failed = rows.filter((r) => r[1] === 'login_failed');
  assert.ok(failed.length > 0, 'the failed logins of the earlier test: ' + JSON.stringify(rows.slice(0, 5)));
  assert.ok(failed.some((r) => r[2] === 'web' && r[4] === '127.0.0.1' && r[3] === 'admin'),
    'a failed login from the login page, with account and address: ' + JSON.stringify(failed.slice(0, 5)));
  assert.ok(rows.some((r) => r[1] === 'login' && r[3] === 'admin'), 'this login');
  await page.selectOption('#log-kind', 'login_failed');
  await page.waitForFunction(() => [...document.querySelectorAll('#log-list tr td:nth-child(2)')]
    .every((td) => td.textContent === 'login_failed'));
  await shot(page, '12-log');
  await page.click('#dlg-log .close');
  await ctx.close();
});

test('the daemon counted the input and exits cleanly', async () => {
  await browser.close();
  browser = null;
  assert.equal(piglix.clean(await piglix.stop()), '');
  const m = /input events: (\d+) keys, (\d+) scancodes, (\d+) pointer/.exec(log());
  assert.ok(m, 'no input statistics at exit');
  const keys = Number(m[1]) + Number(m[2]);
  const pointer = Number(m[3]);
  figures.inputEvents = { keys, pointer };
  // "piglix" + Enter typed (14 events), Ctrl+Alt+Del (6), paste fallback "hi" (4)
  assert.ok(keys >= 20, 'key events reached the input path: ' + m[0]);
  assert.ok(pointer >= 3, 'pointer events reached the input path: ' + m[0]);
  assert.ok(!log().includes(PASSWORD), 'a password reached the log');
});
