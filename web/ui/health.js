// The Health dialog: the checks of `piglix doctor` (GET /api/health), problems
// first, each with what was found and the fix in words. After the set-up page
// made the first account it opens by itself as the first-run checklist.
// piglix runs the checks off its web thread and answers with the last report
// and its age: a report older than the moment asked for is asked for again.

const $ = (id) => document.getElementById(id);
let api = null, errText = null;
const ORDER = { problem: 0, warning: 1, ok: 2 };

function row(c) {
  const tr = document.createElement('tr');
  tr.className = 'health-' + c.status;
  const st = document.createElement('td');
  const pill = document.createElement('span');
  pill.className = 'pill ' + (c.status === 'ok' ? 'ok' : c.status === 'warning' ? 'warn' : 'bad');
  pill.textContent = c.status;
  st.appendChild(pill);
  const name = document.createElement('td');
  name.textContent = c.name;
  const msg = document.createElement('td');
  msg.textContent = c.message;
  if (c.fix) {
    const fix = document.createElement('div');
    fix.className = 'health-fix';
    fix.textContent = 'Fix: ' + c.fix;
    msg.appendChild(fix);
  }
  tr.append(st, name, msg);
  return tr;
}

function render(report) {
  const checks = report.checks.slice().sort((a, b) => ORDER[a.status] - ORDER[b.status]);
  const n = (s) => checks.filter((c) => c.status === s).length;
  $('health-summary').textContent = n('problem') + ' problem(s), ' + n('warning') + ' warning(s), ' +
    n('ok') + ' ok';
  $('health-list').replaceChildren(...checks.map(row));
}

// The report, made no earlier than `since` (ms, Date.now()) when given.
async function load(since) {
  $('health-error').textContent = '';
  for (let tries = 0; tries < 10; tries++) {
    const asked = Date.now();
    const r = await api('/api/health');
    if (r.ok && (!since || asked - r.data.age_ms >= since)) {
      render(r.data);
      return;
    }
    if (!r.ok && r.status !== 503) {
      $('health-error').textContent = errText(r);
      return;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  $('health-error').textContent = 'The checks did not answer; try again.';
}

export function initHealth(apiFn, errTextFn) {
  api = apiFn;
  errText = errTextFn;
  $('health-refresh').addEventListener('click', () => load(Date.now()));
}

// firstRun: the checklist after set-up (a report made after the account).
export function openHealth(firstRun = false) {
  $('health-first-run').hidden = !firstRun;
  $('dlg-health').showModal();
  return load(firstRun ? Date.now() : 0);
}
