// The Log dialog: the audit log (GET /api/log), newest first, a page at a
// time ("Older" follows next_cursor), filtered by kind and by time.

const $ = (id) => document.getElementById(id);
let api = null, errText = null, cursor = null;

const KINDS = ['login', 'login_failed', 'logout', 'session_end', 'role_refused', 'power_action', 'media_upload',
  'media_mount', 'media_eject', 'media_delete', 'account_change', 'role_change', 'config_reload', 'signal_lost',
  'signal_back', 'sensor_threshold', 'chassis_intrusion', 'log_cleared', 'service_start', 'service_stop'];
const PAGE = 50;

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function query(more) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  const kind = $('log-kind').value;
  if (kind) q.set('kind', kind);
  const since = $('log-since').value;  // a local date and time: the API takes ISO 8601 UTC or ms
  if (since) q.set('since', String(new Date(since).getTime()));
  if (more && cursor) q.set('cursor', cursor);
  return '/api/log?' + q.toString();
}

async function load(more) {
  $('log-error').textContent = '';
  const r = await api(query(more));
  if (!r.ok) {
    $('log-error').textContent = errText(r);
    return;
  }
  const body = $('log-list');
  if (!more) body.replaceChildren();
  for (const e of r.data.entries) {
    const tr = document.createElement('tr');
    if (e.outcome !== 'success') tr.className = 'bad';
    tr.append(cell(new Date(e.time_ms).toLocaleString()), cell(e.kind), cell(e.interface),
      cell(e.account || '–'), cell(e.address || '–'), cell(e.outcome), cell(e.detail, 'detail'));
    body.append(tr);
  }
  cursor = r.data.next_cursor;
  $('log-more').hidden = !cursor;
  $('log-empty').hidden = body.children.length > 0;
}

export function initLog(apiFn, errTextFn) {
  api = apiFn;
  errText = errTextFn;
  const sel = $('log-kind');
  for (const k of KINDS) {
    const o = document.createElement('option');
    o.value = o.textContent = k;
    sel.append(o);
  }
  sel.addEventListener('change', () => load(false));
  $('log-since').addEventListener('change', () => load(false));
  $('log-refresh').addEventListener('click', () => load(false));
  $('log-more').addEventListener('click', () => load(true));
}

export function openLog() {
  cursor = null;
  load(false);
}
