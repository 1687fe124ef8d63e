// The Media dialog: the image store (upload with progress, download from a
// URL, rename, delete) and the USB drive (mount as CD-ROM or flash, eject).
// Uploads go through XMLHttpRequest: fetch() reports no upload progress.

const $ = (id) => document.getElementById(id);
let api = null, session = null, errText = null, timer = null;

function size(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function error(msg) { $('media-error').textContent = msg || ''; }

async function call(path, method, body) {
  error('');
  const r = await api(path, { method, body });
  if (!r.ok) error(errText(r));
  else render(r.data);
  return r;
}

function render(v) {
  if (!v || !v.enabled) return;
  $('media-state').hidden = true;
  $('media-controls').hidden = false;
  const d = v.drive;
  let drive = 'No USB drive (needs the USB gadget).';
  if (d) {
    drive = d.mounted ? `Mounted: ${d.image} as ${d.as_disk ? 'a read-only disk (too big for a CD)' : d.mode}` +
      `${d.rw ? ', read-write' : ''}` : 'Nothing mounted.';
    if (d.pending) drive += ` Downloading ${d.pending_name} to mount it…`;
    if (d.last_error) drive += ' Last error: ' + d.last_error;
    if (!d.host_online) drive += ' (the server has not enumerated the USB device)';
  }
  $('media-drive').textContent = drive;
  $('media-eject').hidden = !(d && d.mounted);
  $('media-space').textContent = `${size(v.free_bytes)} free of ${size(v.total_bytes)}`;
  const list = $('media-list');
  list.replaceChildren();
  for (const im of v.images) {
    const tr = el('tr');
    tr.append(el('td', im.name), el('td', size(im.size)), el('td', im.sha256 ? im.sha256.slice(0, 12) + '…' : '–',
      { title: im.sha256 || 'unknown' }));
    const act = el('td');
    const mount = (mode, rw) => () => call('/api/vmedia/mount', 'POST', { image: im.name, mode, rw });
    const b = (label, fn, cls) => { const x = el('button', label); if (cls) x.className = cls; x.onclick = fn; act.append(x); };
    b('CD-ROM', mount('cdrom', false));
    b('Flash', mount('flash', false));
    b('Flash (rw)', mount('flash', true));
    b('Rename', () => {
      const to = prompt('New name for ' + im.name, im.name);
      if (to && to !== im.name) call('/api/vmedia/images/' + encodeURIComponent(im.name) + '/rename', 'POST', { to });
    });
    b('Delete', () => {
      if (confirm('Delete ' + im.name + '?')) call('/api/vmedia/images/' + encodeURIComponent(im.name), 'DELETE');
    }, 'danger');
    tr.append(act);
    list.append(tr);
  }
  const tl = $('media-transfers');
  tl.replaceChildren();
  for (const t of v.transfers) {
    const pct = t.total ? Math.floor(100 * t.done / t.total) : null;
    const li = el('li', `${t.download ? 'Download' : 'Upload'} ${t.name}: ${t.state}` +
      (t.state === 'running' ? ` ${size(t.done)}${t.total ? ' of ' + size(t.total) : ''}, ${size(t.rate)}/s` : '') +
      (t.message ? ' – ' + t.message : ''));
    if (pct !== null && t.state === 'running') li.append(el('progress', undefined, { max: '100', value: String(pct) }));
    if (t.download && t.state === 'running') {
      const c = el('button', 'Cancel');
      c.onclick = () => call('/api/vmedia/transfers/' + encodeURIComponent(t.name), 'DELETE');
      li.append(c);
    }
    tl.append(li);
  }
}

async function refresh() {
  const r = await api('/api/vmedia', { poll: true });
  if (r.ok) render(r.data);
  else if (r.status === 503) $('media-state').textContent = r.data.error || 'Virtual media is off.';
  else {
    // Any other failure shows in the panel: with the controls hidden (the
    // first refresh failed) the state line is the only place that shows.
    const msg = 'Virtual media: ' + errText(r);
    if ($('media-controls').hidden) $('media-state').textContent = msg;
    else error(msg);
  }
}

function upload(file) {
  error('');
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', '/api/vmedia/images/' + encodeURIComponent(file.name));
  if (session() && session().csrf) xhr.setRequestHeader('X-CSRF-Token', session().csrf);
  const bar = $('media-upload-progress');
  bar.hidden = false;
  bar.value = 0;
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.floor(100 * e.loaded / e.total); };
  xhr.onloadend = () => {
    bar.hidden = true;
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    if (xhr.status !== 201) error('Upload of ' + file.name + ': ' + errText({ status: xhr.status, data }));
    refresh();
  };
  xhr.send(file);
}

export function initMedia(apiFn, sessionFn, errTextFn) {
  api = apiFn;
  session = sessionFn;
  errText = errTextFn;
  $('media-file').addEventListener('change', (e) => {
    for (const f of e.target.files) upload(f);
    e.target.value = '';
  });
  $('media-url-go').addEventListener('click', () => {
    const url = $('media-url').value.trim();
    if (!url) return;
    const mount = $('media-url-mount').checked;
    call(mount ? '/api/vmedia/mount-url' : '/api/vmedia/download', 'POST', { url });
  });
  $('media-eject').addEventListener('click', async () => {
    const r = await call('/api/vmedia/eject', 'POST', {});
    if (r.status === 409 && confirm('The server holds the medium. Eject it anyway?'))
      call('/api/vmedia/eject', 'POST', { force: true });
  });
  $('dlg-media').addEventListener('close', () => { clearInterval(timer); timer = null; });
}

export function openMedia() {
  refresh();
  if (!timer) timer = setInterval(refresh, 1000);
}
