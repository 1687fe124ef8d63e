// The serial console in Debian's Chromium: the Console dialog (xterm.js
// from piglix's /xterm/) on a pty pair that plays the server's COM port
// (serial_server.py): the boot log and login prompt arrive in the
// terminal, typed keys (Ctrl combinations too) arrive at the server, BREAK
// is sent, the adapter unplugged and back is shown and survived. Run by
// run.sh like web.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ART, PIGLIX, freePort, launchChromium, startPiglix, waitFor as harnessWaitFor } from './harness.mjs';
import readline from 'node:readline';

const SRC = path.dirname(new URL(import.meta.url).pathname);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'piglix-browser-serial-'));
const link = path.join(tmp, 'ttyUSB-sim');
const log = () => (piglix ? piglix.log() : '');
let piglix, sim, got = Buffer.alloc(0), base, browser, page;

const waitFor = (fn, what, ms = 15000) => harnessWaitFor(fn, what, ms, log);

const simDone = [];
function simCmd(cmd) {
  return new Promise((resolve) => { simDone.push(resolve); sim.stdin.write(cmd + '\n'); });
}

function termText() {
  return page.evaluate(() => {
    const t = window.piglixConsole.term;
    if (!t) return '';
    const b = t.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    return lines.join('\n');
  });
}

before(async () => {
  sim = spawn('python3', [path.join(SRC, 'serial_server.py'), link], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: sim.stdout });
  let ready;
  const isReady = new Promise((r) => { ready = r; });
  rl.on('line', (l) => {
    if (l === 'ready') ready();
    else if (l.startsWith('got ')) got = Buffer.concat([got, Buffer.from(l.slice(4), 'hex')]);
    else if (l.startsWith('done ')) simDone.shift()();
  });
  await isReady;
  const port = await freePort(), vncPort = await freePort();
  base = `https://127.0.0.1:${port}`;
  const ini = path.join(tmp, 'piglix.ini');
  fs.mkdirSync(path.join(tmp, 'state'), { mode: 0o700 });
  fs.writeFileSync(ini, [
    '[capture]', 'source = test', 'width = 640', 'height = 480', 'fps = 5', '',
    '[vnc]', 'listen = 127.0.0.1', `port = ${vncPort}`, 'auth = none', '',
    '[web]', 'enabled = yes', 'listen = 127.0.0.1', `port = ${port}`, '',
    '[serial]', 'enabled = yes', `device = ${link}`, 'baud = 115200', '',
    '[state]', `dir = ${path.join(tmp, 'state')}`, ''].join('\n'));
  const add = spawn(PIGLIX, ['-c', ini, 'user', 'add', 'admin'], { stdio: ['pipe', 'ignore', 'inherit'] });
  add.stdin.end('serial-pw-1\n');
  await new Promise((r) => add.on('exit', r));
  piglix = startPiglix(ini);
  await waitFor(() => /serial.*open, 115200 8N1/.test(log()), 'piglix to open the tty');
  browser = await launchChromium();
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
});

after(async () => {
  if (browser) await browser.close();
  if (piglix) await piglix.stop('piglix-serial.log');
  if (sim) sim.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the boot log and login prompt arrive in the terminal; keys, Ctrl combinations and BREAK reach the server', async () => {
  await simCmd('boot');   // before the page: it comes as scrollback
  await page.goto(base + '/');
  await page.fill('#login-name', 'admin');
  await page.fill('#login-password', 'serial-pw-1');
  await page.click('#login-submit');
  await page.waitForSelector('#view-kvm:not([hidden])');
  await page.click('#btn-console');
  await page.waitForFunction(() => window.piglixConsole.ws === 'connected', null, { timeout: 15000 });
  await waitFor(async () => /Linux version 6\.1\.0-simserver[\s\S]*simserver login: $/m.test(await termText()),
                'the boot log and prompt in the terminal');
  assert.match(await page.textContent('#console-conn'), /connected/);
  assert.match(await page.textContent('#console-dev'), /ttyUSB-sim 115200 8N1/);
  await page.screenshot({ path: path.join(ART, 'serial-console.png') });
  // Keys typed into the terminal; the simulated getty echoes them.
  await page.keyboard.type('root');
  await page.keyboard.press('Enter');
  await waitFor(() => got.includes(Buffer.from('root\r')), 'root<CR> at the server');
  await waitFor(async () => /simserver login: root/.test(await termText()), 'the echo in the terminal');
  await page.keyboard.press('Control+C');
  await page.keyboard.press('Control+D');
  await page.keyboard.press('ArrowUp');
  await waitFor(() => got.includes(Buffer.from('\x03\x04\x1b[A')), 'Ctrl-C, Ctrl-D and an arrow at the server');
  await page.click('#console-break');
  await waitFor(() => /serial BREAK/.test(log()), 'the BREAK in piglix\'s log');
  await waitFor(async () => (await page.evaluate(() => fetch('/api/serial').then((r) => r.json()))).breaks === 1,
                'the BREAK counted');
});

test('the adapter unplugged shows as absent; plugged back, the same terminal works again', async () => {
  await simCmd('unplug');
  await page.waitForFunction(() => /absent/.test(document.getElementById('console-conn').textContent), null,
                             { timeout: 10000 });
  assert.match(await page.textContent('#console-why'), /device gone|no such device/);
  await simCmd('plug');
  await page.waitForFunction(() => /^connected$/.test(document.getElementById('console-conn').textContent), null,
                             { timeout: 10000 });
  await simCmd('say back again');
  await waitFor(async () => /back again/.test(await termText()), 'output after the replug');
  got = Buffer.alloc(0);
  await page.keyboard.type('x');
  await waitFor(() => got.includes(Buffer.from('x')), 'a key after the replug');
});

test('the terminal survives its WebSocket dropping (reconnects; the scrollback is shown once)', async () => {
  const before = await page.evaluate(() => window.piglixConsole.connects);
  await page.evaluate(() => window.piglixConsole.socket.close());   // a network blip
  await page.waitForFunction((n) => window.piglixConsole.connects > n && window.piglixConsole.ws === 'connected',
                             before, { timeout: 10000 });
  await waitFor(async () => /back again/.test(await termText()), 'the scrollback after reconnecting');
  const text = await termText();
  assert.equal(text.split('Linux version 6.1.0-simserver').length - 1, 1, 'the scrollback is shown once');
  got = Buffer.alloc(0);
  await page.keyboard.type('y');
  await waitFor(() => got.includes(Buffer.from('y')), 'a key after reconnecting');
});
