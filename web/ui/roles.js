// The signed-in account's role (GET /api/session "role": viewer, operator,
// admin) in the UI: what the role cannot do is hidden. Cosmetic only: the
// server refuses it anyway (web/API.md, "Roles").
const ORDER = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(session, need) {
  const have = session && session.role in ORDER ? ORDER[session.role] : 0;
  return have >= ORDER[need];
}

// Elements marked data-min-role="operator" (or "admin") are hidden below it;
// body[data-role] lets the style sheet do the rest.
export function applyRole(session) {
  const role = session && session.role in ORDER ? session.role : 'viewer';
  document.body.dataset.role = role;
  for (const el of document.querySelectorAll('[data-min-role]'))
    el.hidden = !roleAtLeast(session, el.dataset.minRole);
  const tag = document.getElementById('who-role');
  if (tag) tag.textContent = role;
}
