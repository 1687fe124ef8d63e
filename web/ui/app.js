// piglix's browser UI: set-up, login, the noVNC viewer and its toolbar.
// noVNC comes from piglix's /novnc/ (npm's @novnc/novnc, pinned in web/vendor), not this tree,
// and is imported only when the viewer opens: a static import of a missing
// noVNC would fail this whole module and leave the page on "Loading..."
// with no login, no panels and no word of what is wrong.
import { initMedia, openMedia } from '/media.js';
import { applyRole, roleAtLeast } from '/roles.js';
import { initSessions, openSessions, refreshControl } from '/sessions.js';
import { initHealth, openHealth } from '/health.js';
import { initConsole, openConsole, stopConsole } from '/console.js';
import { initLog, openLog } from '/log.js';

const $ = (id) => document.getElementById(id);

// What tests and curious people can read: timings and the viewer's state.
const state = window.piglix = {
  t0: performance.timeOrigin,
  connectedAt: null,     // ms after navigation start: RFB handshake done
  firstPictureAt: null,  // ms after navigation start: first non-black pixels
  rfb: null,
  wsState: 'none',       // none | connecting | connected | disconnected
  disconnects: 0,
  session: null,
  viewerError: null,     // why the viewer could not start (noVNC missing), else null
};

// noVNC's modules once loaded: RFB, KeyTable (keysym.js), keysyms (keysymdef.js).
let novnc = null;
let novncLoading = null;

let infoTimer = null;
let infoFailed = false;

// ---- API ----

async function api(path, { method = 'GET', body, poll = false } = {}) {
  const headers = {};
  if (poll) headers['X-Piglix-Poll'] = '1'; // not activity: the session may still idle out
  // every POST says JSON, even an empty one: piglix refuses others (web/API.md)
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session && state.session.csrf) headers['X-CSRF-Token'] = state.session.csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    // Status 0: callers show it like any other error instead of the
    // rejection ending up unseen in the console.
    return { status: 0, ok: false, data: { error: 'piglix does not answer (' + e.message + ')' } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { status: res.status, ok: res.ok, data: data || {} };
}

// The words for a failed call: the server's own message when it sent one.
function errText(r) {
  if (r.data && r.data.error) return r.data.error + (r.status ? ' (' + r.status + ')' : '');
  return r.status ? 'Failed (' + r.status + ')' : 'piglix does not answer';
}

// The toolbar's status line: where errors of calls without a panel of their
// own (keys, status polling) show, so they are not only in the console.
function showError(what, r) {
  const el = $('st-error');
  if (!r) {
    el.textContent = '';
    el.hidden = true;
    return;
  }
  el.textContent = what + ': ' + errText(r);
  el.title = el.textContent;
  el.hidden = false;
}

function show(view) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
}

// ---- set-up and login ----

async function start() {
  const s = await api('/api/session');
  if (s.ok) {
    state.session = s.data;
    return enterKvm();
  }
  if (s.status === 0 || s.status >= 500) {
    // Not "logged out" but "no answer": say so on the loading page and retry.
    $('loading-text').textContent = 'piglix did not answer: ' + errText(s) + '. Trying again…';
    setTimeout(start, 3000);
    return;
  }
  const setup = await api('/api/setup');
  if (setup.ok && setup.data.needed) {
    show('setup');
    $('setup-token').focus();
  } else {
    show('login');
    $('login-name').focus();
  }
}

$('setup-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('setup-error');
  err.textContent = '';
  if ($('setup-password').value !== $('setup-password2').value) {
    err.textContent = 'The passwords differ.';
    return;
  }
  const r = await api('/api/setup', {
    method: 'POST',
    body: { token: $('setup-token').value.trim(), name: $('setup-name').value.trim(),
            password: $('setup-password').value },
  });
  if (!r.ok) {
    err.textContent = errText(r);
    if (r.status === 409) setTimeout(start, 1500);
    return;
  }
  state.session = r.data;
  enterKvm();
  openHealth(true); // the first-run checklist: what the appliance still needs
});

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('login-error');
  err.textContent = '';
  const body = { name: $('login-name').value.trim(), password: $('login-password').value };
  // The code field is always there: the server never says whether the
  // password alone was right (that would confirm it to a guesser).
  if ($('login-totp').value) body.totp = $('login-totp').value.trim();
  $('login-submit').disabled = true;
  const r = await api('/api/login', { method: 'POST', body });
  $('login-submit').disabled = false;
  if (r.ok) {
    state.session = r.data;
    $('login-password').value = '';
    $('login-totp').value = '';
    return enterKvm();
  }
  $('login-totp').value = '';
  if (r.status === 429) {
    err.textContent = 'Too many failed attempts: wait ' + (r.data.retry_after || 'a few') + ' s.';
  } else {
    err.textContent = r.status === 401 ? (r.data.error || 'Login failed') : errText(r);
  }
});

// ---- the viewer ----

function wsUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/vnc';
}

function setConn(text, cls) {
  const el = $('st-conn');
  el.textContent = text;
  el.className = 'pill ' + (cls || '');
}

function watchFirstPicture() {
  // noVNC draws into a canvas and has no "first frame" event: sample a few
  // pixels each animation frame until something other than black shows.
  const canvas = document.querySelector('#screen canvas');
  if (!canvas) return;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const tick = () => {
    if (state.firstPictureAt !== null || state.wsState !== 'connected') return;
    if (canvas.width > 1 && canvas.height > 1) {
      const pts = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.9], [0.25, 0.75]];
      for (const [fx, fy] of pts) {
        const d = ctx.getImageData(Math.floor(canvas.width * fx), Math.floor(canvas.height * fy), 1, 1).data;
        if (d[0] + d[1] + d[2] > 0) {
          state.firstPictureAt = performance.now();
          document.body.dataset.picture = 'yes';
          return;
        }
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// Loads noVNC once. A failure is not cached here, but the browser keeps a
// failed module for the life of the page: the message asks for a reload.
function loadNovnc() {
  if (novnc) return Promise.resolve(novnc);
  if (!novncLoading) {
    novncLoading = Promise.all([
      import('/novnc/core/rfb.js'),
      import('/novnc/core/input/keysym.js'),
      import('/novnc/core/input/keysymdef.js'),
    ]).then(([rfb, keysym, keysymdef]) => {
      novnc = { RFB: rfb.default, KeyTable: keysym.default, keysyms: keysymdef.default };
      buildKeys(novnc.KeyTable);
      return novnc;
    }).finally(() => { novncLoading = null; });
  }
  return novncLoading;
}

// Why the import failed in words a user can act on: the browser's import
// error does not say whether the file is missing or broken, a second plain
// request for it does.
async function viewerMissing(e) {
  let how = '';
  try {
    const res = await fetch('/novnc/core/rfb.js', { credentials: 'same-origin', cache: 'no-store' });
    how = res.ok ? 'it is there but did not load (' + e.message + ')' : 'piglix answered ' + res.status +
      (res.status === 404 ? ' (not found)' : '');
  } catch (e2) {
    how = 'piglix does not answer (' + e2.message + ')';
  }
  state.viewerError = 'noVNC is missing: /novnc/core/rfb.js could not be loaded, ' + how + '.';
  document.body.dataset.viewer = 'missing';
  setConn('no viewer', 'bad');
  const box = $('viewer-msg');
  box.replaceChildren();
  const p = (...parts) => {
    const el = document.createElement('p');
    for (const x of parts) {
      if (typeof x === 'string') el.append(x);
      else { const c = document.createElement('code'); c.textContent = x.code; el.append(c); }
    }
    box.append(el);
  };
  const h = document.createElement('h2');
  h.textContent = 'The viewer cannot start: noVNC is missing';
  box.append(h);
  p('The browser could not load ', { code: '/novnc/core/rfb.js' }, ': ' + how + '.');
  p('piglix serves noVNC from the folder named by ', { code: 'novnc' }, ' in the ', { code: '[web]' },
    ' section of ', { code: '/etc/piglix/piglix.ini' }, ' (empty: the copy the package ships in ',
    { code: '/usr/share/piglix/novnc' }, '; a source build installs it with ', { code: 'npm ci' },
    ' from web/vendor). Reinstall the piglix package, or set ', { code: '[web] novnc' },
    ' to the folder that holds ', { code: 'core/rfb.js' }, ', then restart piglix and reload this page.');
  p('Everything else works without it: the Power and Media panels, Ctrl+Alt+Del, the key combinations ' +
    'and Paste (typed by piglix\'s USB keyboard, when it has one).');
  box.hidden = false;
}

async function connect() {
  if (state.rfb || novncLoading) return;
  let RFB;
  try {
    ({ RFB } = await loadNovnc());
  } catch (e) {
    return viewerMissing(e);
  }
  if (state.rfb || !state.session || $('view-kvm').hidden) return;
  state.viewerError = null;
  delete document.body.dataset.viewer;
  $('viewer-msg').hidden = true;
  state.wsState = 'connecting';
  setConn('connecting', 'warn');
  const rfb = new RFB($('screen'), wsUrl(), { wsProtocols: ['binary'], shared: true });
  state.rfb = rfb;
  rfb.background = '#000';
  applyScale();
  rfb.focusOnClick = true;
  // A viewer's input is dropped by the server; noVNC need not send it.
  rfb.viewOnly = !roleAtLeast(state.session, 'operator');
  rfb.addEventListener('connect', () => {
    state.wsState = 'connected';
    state.connectedAt = performance.now();
    document.body.dataset.ws = 'connected';
    setConn('connected', 'ok');
    rfb.focus();
    watchFirstPicture();
  });
  rfb.addEventListener('disconnect', (e) => {
    state.wsState = 'disconnected';
    state.disconnects++;
    document.body.dataset.ws = 'disconnected';
    setConn(e.detail.clean ? 'disconnected' : 'connection lost', 'bad');
    state.rfb = null;
    // Back to the login page when the session is gone; else retry.
    setTimeout(async () => {
      const s = await api('/api/session');
      // Only a 401 means the session is gone: with piglix not answering
      // the user stays here (the status line says so) and the viewer retries.
      if (s.status === 401) return leaveKvm();
      if (!$('view-kvm').hidden) connect();
    }, 2000);
  });
  rfb.addEventListener('desktopname', (e) => { document.title = e.detail.name + ' – piglix'; });
}

function applyScale() {
  const fit = localStorage.getItem('piglix.scale') !== 'actual';
  $('btn-scale').textContent = fit ? 'Fit' : '1:1';
  $('screen').className = fit ? 'fit' : 'actual';
  if (state.rfb) {
    state.rfb.scaleViewport = fit;
    state.rfb.clipViewport = false;
  }
}

$('btn-scale').addEventListener('click', () => {
  const fit = localStorage.getItem('piglix.scale') !== 'actual';
  localStorage.setItem('piglix.scale', fit ? 'actual' : 'fit');
  applyScale();
});

$('btn-fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => {});
});

// ---- keys ----

// Names as the API takes them, mapped to X keysyms and KeyboardEvent codes
// (noVNC sends both: QEMU extended key events carry the scancode). Filled
// when noVNC has loaded: the keysyms are its tables.
const KEYS = {};

function buildKeys(KeyTable) {
  Object.assign(KEYS, {
    ctrl: [KeyTable.XK_Control_L, 'ControlLeft'], alt: [KeyTable.XK_Alt_L, 'AltLeft'],
    shift: [KeyTable.XK_Shift_L, 'ShiftLeft'], super: [KeyTable.XK_Super_L, 'MetaLeft'],
    delete: [KeyTable.XK_Delete, 'Delete'], backspace: [KeyTable.XK_BackSpace, 'Backspace'],
    tab: [KeyTable.XK_Tab, 'Tab'], escape: [KeyTable.XK_Escape, 'Escape'],
    print: [KeyTable.XK_Print, 'PrintScreen'], enter: [KeyTable.XK_Return, 'Enter'],
  });
  for (let i = 1; i <= 12; i++) KEYS['f' + i] = [KeyTable['XK_F' + i], 'F' + i];
}

async function sendCombo(combo) {
  if (state.rfb && state.wsState === 'connected') {
    const keys = combo.split('+').map((k) => KEYS[k]).filter(Boolean);
    for (const [sym, code] of keys) state.rfb.sendKey(sym, code, true);
    for (const [sym, code] of keys.slice().reverse()) state.rfb.sendKey(sym, code, false);
    state.rfb.focus();
    return;
  }
  // No viewer (noVNC missing, or not connected): piglix's own keyboard
  // types it, and when it cannot, the status line says why.
  const r = await api('/api/hid/combo', { method: 'POST', body: { combo } });
  showError(combo, r.ok ? null : r);
}

$('btn-cad').addEventListener('click', () => sendCombo('ctrl+alt+delete'));
$('combo-select').addEventListener('change', (e) => {
  if (e.target.value) sendCombo(e.target.value);
  e.target.value = '';
});

// ---- paste ----

$('btn-paste').addEventListener('click', () => {
  $('paste-layout').value = localStorage.getItem('piglix.layout') || 'us';
  $('paste-note').textContent = '';
  $('paste-note').className = 'muted';
  $('dlg-paste').showModal();
  $('paste-text').focus();
});
$('paste-cancel').addEventListener('click', () => $('dlg-paste').close());

function typeViaRfb(text) {
  // Without a HID backend that types by layout, type keysyms through the
  // viewer: the server's keyboard path maps them.
  const { KeyTable, keysyms } = novnc;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const sym = ch === '\n' ? KeyTable.XK_Return : ch === '\t' ? KeyTable.XK_Tab : keysyms.lookup(cp);
    state.rfb.sendKey(sym, null, true);
    state.rfb.sendKey(sym, null, false);
  }
}

$('paste-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('paste-text').value;
  const layout = $('paste-layout').value;
  localStorage.setItem('piglix.layout', layout);
  if (!text) return $('dlg-paste').close();
  const r = await api('/api/hid/paste', { method: 'POST', body: { text, layout } });
  if (r.ok) {
    $('dlg-paste').close();
  } else if (r.status === 503 && state.rfb && state.wsState === 'connected') {
    typeViaRfb(text);
    $('dlg-paste').close();
  } else {
    $('paste-note').textContent = errText(r) +
      (r.status === 503 && !state.rfb ? ': without the viewer only piglix\'s USB keyboard can type it.' : '');
    $('paste-note').className = 'error';
    return;
  }
  $('paste-text').value = '';
  if (state.rfb) state.rfb.focus();
});

// ---- status ----

function setLed(id, on) {
  const el = $(id);
  el.classList.toggle('on', on === true);
  el.classList.toggle('unknown', on === null);
}

async function refreshInfo() {
  const r = await api('/api/info', { poll: true });
  if (r.status === 401) return leaveKvm();
  if (!r.ok) {
    infoFailed = true;
    showError('Status', r);
    $('st-signal').textContent = '–';
    $('st-signal').className = 'pill';
    return;
  }
  if (infoFailed) {
    // The status error was ours: clear it now the status arrives again.
    infoFailed = false;
    showError('Status', null);
  }
  const i = r.data;
  refreshControl();
  const sig = $('st-signal');
  sig.textContent = i.signal === 'ok' ? 'signal' : i.signal_text;
  sig.className = 'pill ' + (i.signal === 'ok' ? 'ok' : 'bad');
  $('st-res').textContent = i.resolution.width + '×' + i.resolution.height;
  $('st-fps').textContent = i.fps + ' fps';
  const hid = $('st-hid');
  hid.textContent = !i.hid.configured ? 'HID: viewer' : i.hid.online ? 'HID online' : 'HID offline';
  hid.className = 'pill ' + (!i.hid.configured ? '' : i.hid.online ? 'ok' : 'bad');
  const leds = i.hid.leds;
  setLed('led-num', leds ? leds.num_lock : null);
  setLed('led-caps', leds ? leds.caps_lock : null);
  setLed('led-scroll', leds ? leds.scroll_lock : null);
  const others = Math.max(0, i.clients.web - (state.wsState === 'connected' ? 1 : 0));
  const names = i.clients.web_viewers.map((v) => v.name + '@' + v.address).join(', ');
  $('st-others').textContent = (others + i.clients.vnc) === 0 ? 'only you'
    : `${others} other browser${others === 1 ? '' : 's'}, ${i.clients.vnc} VNC`;
  $('st-others').title = names ? 'Browsers: ' + names : 'No browsers';
  $('media-state').textContent = i.media.configured ? 'Virtual media is available.' :
    'Virtual media is not configured on this piglix.';
  showAtx(i.atx);
}

// ---- ATX power ----

function showAtx(a) {
  state.atx = a;
  $('btn-atx').textContent = a.configured && a.power !== 'unknown' ? 'Power: ' + a.power : 'Power';
  $('atx-controls').hidden = !a.configured;
  $('atx-off-help').hidden = a.configured;
  if (!a.configured) {
    $('atx-state').textContent = 'ATX power control is not configured on this piglix.';
    return;
  }
  $('atx-state').textContent = 'The server is ' + (a.power === 'unknown' ? 'in an unknown power state' : a.power) +
    (a.busy && a.current ? ' (' + a.current.action + ' running)' : '') + '.';
  setLed('atx-power-led', a.power_led);
  setLed('atx-hdd-led', a.hdd_led);
  for (const b of document.querySelectorAll('[data-atx]')) {
    const wol = b.dataset.atx === 'wol';
    b.disabled = a.busy || (wol ? !a.wol : !a.buttons);
  }
  const l = a.last;
  $('atx-last').textContent = l ? `Last: ${l.action} by ${l.who}: ${l.outcome}${l.detail ? ' (' + l.detail + ')' : ''}` : '';
}

for (const b of document.querySelectorAll('[data-atx]')) {
  b.addEventListener('click', async () => {
    // Destructive presses need a second click within 3 s.
    if (b.dataset.confirm && !b.dataset.armed) {
      b.dataset.armed = b.textContent;
      b.textContent = 'Click again to ' + b.textContent.toLowerCase();
      setTimeout(() => { if (b.dataset.armed) { b.textContent = b.dataset.armed; delete b.dataset.armed; } }, 3000);
      return;
    }
    if (b.dataset.armed) { b.textContent = b.dataset.armed; delete b.dataset.armed; }
    $('atx-error').textContent = '';
    const r = await api('/api/atx/' + b.dataset.atx, { method: 'POST' });
    if (r.data.atx) showAtx(r.data.atx);
    if (!r.ok) $('atx-error').textContent = errText(r);
  });
}

// ---- account, TOTP, logout ----

function totpView() {
  const on = state.session && state.session.totp;
  $('totp-state').textContent = on ? 'On: logging in asks for a code.' : 'Off.';
  $('totp-start').hidden = on;
  $('totp-off').hidden = !on;
  $('totp-confirm').hidden = true;
  $('totp-setup').hidden = true;
  $('totp-code-row').hidden = !on;
  $('totp-error').textContent = '';
  $('totp-code').value = '';
}

$('btn-account').addEventListener('click', () => {
  $('acct-title').textContent = 'Account ' + (state.session ? state.session.name : '');
  totpView();
  $('dlg-account').showModal();
});
$('totp-start').addEventListener('click', async () => {
  const r = await api('/api/totp/setup', { method: 'POST' });
  if (!r.ok) { $('totp-error').textContent = errText(r); return; }
  $('totp-secret').textContent = r.data.secret.replace(/(.{4})/g, '$1 ').trim();
  $('totp-uri').href = r.data.uri;
  $('totp-setup').hidden = false;
  $('totp-code-row').hidden = false;
  $('totp-start').hidden = true;
  $('totp-confirm').hidden = false;
  $('totp-code').focus();
});
async function totpChange(action) {
  const r = await api('/api/totp/' + action, { method: 'POST', body: { code: $('totp-code').value.trim() } });
  if (!r.ok) { $('totp-error').textContent = errText(r); return; }
  state.session.totp = r.data.totp;
  totpView();
}
$('totp-confirm').addEventListener('click', () => totpChange('enable'));
$('totp-off').addEventListener('click', () => totpChange('disable'));

$('btn-logout').addEventListener('click', async () => {
  $('dlg-account').close();
  // The server ends the session and closes the viewer's WebSocket itself.
  const r = await api('/api/logout', { method: 'POST' });
  leaveKvm();
  // Logged out here either way; but if piglix did not hear it, say so.
  if (!r.ok && r.status !== 401) $('login-error').textContent = 'Logout: ' + errText(r);
});

initMedia(api, () => state.session, errText);
$('btn-media').addEventListener('click', () => { $('dlg-media').showModal(); openMedia(); });
$('btn-atx').addEventListener('click', () => $('dlg-atx').showModal());
// Who is connected, who has the keyboard (sessions.js)
initSessions(api, errText);
$('btn-sessions').addEventListener('click', () => { $('dlg-sessions').showModal(); openSessions(); });
initHealth(api, errText);
$('btn-health').addEventListener('click', () => openHealth());
initConsole(api, errText);
$('btn-console').addEventListener('click', () => openConsole());
initLog(api, errText);
$('btn-log').addEventListener('click', () => { $('dlg-log').showModal(); openLog(); });
for (const b of document.querySelectorAll('dialog .close'))
  b.addEventListener('click', (e) => e.target.closest('dialog').close());

function enterKvm() {
  show('kvm');
  showError('', null);
  $('who').textContent = state.session.name;
  applyRole(state.session);
  connect();
  refreshInfo();
  clearInterval(infoTimer);
  infoTimer = setInterval(refreshInfo, 2000);
}

function leaveKvm() {
  clearInterval(infoTimer);
  infoTimer = null;
  state.session = null;
  stopConsole();
  if (state.rfb) {
    const r = state.rfb;
    state.rfb = null;
    r.disconnect();
  }
  show('login');
  $('login-name').focus();
}

start();
