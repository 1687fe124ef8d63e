// What every browser test shares: the environment run.sh sets (PIGLIX, the
// binary; PIGLIX_ARTIFACTS; PIGLIX_NODE_MODULES, where npm put
// playwright-core), piglix started on a config with its output kept, and
// Debian's Chromium launched headless (no downloaded browser).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const { chromium } = await import(path.join(process.env.PIGLIX_NODE_MODULES, 'playwright-core', 'index.mjs'));
export const PIGLIX = process.env.PIGLIX;
export const ART = process.env.PIGLIX_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'piglix-art-'));
fs.mkdirSync(ART, { recursive: true });

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// Polls fn until it returns something truthy; on timeout the error ends
// with the tail of context() (piglix's log).
export async function waitFor(fn, what, ms, context, every = 100) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for ' + what + '\n' + context().slice(-2000));
    await new Promise((r) => setTimeout(r, every));
  }
}

// piglix -c ini, its stdout and stderr kept in text; stop() ends it with
// SIGTERM, resolves to its exit code and, given a name, leaves the log
// among the artifacts; clean() says what would make that exit unclean.
export function startPiglix(ini) {
  if (!PIGLIX || !fs.existsSync(PIGLIX)) throw new Error('PIGLIX must name the piglix binary');
  const d = { text: '', proc: spawn(PIGLIX, ['-c', ini], { stdio: ['ignore', 'pipe', 'pipe'] }) };
  d.proc.stdout.on('data', (b) => { d.text += b; });
  d.proc.stderr.on('data', (b) => { d.text += b; });
  d.log = () => d.text;
  d.stop = async (artName) => {
    if (d.proc.exitCode === null && d.proc.signalCode === null) {
      d.proc.kill('SIGTERM');
      await new Promise((r) => d.proc.once('exit', r));
    }
    if (artName) fs.writeFileSync(path.join(ART, artName), d.text);
    return d.proc.exitCode;
  };
  d.clean = (code) => {
    if (code !== 0) return 'piglix exit code ' + code;
    for (const bad of ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'])
      if (d.text.includes(bad)) return 'sanitizer report:\n' + d.text.slice(-4000);
    return '';
  };
  return d;
}

// launch() gives every run a fresh --user-data-dir of its own (a temporary
// profile it deletes); it refuses one passed in args.
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
           '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}
