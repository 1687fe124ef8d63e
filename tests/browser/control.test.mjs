// Exclusive control ([control] mode = exclusive) with two browser viewers in
// Debian's Chromium: the second cannot type until it gets the keyboard, it
// asks from its toolbar, the holder hands over from its own, and the key the
// holder still held is released before the new holder's first key. Checked
// at the HID backend (piglix's debug log of every event that reaches it),
// not in the UI. Run by run.sh like web.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ART, PIGLIX, freePort, launchChromium, startPiglix, waitFor as harnessWaitFor } from './harness.mjs';

const PASSWORD = 'control-pw-1';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'piglix-control-'));
let piglix, base, browser;
const log = () => (piglix ? piglix.log() : '');

const waitFor = (fn, what, ms = 10000) => harnessWaitFor(fn, what, ms, log);

// Key events at the HID backend, in order: {sym, down} or {release: true}.
// noVNC sends QEMU extended key events (scancode and keysym) when offered.
function hidEvents() {
  const out = [];
  const re = /hid: (?:key (?:scancode=0x[0-9a-f]+ )?keysym=0x([0-9a-f]+) (down|up)|(release all))/g;
  for (const m of log().matchAll(re))
    out.push(m[3] ? { release: true } : { sym: parseInt(m[1], 16), down: m[2] === 'down' });
  return out;
}
const has = (evs, sym, down) => evs.some((e) => e.sym === sym && e.down === down);

before(async () => {
  fs.mkdirSync(path.join(tmp, 'state'), { mode: 0o700 });
  const port = await freePort(), vncPort = await freePort();
  base = `https://127.0.0.1:${port}`;
  const ini = path.join(tmp, 'piglix.ini');
  fs.writeFileSync(ini, [
    '[capture]', 'source = test', 'width = 1280', 'height = 720', 'fps = 30', 'scenario = bios', '',
    '[vnc]', 'listen = 127.0.0.1', `port = ${vncPort}`, 'auth = none', '',
    '[web]', 'enabled = yes', 'listen = 127.0.0.1', `port = ${port}`, '',
    '[control]', 'mode = exclusive', 'idle_release_s = 60', '',
    '[log]', 'level = debug', '',
    '[state]', `dir = ${path.join(tmp, 'state')}`, ''].join('\n'));
  for (const name of ['alice', 'bob']) {
    const r = spawnSync(PIGLIX, ['-c', ini, 'user', 'add', name], { input: PASSWORD + '\n' });
    assert.equal(r.status, 0, 'user add ' + name + ': ' + r.stderr);
  }
  piglix = startPiglix(ini);
  await waitFor(() => /piglix running/.test(log()), 'piglix to start');
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (piglix) await piglix.stop('piglix-control.log');
  fs.rmSync(tmp, { recursive: true, force: true }); /* the log is in ART now */
});

// A logged-in viewer of its own (own browser context: own cookie).
async function viewer(name) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(name + ' page error:', e.message));
  await page.goto(base + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await page.fill('#login-name', name);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForFunction(() => window.piglix.wsState === 'connected', null, { timeout: 15000 });
  return { ctx, page };
}

async function focusScreen(page) {
  // Focus without a click: a click is input, and input takes a free keyboard.
  await page.evaluate(() => document.querySelector('#screen canvas').focus());
}

test('exclusive control: the second viewer cannot type until it gets the keyboard; hand-over releases held keys', async () => {
  const [a, b] = await Promise.all([viewer('alice'), viewer('bob')]);
  const A = 0x61, B = 0x62, C = 0x63, D = 0x64;

  // alice takes the free keyboard by typing, and keeps 'a' down
  await focusScreen(a.page);
  await a.page.keyboard.down('a');
  await waitFor(() => has(hidEvents(), A, true), "alice's key at HID");
  await b.page.waitForFunction(() => /alice has the keyboard/.test(document.getElementById('st-control').textContent),
    null, { timeout: 5000 });

  // bob types: nothing reaches HID
  await focusScreen(b.page);
  await b.page.keyboard.press('b');
  await waitFor(async () => (await b.page.evaluate(async () => (await (await fetch('/api/control')).json()).dropped)) > 0,
    "bob's keys counted as dropped");
  assert.ok(!hidEvents().some((e) => e.sym === B), "bob's key reached HID while alice held the keyboard");

  // bob asks from his toolbar; alice sees it and hands over from hers
  await b.page.click('#btn-kbd-ask');
  await a.page.waitForSelector('#btn-kbd-give:not([hidden])', { timeout: 5000 });
  assert.match(await a.page.textContent('#st-control'), /bob asks for it/);
  await a.page.screenshot({ path: path.join(ART, 'control-01-asked.png') });
  const before = hidEvents().length;
  await a.page.click('#btn-kbd-give');
  await b.page.waitForFunction(() => /you have the keyboard/.test(document.getElementById('st-control').textContent),
    null, { timeout: 5000 });

  // bob types now; alice's 'a' was released first, and alice types no more
  await focusScreen(b.page);
  await b.page.keyboard.press('c');
  await waitFor(() => has(hidEvents().slice(before), C, false), "bob's key at HID after the hand-over");
  await focusScreen(a.page);
  await a.page.keyboard.up('a');
  await a.page.keyboard.press('d');
  await new Promise((r) => setTimeout(r, 500));
  const ev = hidEvents().slice(before);
  const rel = ev.findIndex((e) => e.release), cDown = ev.findIndex((e) => e.sym === C && e.down);
  assert.ok(rel >= 0 && rel < cDown, 'the hand-over released held keys before bob typed: ' + JSON.stringify(ev));
  assert.ok(!ev.some((e) => e.sym === D || e.sym === A), 'alice typed after handing over: ' + JSON.stringify(ev));
  await b.page.screenshot({ path: path.join(ART, 'control-02-handed-over.png') });

  // the API's keyboard calls follow the same holder: a non-holder's paste is
  // refused whole; an admin (every account until roles) takes the keyboard
  const post = (page, what, body) => page.evaluate(async ([w, b]) => {
    const r = await fetch(w, { method: 'POST', body: JSON.stringify(b || {}),
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': window.piglix.session.csrf } });
    return { status: r.status, data: await r.json() };
  }, [what, body]);
  let r = await post(a.page, '/api/hid/paste', { text: 'x' });
  assert.equal(r.status, 409, 'a non-holder\'s paste: ' + JSON.stringify(r));
  assert.match(r.data.error, /bob has the keyboard/);
  assert.equal((await post(a.page, '/api/control/release')).status, 409, 'alice releases what she does not hold');
  r = await post(a.page, '/api/control/take');
  assert.ok(r.status === 200 && r.data.you_hold, 'take: ' + JSON.stringify(r));
  assert.equal((await post(b.page, '/api/hid/paste', { text: 'x' })).status, 409, "bob's paste after the take");
  assert.equal((await post(a.page, '/api/hid/paste', { text: 'x' })).status, 503, "the holder's paste reaches the (absent) HID");
  r = await post(a.page, '/api/control/release');
  assert.ok(r.status === 200 && r.data.holder === null, 'release: ' + JSON.stringify(r));

  // the Sessions panel lists both viewers for everyone
  await a.page.click('#btn-sessions');
  await a.page.waitForFunction(() => document.querySelectorAll('#sessions-list tr').length >= 4);
  const rows = await a.page.$$eval('#sessions-list tr', (trs) => trs.map((t) => t.textContent));
  assert.ok(rows.some((r) => /bob.*browser viewer/.test(r)) && rows.some((r) => /alice.*browser viewer.*you/.test(r)),
    'sessions: ' + rows.join(' | '));
  await a.page.screenshot({ path: path.join(ART, 'control-03-sessions.png') });
  await a.ctx.close();
  await b.ctx.close();
});
