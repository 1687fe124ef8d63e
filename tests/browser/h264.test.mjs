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

async function h264Rects(page) {
  const text = await page.evaluate(async () => (await fetch('/api/metrics')).text());
  const m = /^piglix_h264_rects_total (\d+)/m.exec(text);
  return m ? Number(m[1]) : -1;
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
  await page.waitForSelector('#view-setup:not([hidden])');
  const token = /set-up token ([0-9a-f]{32})/.exec(log())[1];
  await page.fill('#setup-token', token);
  await page.fill('#setup-name', 'admin');
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-password2', PASSWORD);
  await page.click('#setup-submit');
  await page.waitForSelector('#view-kvm:not([hidden])');
  await page.waitForFunction(() => window.piglix.firstPictureAt !== null, null, { timeout: 20000 });
  const n0 = await h264Rects(page);
  await waitFor(async () => (await h264Rects(page)) >= n0 + 4, 'H.264 rects to the browser');
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
  const rects = (await h264Rects(page)) - n0;
  console.log(`figures: ${rects} H.264 rects to the browser, ${(share * 100).toFixed(0)}% of sampled pixels moved in 0.7 s`);
  assert.ok(share > 0.5, 'the picture does not move: ' + share);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('piglix exits cleanly', async () => {
  await browser.close();
  browser = null;
  assert.equal(piglix.clean(await piglix.stop()), '');
});
