// piglix's web UI in Debian's Chromium (playwright-core) against the
// simulated server in the VM (tests/vm/simserver), started by
// tests/vm/test_e2e_server.py (mode "scenario") and tests/vm/bench_latency.py
// (mode "latency"). The screen is read from the noVNC canvas: text by
// matching each 8x16 cell against the font, the state strip's bytes.
//
// Environment: PIGLIX_URL, PIGLIX_USER, PIGLIX_PASSWORD, PIGLIX_SIM_CONTRACT
// (JSON: the layout and glyphs `simserver layout`/`font` print),
// PIGLIX_ARTIFACTS, PIGLIX_NODE_MODULES, PIGLIX_BROWSER_SENTENCE (scenario),
// PIGLIX_KEYS (latency, default 100), CHROMIUM.
// Prints progress lines and one JSON line with the result; exit 0 = ok.
// Scenario: prints READY before the force-off and waits for a line on stdin
// (the caller connects a VNC viewer meanwhile).
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const { chromium } = await import(path.join(process.env.PIGLIX_NODE_MODULES, 'playwright-core', 'index.mjs'));

const MODE = process.argv[2] || 'scenario';
const URL = process.env.PIGLIX_URL;
const ART = process.env.PIGLIX_ARTIFACTS || '.';
const contract = JSON.parse(fs.readFileSync(process.env.PIGLIX_SIM_CONTRACT, 'utf8'));
const L = contract.layout;

function say(msg) { console.log(msg); }

// Runs in the page: the strip and some rows of text from the canvas.
function readScreen({ layout, glyphs, rows }) {
  const c = document.querySelector('#screen canvas');
  if (!c || c.width < layout.width || c.height < layout.height) return null;
  const W = layout.width;
  const img = c.getContext('2d').getImageData(0, 0, W, layout.height).data;
  const px = (x, y) => { const i = (y * W + x) * 4; return [img[i], img[i + 1], img[i + 2]]; };
  const s = layout.strip;
  const bytes = [];
  for (let i = 0; i < s.bytes * 8; i++) {
    const x = (i % s.cells_per_row) * s.cell + s.cell / 2;
    const y = s.y + Math.floor(i / s.cells_per_row) * s.cell + s.cell / 2;
    const [r, g, b] = px(x, y);
    if (i % 8 === 0) bytes.push(0);
    if (r + g + b > 3 * 128) bytes[bytes.length - 1] |= 0x80 >> (i % 8);
  }
  let sum = 0;
  for (let i = 0; i < 28; i++) sum += bytes[i];
  const be16 = (i) => (bytes[i] << 8) | bytes[i + 1];
  const strip = bytes[0] === 0xa5 && bytes[1] === 0x5a && bytes[2] === 1 && be16(28) === (sum & 0xffff) ? {
    flags: bytes[3], menu: bytes[6], activated: bytes[7] === 255 ? null : bytes[7], text_len: be16(8),
    last_char: be16(10), text_crc: ((bytes[12] << 24) | (bytes[13] << 16) | (bytes[14] << 8) | bytes[15]) >>> 0,
    pointer: be16(16) === 0xffff ? null : [be16(16), be16(18)], buttons: bytes[20],
  } : null;
  const byMask = {};
  for (const ch of Object.keys(glyphs).sort()) if (!(glyphs[ch] in byMask)) byMask[glyphs[ch]] = ch;
  const [cw, chh] = layout.cell;
  const text = {};
  for (const row of rows || []) {
    let line = '';
    for (let col = 0; col < W / cw; col++) {
      const counts = new Map();
      const cell = [];
      for (let y = 0; y < chh; y++) for (let x = 0; x < cw; x++) {
        const k = px(col * cw + x, row * chh + y).join(',');
        cell.push(k);
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      const bg = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
      let hex = '';
      for (let y = 0; y < chh; y++) {
        let bits = 0;
        for (let x = 0; x < cw; x++) if (cell[y * cw + x] !== bg) bits |= 0x80 >> x;
        hex += bits.toString(16).padStart(2, '0');
      }
      line += byMask[hex] || '\u0000';
    }
    text[row] = line.replace(/\s+$/, '');
  }
  return { strip, text };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(str) {
  let c = 0xffffffff;
  for (const b of Buffer.from(str, 'utf8')) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function screen(page, rows = []) {
  return page.evaluate(readScreen, { layout: L, glyphs: contract.glyphs, rows });
}

async function waitScreen(page, what, pred, rows = [], ms = 30000) {
  const t0 = Date.now();
  for (;;) {
    const s = await screen(page, rows);
    if (s && pred(s)) { say('ok: ' + what); return s; }
    if (Date.now() - t0 > ms) throw new Error(`${what}: not seen in ${ms / 1000} s; last: ${JSON.stringify(s)}`);
    await page.waitForTimeout(150);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ART, name + '.png') });
}

// Page coordinates of a framebuffer pixel (the canvas may be scaled to fit).
async function pagePoint(page, fx, fy) {
  const r = await page.evaluate(() => {
    const c = document.querySelector('#screen canvas');
    const b = c.getBoundingClientRect();
    return { x: b.x, y: b.y, sx: b.width / c.width, sy: b.height / c.height };
  });
  return [r.x + (fx + 0.5) * r.sx, r.y + (fy + 0.5) * r.sy];
}

async function login(browser) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => say('page error: ' + e.message));
  await page.goto(URL + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await page.fill('#login-name', process.env.PIGLIX_USER);
  await page.fill('#login-password', process.env.PIGLIX_PASSWORD);
  await page.click('#login-submit');
  await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 30000 });
  return page;
}

// The de server gets the physical keys (noVNC sends QEMU scancodes): a US
// browser keyboard's Y and Z come out swapped.
const asDe = (s) => s.replace(/[yzYZ]/g, (c) => ({ y: 'z', z: 'y', Y: 'Z', Z: 'Y' })[c]);

// Types text key by key as a person does, Shift held for capitals and '!'
// (the server sees the keys, not the characters). Letters, digits, space,
// comma, period and '!' only: they sit on the same keys in us and de.
async function typeKeys(page, text) {
  for (const ch of text) {
    const shift = /[A-Z!]/.test(ch);
    const code = /[a-z]/i.test(ch) ? 'Key' + ch.toUpperCase() : /[0-9]/.test(ch) ? 'Digit' + ch
      : { ' ': 'Space', ',': 'Comma', '.': 'Period', '!': 'Digit1' }[ch];
    if (!code) throw new Error(`typeKeys: no key for "${ch}"`);
    if (shift) await page.keyboard.down('Shift');
    await page.keyboard.press(code);
    if (shift) await page.keyboard.up('Shift');
  }
}

async function scenario(page) {
  const R = L.row;
  let s = await waitScreen(page, 'the browser shows the setup screen', (x) => x.strip && x.text[R.title] ===
    ' piglix test server - firmware setup utility', [R.title]);
  await shot(page, '07-browser-setup-screen');
  // click the Keyboard Test entry
  const [fx, fy] = [(L.col.menu + 5) * 8 + 2, (R.menu + 1) * 16 + 9];
  await page.mouse.click(...await pagePoint(page, fx, fy));
  s = await waitScreen(page, `a click at (${fx},${fy}) in the canvas chooses Keyboard Test`,
    (x) => x.strip && x.strip.activated === 1 && x.strip.pointer &&
      Math.abs(x.strip.pointer[0] - fx) <= 1 && Math.abs(x.strip.pointer[1] - fy) <= 1);
  await page.mouse.move(...await pagePoint(page, 600, 440)); // the pointer off the text
  await page.keyboard.press('Escape');
  const typed = process.env.PIGLIX_BROWSER_SENTENCE;
  await typeKeys(page, typed);
  const want = asDe(typed);
  s = await waitScreen(page, `typed in the browser, echoed as a de keyboard types it: "${want}"`,
    (x) => x.strip && x.strip.text_len === want.length && x.strip.text_crc === crc32(want), [R.text]);
  const field = s.text[R.text].slice(L.col.text);
  if (field !== want) throw new Error(`the text field reads "${field}", want "${want}"`);
  await shot(page, '08-browser-typed');

  say('READY for the force-off');
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => rl.once('line', resolve));
  rl.close();
  const before = await page.evaluate(() => window.piglix.disconnects);
  await page.click('#btn-atx');
  await page.waitForFunction(() => document.getElementById('atx-state').textContent.includes('is on'));
  const off = page.locator('[data-atx="force-off"]');
  await off.click();
  await off.click(); // destructive: a second click confirms
  await page.waitForFunction(() => document.getElementById('atx-last').textContent.includes('force-off'),
    null, { timeout: 20000 });
  await page.click('#dlg-atx .close');
  await waitScreen(page, 'force-off: the canvas shows no setup screen', (x) => !x.strip, [], 20000);
  await page.waitForFunction(() => document.getElementById('st-signal').textContent !== 'signal', null,
    { timeout: 20000 });
  const after = await page.evaluate(() => ({ d: window.piglix.disconnects, ws: window.piglix.wsState,
    signal: document.getElementById('st-signal').textContent }));
  if (after.d !== before || after.ws !== 'connected') throw new Error('the browser viewer was disconnected: ' +
    JSON.stringify(after));
  say(`ok: the browser stayed connected; the status bar says "${after.signal}"`);
  await shot(page, '09-browser-force-off-no-signal');
  return { typed: want, signal: after.signal };
}

async function latency(page, n) {
  await waitScreen(page, 'the setup screen', (x) => x.strip);
  const [fx, fy] = [600, 440];
  await page.mouse.click(...await pagePoint(page, fx, fy)); // focus the viewer
  await page.evaluate(({ layout }) => {
    const s = layout.strip;
    const disp = window.piglix.rfb._display;
    const ctx = document.querySelector('#screen canvas').getContext('2d');
    const L2 = window.__lat = { want: null, armed: false, t0: 0, samples: [] };
    const stripLen = () => {
      const d = ctx.getImageData(0, s.y, layout.width, s.cell * s.rows).data;
      const bit = (i) => {
        const x = (i % s.cells_per_row) * s.cell + s.cell / 2;
        const y = Math.floor(i / s.cells_per_row) * s.cell + s.cell / 2;
        const k = (y * layout.width + x) * 4;
        return d[k] + d[k + 1] + d[k + 2] > 3 * 128 ? 1 : 0;
      };
      const byte = (j) => { let v = 0; for (let b = 0; b < 8; b++) v = (v << 1) | bit(j * 8 + b); return v; };
      if (byte(0) !== 0xa5 || byte(1) !== 0x5a) return null;
      return [(byte(8) << 8) | byte(9), (byte(10) << 8) | byte(11)];
    };
    window.addEventListener('keydown', () => { if (L2.armed) { L2.t0 = performance.now(); L2.armed = false; } },
      true);
    const flip = disp.flip.bind(disp);
    // the first update that shows the character: right after noVNC paints it
    disp.flip = (fromQueue) => {
      flip(fromQueue);
      if (!L2.want) return;
      const got = stripLen();
      if (got && got[0] === L2.want[0] && got[1] === L2.want[1]) {
        L2.samples.push(performance.now() - L2.t0);
        L2.want = null;
      }
    };
  }, { layout: L });
  await page.keyboard.press('Escape');
  await waitScreen(page, 'an empty text field', (x) => x.strip && x.strip.text_len === 0);
  const letters = 'abcdefghijklmnopqrstuvwx'; // the same on us and de keyboards
  let len = 0;
  for (let i = 0; i < n; i++) {
    if (len >= 40) {
      await page.keyboard.press('Escape');
      await waitScreen(page, 'an empty text field', (x) => x.strip && x.strip.text_len === 0, [], 10000);
      len = 0;
    }
    const ch = letters[i % letters.length];
    len++;
    await page.evaluate((want) => { window.__lat.want = want; window.__lat.armed = true; }, [len, ch.charCodeAt(0)]);
    await page.keyboard.press(ch);
    await page.waitForFunction(() => window.__lat.want === null, null, { timeout: 15000, polling: 5 });
    await page.waitForTimeout(Math.floor(Math.random() * 40));
  }
  return { samples_ms: await page.evaluate(() => window.__lat.samples) };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
         '--disable-component-update', '--disable-sync'],
});
let page = null;
let code = 0;
try {
  page = await login(browser);
  const result = MODE === 'latency' ? await latency(page, Number(process.env.PIGLIX_KEYS || 100))
    : await scenario(page);
  console.log(JSON.stringify({ ok: true, ...result }));
} catch (e) {
  if (page) await shot(page, 'browser-failed').catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e) }));
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
