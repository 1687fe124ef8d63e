// H.264 in the browser: Debian's Chromium with the noVNC piglix serves
// (1.7, WebCodecs) negotiates RFB encoding 50 with piglix on the moving
// test source ([video] h264 = always) and shows the moving picture. Run by
// run.sh like web.test.mjs (same environment).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ART, PIGLIX, freePort, launchChromium, startPiglix, waitFor as harnessWaitFor } from './harness.mjs';

const PASSWORD = 'browser-pw-1';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'piglix-h264-'));
let piglix, base, browser;
const log = () => (piglix ? piglix.log() : '');

const waitFor = (fn, what, ms = 20000) => harnessWaitFor(fn, what, ms, log);

before(async () => {
  fs.mkdirSync(path.join(tmp, 'state'), { mode: 0o700 });
  const port = await freePort(), vncPort = await freePort();
  base = `https://127.0.0.1:${port}`;
  const ini = path.join(tmp, 'piglix.ini');
  fs.writeFileSync(ini, [
    '[capture]', 'source = test', 'width = 640', 'height = 360', 'fps = 30', 'scenario = motion', '',
    '[video]', 'h264 = always', '',
    '[vnc]', 'listen = 127.0.0.1', `port = ${vncPort}`, 'auth = none', '',
    '[web]', 'enabled = yes', 'listen = 127.0.0.1', `port = ${port}`, '',
    '[state]', `dir = ${path.join(tmp, 'state')}`, ''].join('\n'));
  piglix = startPiglix(ini);
  await waitFor(() => /set-up token [0-9a-f]{32}/.test(log()), 'the set-up token in the log');
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (piglix) await piglix.stop('piglix-h264.log');
  fs.rmSync(tmp, { recursive: true, force: true }); /* the log is in ART now */
});

// A coarse sample of the canvas: mean brightness and a few hundred pixels.
function sample(page) {
  return page.evaluate(() => {
    const c = document.querySelector('#screen canvas');
    if (!c || c.width < 64) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const px = [];
    let sum = 0, n = 0;
    for (let i = 0; i < d.length; i += 4 * 997) {
      px.push(d[i], d[i + 1], d[i + 2]);
      sum += d[i] + d[i + 1] + d[i + 2];
      n += 3;
    }
    return { w: c.width, h: c.height, mean: sum / n, px };
  });
}

// The first-run set-up with the token from piglix's log, up to the first picture.
async function firstRunSetUp(page, logText) {
  await page.waitForSelector('#view-setup:not([hidden])');
  await page.fill('#setup-token', /set-up token ([0-9a-f]{32})/.exec(logText)[1]);
  await page.fill('#setup-name', 'admin');
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-password2', PASSWORD);
  await page.click('#setup-submit');
  await page.waitForSelector('#view-kvm:not([hidden])');
  await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 20000 });
}


test('noVNC in Chromium negotiates H.264 and shows the moving picture', async () => {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 720 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const webcodecs = await (async () => {
    await page.goto(base + '/');
    return page.evaluate(async () => typeof VideoDecoder !== 'undefined' &&
      (await VideoDecoder.isConfigSupported({ codec: 'avc1.42e01f', codedWidth: 640, codedHeight: 360 })).supported);
  })();
  assert.ok(webcodecs, 'Chromium has no WebCodecs H.264 decoder here');
  await firstRunSetUp(page, log());
  const n0 = await metric(page, 'piglix_h264_rects_total');
  await waitFor(async () => (await metric(page, 'piglix_h264_rects_total')) >= n0 + 4, 'H.264 rects to the browser');
  const a = await sample(page);
  await page.waitForTimeout(700);
  const b = await sample(page);
  await page.screenshot({ path: path.join(ART, 'h264-motion.png') });
  assert.equal(a.w, 640);
  assert.equal(a.h, 360);
  // The motion scenario is a bright, colourful plasma: not a black canvas...
  assert.ok(a.mean > 40 && b.mean > 40, 'the canvas is dark: ' + a.mean + ' ' + b.mean);
  // ...and it moves: most sampled pixels differ 0.7 s apart.
  let differ = 0;
  for (let i = 0; i < a.px.length; i += 3)
    if (Math.abs(a.px[i] - b.px[i]) + Math.abs(a.px[i + 1] - b.px[i + 1]) + Math.abs(a.px[i + 2] - b.px[i + 2]) > 6) differ++;
  const share = differ / (a.px.length / 3);
  const rects = (await metric(page, 'piglix_h264_rects_total')) - n0;
  console.log(`figures: ${rects} H.264 rects to the browser, ${(share * 100).toFixed(0)}% of sampled pixels moved in 0.7 s`);
  assert.ok(share > 0.5, 'the picture does not move: ' + share);
  assert.deepEqual(errors, []);
  await ctx.close();
});

// The test source's echo strip ([capture] type_echo, capture/testsrc.c):
// 8-pixel cells, 48 a row, 2 rows at the bottom; [length, last key] or null.
function echoState(page) {
  return page.evaluate(() => {
    const c = document.querySelector('#screen canvas');
    if (!c || c.height < 16) return null;
    const d = c.getContext('2d').getImageData(0, c.height - 16, 48 * 8, 16).data;
    const bits = new Uint8Array(12);
    for (let i = 0; i < 96; i++) {
      const o = (((Math.floor(i / 48) * 8 + 4) * 48 * 8) + (i % 48) * 8 + 4) * 4;
      if (d[o] + d[o + 1] + d[o + 2] > 3 * 128) bits[i >> 3] |= 0x80 >> (i % 8);
    }
    if (bits[0] !== 0xa5 || bits[1] !== 0x5a) return null;
    return [bits[8] << 8 | bits[9], bits[10] << 8 | bits[11]];
  });
}

async function metric(page, name) {
  const text = await page.evaluate(async () => (await fetch('/api/metrics')).text());
  const m = new RegExp('^' + name + ' (\\d+)', 'm').exec(text);
  return m ? Number(m[1]) : -1;
}

// [video] previews: what a key changes reaches the viewer first as a
// preview (our PPS and a non-reference picture of raw macroblocks, h264.h),
// its frame after it. noVNC hands WebCodecs one chunk per slice; Chromium
// decodes both, and the echo shows every key typed.
test('noVNC in Chromium shows typing through H.264 previews', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'typing-'));
  fs.mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  const port = await freePort(), vncPort = await freePort();
  const ini = path.join(dir, 'piglix.ini');
  fs.writeFileSync(ini, [
    '[capture]', 'source = test', 'width = 640', 'height = 360', 'fps = 30', 'scenario = bios', 'type_echo = yes', '',
    '[video]', 'h264 = always', 'previews = yes', '',
    '[vnc]', 'listen = 127.0.0.1', `port = ${vncPort}`, 'auth = none', '',
    '[web]', 'enabled = yes', 'listen = 127.0.0.1', `port = ${port}`, '',
    '[state]', `dir = ${path.join(dir, 'state')}`, ''].join('\n'));
  const typing = startPiglix(ini);
  try {
    const tlog = () => typing.log();
    await harnessWaitFor(() => /set-up token [0-9a-f]{32}/.test(tlog()), 'the set-up token in the log', 20000, tlog);
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 720 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`https://127.0.0.1:${port}/`);
    await firstRunSetUp(page, tlog());
    await page.waitForSelector('#dlg-health[open]'); // the first-run checklist: closed, the screen takes the keys
    await page.click('#dlg-health .close');
    const box = await page.locator('#screen canvas').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const p0 = await metric(page, 'piglix_h264_previews_total');
    const text = 'previews';
    for (let i = 0; i < text.length; i++) {
      await page.keyboard.press(text[i]);
      const want = JSON.stringify([i + 1, text.charCodeAt(i)]);
      await harnessWaitFor(async () => JSON.stringify(await echoState(page)) === want, `the echo of '${text[i]}'`, 10000, tlog);
      await page.waitForTimeout(60);
    }
    const previews = (await metric(page, 'piglix_h264_previews_total')) - p0;
    const rects = await metric(page, 'piglix_h264_rects_total');
    await page.screenshot({ path: path.join(ART, 'h264-typing.png') });
    console.log(`figures: ${text.length} keys typed, ${previews} previews, ${rects} H.264 rects to the browser`);
    assert.ok(previews >= text.length - 1, 'previews made: ' + previews);
    assert.ok(rects > 0, 'no H.264 rects');
    assert.deepEqual(errors, []);
    await ctx.close();
  } finally {
    const code = await typing.stop('piglix-h264-typing.log');
    assert.equal(typing.clean(code), '');
  }
});

test('piglix exits cleanly', async () => {
  await browser.close();
  browser = null;
  assert.equal(piglix.clean(await piglix.stop()), '');
});
