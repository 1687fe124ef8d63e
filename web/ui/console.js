// The Console dialog: the server's serial console in xterm.js over the
// WebSocket /api/serial (web/API.md). xterm.js comes from piglix's /xterm/
// (npm's @xterm/xterm, pinned in web/vendor), loaded when the dialog first
// opens so a missing copy only disables this dialog. The WebSocket comes
// back by itself while the dialog is open; piglix replays its scrollback
// on every connect, so the screen is cleared first.

const $ = (id) => document.getElementById(id);
let api = null, errText = null;
let term = null, fit = null, ws = null, retry = null, loading = null, open = false;
const enc = new TextEncoder();

// What tests and curious people can read.
const cstate = window.piglixConsole = { ws: 'none', status: null, bytesIn: 0, connects: 0, lost: 0 };

function script(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(src + ' could not be loaded'));
    document.head.appendChild(s);
  });
}

function loadXterm() {
  if (!loading) {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/xterm/xterm/css/xterm.css';
    document.head.appendChild(css);
    // UMD builds: they define window.Terminal and window.FitAddon.
    loading = script('/xterm/xterm/lib/xterm.js').then(() => script('/xterm/addon-fit/lib/addon-fit.js'));
  }
  return loading;
}

function showStatus(st) {
  const pill = $('console-conn');
  if (cstate.ws !== 'connected') {
    pill.textContent = cstate.ws === 'connecting' ? 'connecting' : 'reconnecting';
    pill.className = 'pill warn';
  } else if (!st) {
    pill.textContent = 'connected';
    pill.className = 'pill';
  } else if (st.connected) {
    pill.textContent = 'connected';
    pill.className = 'pill ok';
  } else {
    pill.textContent = 'absent';
    pill.className = 'pill bad';
  }
  $('console-dev').textContent = st ? `${st.device} ${st.baud} ${st.framing}` +
    (st.flow !== 'none' ? ' ' + st.flow : '') : '';
  $('console-why').textContent = st && !st.connected ? st.why : '';
  $('console-break').disabled = !(st && st.connected && st.may_write);
  if (term) term.options.disableStdin = !(st && st.may_write);
}

function connect() {
  if (!open) return;
  cstate.ws = 'connecting';
  showStatus(cstate.status);
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/serial';
  const s = new WebSocket(url);
  s.binaryType = 'arraybuffer';
  ws = s;
  cstate.socket = s;
  s.onopen = () => {
    cstate.ws = 'connected';
    cstate.connects++;
    term.reset();   // the scrollback comes again
    showStatus(cstate.status);
  };
  s.onmessage = (e) => {
    if (typeof e.data !== 'string') {
      const b = new Uint8Array(e.data);
      cstate.bytesIn += b.length;
      term.write(b);
      return;
    }
    const m = JSON.parse(e.data);
    if (m.type === 'status') {
      cstate.status = m;
      showStatus(m);
    } else if (m.type === 'lost') {
      cstate.lost += m.bytes;
      term.write(`\r\n\x1b[33m[piglix: ${m.bytes} bytes of output skipped: this browser fell behind]\x1b[0m\r\n`);
    }
  };
  s.onclose = () => {
    if (ws !== s) return;
    ws = null;
    cstate.ws = 'disconnected';
    showStatus(cstate.status);
    if (open) retry = setTimeout(connect, 1000);
  };
}

function send(data) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(data);
}

export async function openConsole() {
  $('dlg-console').showModal();
  open = true;
  $('console-error').textContent = '';
  const r = await api('/api/serial', { poll: true });
  if (!r.ok) {
    $('console-error').textContent = r.status === 404 ? 'No serial console is configured on this piglix ' +
      '([serial] in /etc/piglix/piglix.ini; wiring: deploy/INSTALL.md).' : errText(r);
    return;
  }
  cstate.status = r.data;
  try {
    await loadXterm();
  } catch (e) {
    $('console-error').textContent = 'The terminal (xterm.js) is missing: ' + e.message +
      '. piglix serves it from [web] xterm (the package installs it).';
    return;
  }
  if (!term) {
    term = new window.Terminal({ convertEol: false, scrollback: 5000, cursorBlink: true,
                                 fontFamily: 'monospace', fontSize: 14 });
    fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open($('console-term'));
    // Keys as the terminal encodes them (Ctrl combinations are control
    // bytes, arrows escape sequences), as UTF-8.
    term.onData((d) => send(enc.encode(d)));
    term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 255)));
    cstate.term = term;
  }
  fit.fit();
  term.focus();
  if (!ws) connect();
}

function closeConsole() {
  open = false;
  clearTimeout(retry);
  if (ws) {
    const s = ws;
    ws = null;
    s.close();
  }
  cstate.ws = 'none';
}

export function initConsole(apiFn, errTextFn) {
  api = apiFn;
  errText = errTextFn;
  $('console-break').addEventListener('click', () => {
    send(JSON.stringify({ type: 'break' }));
    if (term) term.focus();
  });
  $('dlg-console').addEventListener('close', closeConsole);
  window.addEventListener('resize', () => { if (open && fit) fit.fit(); });
}

// Logged out: the WebSocket ends with the session.
export function stopConsole() {
  if ($('dlg-console').open) $('dlg-console').close();
  closeConsole();
}
