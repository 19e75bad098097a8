// keyrelay dashboard, teams and virtual keys: a page over
// /admin/virtual-keys, /admin/spend and /admin/requests.
//
// It signs in with the admin token the key pools page keeps in this tab's
// sessionStorage. The page shows a key's secret once, right after making
// it, and forgets it when dismissed; the admin API never sends it again.
//
// Views by the address's hash: none for every team and key, #team=NAME for
// one team, #key=ID for one key. Figures are polled every two seconds while
// the tab is shown.
'use strict';

(() => {
  const TOKEN = 'keyrelay.adminToken';
  const POLL_MS = 2000;
  const PERIODS = [
    ['day', 'Today'],
    ['week', 'This week'],
    ['month', 'This month'],
  ];

  const $ = (id) => document.getElementById(id);

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') el.className = value;
      else el.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const count = (n) => Number(n || 0).toLocaleString();
  const usd = (n) => (n === null || n === undefined ? 'unknown' : `$${Number(n).toFixed(4)}`);
  const timeOf = (atMs) => new Date(atMs).toLocaleTimeString();
  const utc = (iso) => (iso ? iso.replace('T', ' ').replace('Z', ' UTC') : '');

  // ---- the admin API ----

  class AdminError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function admin(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN)}` };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`../admin/${path}`, init);
    } catch (err) {
      throw new AdminError(0, 'keyrelay did not answer; is it still running?');
    }
    let json = null;
    try {
      json = await response.json();
    } catch (_) {
      // the status says enough
    }
    if (!response.ok) {
      throw new AdminError(response.status, (json && json.error && json.error.message) || `HTTP ${response.status}`);
    }
    return json;
  }

  function notify(message, isError) {
    $('notice').textContent = message;
    $('notice').classList.toggle('is-error', Boolean(isError));
  }

  function signedOut() {
    clearTimeout(pollTimer);
    $('team-page').hidden = true;
    $('signed-out').hidden = false;
  }

  // ---- what the address asks for ----

  function view() {
    const match = location.hash.match(/^#(key|team)=(.+)$/);
    return match ? { kind: match[1], name: decodeURIComponent(match[2]) } : { kind: 'overview' };
  }

  // ---- spend against a budget ----

  /// One window of spend: the figure, a bar against the budget, the reset.
  function windowCard(label, spend, what) {
    const budget = spend.budget_usd;
    const spent = spend.usd;
    const figure = budget === null || budget === undefined
      ? `${usd(spent)}, no budget`
      : `${usd(spent)} of $${Number(budget).toFixed(4)}`;
    const children = [h('h4', {}, label), h('p', { class: 'figure' }, figure)];
    if (spend.unpriced_requests > 0) {
      children.push(h('p', { class: 'muted resets' }, `+ ${count(spend.unpriced_requests)} requests to unpriced models (unknown)`));
    }
    if (budget) {
      const ratio = (spent || 0) / budget;
      const level = ratio >= 1 ? 'over' : ratio >= 0.9 ? 'warn' : 'ok';
      const fill = h('div', { class: 'fill' });
      fill.style.width = `${Math.min(100, ratio * 100).toFixed(1)}%`;
      children.push(h('div', {
        class: 'bar',
        role: 'progressbar',
        'data-level': level,
        'aria-label': `${what}: ${label.toLowerCase()}, spent against the budget`,
        'aria-valuemin': 0,
        'aria-valuemax': budget,
        'aria-valuenow': spent || 0,
        'aria-valuetext': figure,
      }, fill));
    }
    if (spend.resets_at) children.push(h('p', { class: 'muted resets' }, `resets ${utc(spend.resets_at)}`));
    children.push(h('p', { class: 'muted resets' }, `${count(spend.requests)} requests · ${count(spend.tokens)} tokens`));
    return h('div', { class: 'window', 'data-period': label }, children);
  }

  function overBudget(key) {
    return PERIODS.some(([p]) => {
      const s = key.spend[p];
      return s.budget_usd && (s.usd || 0) >= s.budget_usd;
    });
  }

  function keyCard(key) {
    const today = key.spend.day;
    return h('li', { class: 'vkey', 'data-id': key.id, 'data-state': key.state, 'data-over': overBudget(key) },
      h('div', { class: 'key-head' },
        h('a', { href: `#key=${encodeURIComponent(key.id)}` }, key.name),
        h('span', { class: `badge ${key.state}` }, key.state)),
      h('p', { class: 'muted' }, key.team ? ['team ', h('a', { href: `#team=${encodeURIComponent(key.team)}` }, key.team)] : 'no team'),
      windowCard('Today', today, key.name));
  }

  // ---- the views ----

  function renderOverview(keys) {
    const teams = new Map();
    for (const key of keys) {
      const name = key.team || '(no team)';
      const t = teams.get(name) || { name, team: key.team, keys: 0, day: 0, week: 0, month: 0 };
      t.keys += 1;
      for (const [p] of PERIODS) t[p] += key.spend[p].usd || 0;
      teams.set(name, t);
    }
    const head = h('tr', {}, h('th', {}, 'Team'), h('th', { class: 'num' }, 'Keys'),
      ...PERIODS.map(([, label]) => h('th', { class: 'num' }, label)));
    const rows = [...teams.values()].map((t) => h('tr', {},
      h('td', {}, t.team ? h('a', { href: `#team=${encodeURIComponent(t.team)}` }, t.name) : t.name),
      h('td', { class: 'num' }, count(t.keys)),
      ...PERIODS.map(([p]) => h('td', { class: 'num' }, usd(t[p])))));
    $('teams').replaceChildren(h('thead', {}, head), h('tbody', {}, rows));
    $('key-list').replaceChildren(...(keys.length ? keys.map(keyCard)
      : [h('li', { class: 'muted' }, 'No virtual keys yet: create one below.')]));
  }

  function renderTeam(name, keys) {
    const mine = keys.filter((k) => k.team === name);
    $('team-title').textContent = `Team ${name}`;
    const totals = PERIODS.map(([p, label]) => {
      const sum = { usd: 0, requests: 0, tokens: 0, unpriced_requests: 0, budget_usd: null, resets_at: null };
      for (const k of mine) {
        const s = k.spend[p];
        sum.usd += s.usd || 0;
        sum.requests += s.requests;
        sum.tokens += s.tokens;
        sum.unpriced_requests += s.unpriced_requests;
        sum.resets_at = s.resets_at;
        if (s.budget_usd) sum.budget_usd = (sum.budget_usd || 0) + s.budget_usd;
      }
      return windowCard(label, sum, `team ${name}`);
    });
    $('team-totals').replaceChildren(...totals);
    $('team-keys').replaceChildren(...(mine.length ? mine.map(keyCard)
      : [h('li', { class: 'muted' }, 'This team has no keys now.')]));
  }

  function renderKey(key, requests) {
    $('key-title').textContent = key.name;
    $('key-state').textContent = key.state;
    $('key-state').className = `badge ${key.state}`;
    const limits = [key.rpm && `${key.rpm} requests/min`, key.tpm && `${key.tpm} tokens/min`].filter(Boolean);
    const meta = ['id ', h('code', {}, key.id)];
    if (key.team) meta.push(' · team ', h('a', { href: `#team=${encodeURIComponent(key.team)}` }, key.team));
    meta.push(` · routes ${key.routes.join(', ')}`);
    if (limits.length) meta.push(` · ${limits.join(', ')}`);
    if (key.expires_at) meta.push(` · expires ${utc(key.expires_at)}`);
    $('key-meta').replaceChildren(...meta);
    $('key-windows').replaceChildren(...PERIODS.map(([p, label]) => windowCard(label, key.spend[p], key.name)));
    const stat = (label, value, cls) => h('div', {}, h('dt', {}, label), h('dd', { class: cls }, value));
    $('key-stats').replaceChildren(
      stat('Requests today', count(key.spend.day.requests), 'requests'),
      stat('Tokens today', count(key.spend.day.tokens), 'tokens'),
      stat('Last minute', count(key.requests_last_minute), 'last-minute'),
      stat('In flight', count(key.in_flight), 'inflight'));
    const disabled = key.state === 'disabled';
    $('key-toggle').textContent = disabled ? 'Enable' : 'Disable';
    $('key-toggle').dataset.enable = disabled ? 'true' : 'false';
    $('key-requests').replaceChildren(...(requests.length ? requests.map((r) => {
      const tokens = r.input_tokens != null
        ? ` · ${count(r.input_tokens)} in / ${count(r.output_tokens)} out` + (r.cache_read_tokens ? ` / ${count(r.cache_read_tokens)} cached` : '')
        : '';
      const cost = r.cost === 'priced' || r.cost === 'estimated' ? ` · ${usd(r.cost_usd)}${r.cost === 'estimated' ? ' (estimated)' : ''}`
        : r.cost === 'unpriced' ? ' · cost unknown' : '';
      return h('li', { class: 'request' }, h('div', { class: 'req-head' },
        h('time', { datetime: new Date(r.at_ms).toISOString() }, timeOf(r.at_ms)),
        h('span', { class: `status ${r.status < 400 ? 'ok' : 'failed'}` }, r.status),
        h('span', {}, [r.provider, r.model].filter(Boolean).join(' · ') || r.path),
        h('span', { class: 'muted' }, `${count(r.duration_ms)} ms${tokens}${cost}`)));
    }) : [h('li', { class: 'muted' }, 'No request from this key on this gateway since it started.')]));
  }

  // ---- polling ----

  let pollTimer = null;
  let pollRun = 0;
  let current = null;

  async function poll() {
    const run = ++pollRun;
    clearTimeout(pollTimer);
    const asked = view();
    try {
      const list = await admin('GET', 'virtual-keys');
      const keys = list.virtual_keys || [];
      let requests = [];
      if (asked.kind === 'key') {
        requests = (await admin('GET', `requests?limit=20&virtual_key=${encodeURIComponent(asked.name)}`)).requests || [];
      }
      if (run !== pollRun) return;
      $('overview').hidden = asked.kind !== 'overview';
      $('team-view').hidden = asked.kind !== 'team';
      $('key-view').hidden = asked.kind !== 'key';
      if (asked.kind === 'key') {
        current = keys.find((k) => k.id === asked.name) || null;
        if (current) renderKey(current, requests);
        else {
          $('key-view').hidden = true;
          notify('That virtual key no longer exists.', true);
        }
      } else if (asked.kind === 'team') {
        renderTeam(asked.name, keys);
      } else {
        renderOverview(keys);
      }
      $('updated').textContent = `Updated ${timeOf(Date.now())}`;
    } catch (err) {
      if (run !== pollRun) return;
      if (err.status === 401 || err.status === 404) return signedOut();
      $('updated').textContent = `Not updated: ${err.message}`;
    } finally {
      if (run === pollRun && !document.hidden) pollTimer = setTimeout(poll, POLL_MS);
    }
  }

  // ---- actions ----

  async function act(button, work) {
    if (button) button.disabled = true;
    try {
      notify(await work());
    } catch (err) {
      if (err.status === 401) return signedOut();
      notify(err.message, true);
    } finally {
      if (button) button.disabled = false;
      poll();
    }
  }

  function toggle() {
    if (!current) return;
    const enable = $('key-toggle').dataset.enable === 'true';
    const key = current;
    act($('key-toggle'), async () => {
      await admin('POST', `virtual-keys/${encodeURIComponent(key.id)}/${enable ? 'enable' : 'disable'}`);
      return `Virtual key ${key.name} ${enable ? 'enabled' : 'disabled'}.`;
    });
  }

  function confirmDelete() {
    if (!current) return;
    $('confirm-delete-text').textContent =
      `Requests with ${current.name} (id ${current.id}) are refused from now on, on every replica within about a second. Its spend stays in the reports.`;
    $('confirm-delete').showModal();
    $('confirm-delete-cancel').focus();
  }

  function remove() {
    const key = current;
    $('confirm-delete').close();
    act(null, async () => {
      await admin('DELETE', `virtual-keys/${encodeURIComponent(key.id)}`);
      location.hash = '';
      return `Deleted virtual key ${key.name}.`;
    });
  }

  function create(event) {
    event.preventDefault();
    const text = (id) => $(id).value.trim();
    const number = (id) => (text(id) === '' ? undefined : Number(text(id)));
    const body = { name: text('new-name') };
    if (text('new-team')) body.team = text('new-team');
    const routes = text('new-routes').split(/[\s,]+/).filter((r) => r.length > 0);
    if (routes.length) body.routes = routes;
    for (const [field, id] of [['rpm', 'new-rpm'], ['tpm', 'new-tpm']]) {
      if (number(id) !== undefined) body[field] = number(id);
    }
    const budget = {};
    for (const [p, id] of [['day', 'new-day'], ['week', 'new-week'], ['month', 'new-month']]) {
      if (number(id) !== undefined) budget[p] = number(id);
    }
    if (Object.keys(budget).length) body.budget_usd = budget;
    // datetime-local gives HH:MM, or HH:MM:SS: read as UTC.
    const expires = text('new-expires');
    if (expires) body.expires_at = expires.split(':').length > 2 ? `${expires}Z` : `${expires}:00Z`;
    act($('create-button'), async () => {
      const made = await admin('POST', 'virtual-keys', body);
      $('create-form').reset();
      $('created-secret').textContent = made.key;
      $('created').hidden = false;
      $('created-copy').focus();
      return `Created virtual key ${made.virtual_key.name} (id ${made.id}).`;
    });
  }

  function forgetSecret() {
    $('created-secret').textContent = '';
    $('created').hidden = true;
  }

  async function copySecret() {
    const secret = $('created-secret').textContent;
    try {
      await navigator.clipboard.writeText(secret);
      notify('Copied. Dismiss it with Done once it is safe.');
    } catch (_) {
      window.getSelection().selectAllChildren($('created-secret'));
      notify('Selected: copy it with Ctrl+C (or ⌘C).');
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('create-form').addEventListener('submit', create);
    $('created-copy').addEventListener('click', copySecret);
    $('created-done').addEventListener('click', forgetSecret);
    $('key-toggle').addEventListener('click', toggle);
    $('key-delete').addEventListener('click', confirmDelete);
    $('confirm-delete-cancel').addEventListener('click', () => $('confirm-delete').close());
    $('confirm-delete-ok').addEventListener('click', remove);
    $('overview-link').addEventListener('click', (event) => {
      event.preventDefault();
      location.hash = '';
    });
    window.addEventListener('hashchange', () => {
      notify('');
      poll();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && sessionStorage.getItem(TOKEN)) poll();
    });
    if (!sessionStorage.getItem(TOKEN)) return signedOut();
    $('team-page').hidden = false;
    poll();
  });
})();
