// Who is connected and who has the keyboard: the Sessions panel (everyone
// sees the list; admins get an End button) and the toolbar's line ("alice
// is watching", "bob is typing", who holds the keyboard in exclusive mode,
// with ask / hand over / take / release). The toolbar polls GET /api/control
// with the status (one small request every 2 s); the server enforces all
// of it (a button hidden here is no permission).

const $ = (id) => document.getElementById(id);
let api = null, errText = null, last = null;

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function error(msg) { $('sessions-error').textContent = msg || ''; }

export function initSessions(apiFn, errFn) {
  api = apiFn;
  errText = errFn;
  $('btn-kbd-ask').onclick = () => control('request');
  $('btn-kbd-release').onclick = () => control('release');
  $('btn-kbd-take').onclick = () => control('take');
  $('btn-kbd-give').onclick = () => last && last.requested_by && control('give/' + last.requested_by.id);
}

async function control(what) {
  const r = await api('/api/control/' + what, { method: 'POST' });
  if (r.ok) render(r.data);
  else $('st-control').textContent = errText(r);
}

// The toolbar line from GET /api/control.
function render(c) {
  last = c;
  const others = c.others || [];
  const typing = others.filter((o) => o.typing).map((o) => o.account);
  const watching = others.filter((o) => !o.typing).map((o) => o.account);
  const words = [];
  const names = (l) => [...new Set(l)].join(', ');
  if (typing.length) words.push(names(typing) + (new Set(typing).size > 1 ? ' are' : ' is') + ' typing');
  if (watching.length) words.push(names(watching) + (new Set(watching).size > 1 ? ' are' : ' is') + ' watching');
  let kbd = '';
  if (c.mode === 'exclusive') {
    kbd = c.you_hold ? 'you have the keyboard' : c.holder ? c.holder.account + ' has the keyboard' : 'keyboard free';
    if (c.you_hold && c.requested_by) kbd += ' – ' + c.requested_by.account + ' asks for it';
  }
  const line = [kbd, ...words].filter(Boolean).join('; ');
  $('st-control').textContent = line ? '· ' + line : '';
  $('st-control').hidden = !line;
  const excl = c.mode === 'exclusive';
  $('btn-kbd-ask').hidden = !excl || c.you_hold || !c.holder;
  $('btn-kbd-release').hidden = !excl || !c.you_hold;
  $('btn-kbd-give').hidden = !excl || !c.you_hold || !c.requested_by;
  if (c.requested_by) $('btn-kbd-give').textContent = 'Give to ' + c.requested_by.account;
  $('btn-kbd-take').hidden = !excl || c.you_hold || !c.holder || c.role !== 'admin';
}

export async function refreshControl() {
  const r = await api('/api/control', { poll: true });
  if (r.ok) render(r.data);
}

const IFACE = { browser: 'browser viewer', vnc: 'VNC viewer', api: 'API', web: 'web login', redfish: 'Redfish',
  ipmi: 'IPMI', serial: 'serial console' };

function when(t) { return new Date(t * 1000).toLocaleTimeString(); }

export async function openSessions() {
  error('');
  const [r, c] = await Promise.all([api('/api/sessions', { poll: true }), api('/api/control', { poll: true })]);
  if (!r.ok) { error(errText(r)); return; }
  const admin = c.ok && c.data.role === 'admin';
  const list = $('sessions-list');
  list.replaceChildren();
  for (const s of r.data.sessions) {
    const tr = el('tr', undefined, { 'data-session': String(s.id) });
    const state = [s.you ? 'you' : '', s.holder ? 'has the keyboard' : '', s.typing ? 'typing' : '',
      s.requested ? 'asks for the keyboard' : ''].filter(Boolean).join(', ');
    tr.append(el('td', s.account), el('td', IFACE[s.interface] || s.interface), el('td', s.address),
      el('td', s.role), el('td', when(s.started)), el('td', when(s.last_activity)), el('td', state));
    const act = el('td');
    if (admin && !s.you) {
      const b = el('button', 'End', { class: 'danger' });
      b.onclick = async () => {
        if (!confirm(`End ${s.account}'s ${IFACE[s.interface] || s.interface} session?`)) return;
        const e = await api('/api/sessions/' + s.id + '/end', { method: 'POST' });
        if (!e.ok) error(errText(e));
        setTimeout(openSessions, 500);
      };
      act.append(b);
    }
    tr.append(act);
    list.append(tr);
  }
}
