// keyrelay dashboard: a page over the admin API (/admin/*).
//
// The admin token lives in this tab's sessionStorage and travels only in an
// Authorization header. Keys are sent once (adding them) and never come
// back: the admin API answers with fingerprints and ids only.
//
// The page polls /admin/keys and /admin/requests every two seconds while
// the tab is shown, and updates key cards in place, so keyboard focus stays
// where it was.
'use strict';

(() => {
  const TOKEN = 'keyrelay.adminToken';
  const POLL_MS = 2000;
  const REQUESTS_SHOWN = 25;
  const MINUTE_MS = 60000;
  const HOUR_MINUTES = 60;
  const CLASS_NAMES = {
    success: 'success',
    client_error: 'client error',
    key_invalid: 'key invalid',
    key_no_credit: 'no credit',
    quota_daily: 'daily quota',
    rate_limited: 'rate limited',
    transient: 'transient',
    provider_down: 'provider down',
  };

  const $ = (id) => document.getElementById(id);

  /// An element with attributes and children (strings become text).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') el.className = value;
      else if (name === 'text') el.textContent = value;
      else el.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function svg(tag, attrs) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
    return el;
  }

  const className = (c) => CLASS_NAMES[c] || c || '—';
  const count = (n) => Number(n || 0).toLocaleString();

  /// 0:27, 4:05, 19:59:58
  function clock(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const two = (n) => String(n).padStart(2, '0');
    return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
  }

  function ago(atMs) {
    const s = Math.max(0, Math.round((Date.now() - atMs) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} d ago`;
  }

  const timeOf = (atMs) => new Date(atMs).toLocaleTimeString();

  // ---- the admin API ----

  class AdminError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function admin(method, path, body, token = sessionStorage.getItem(TOKEN)) {
    const headers = { Authorization: `Bearer ${token}` };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`admin/${path}`, init);
    } catch (err) {
      throw new AdminError(0, 'keyrelay did not answer; is it still running?');
    }
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (_) {
      // not JSON: the status says enough
    }
    if (!response.ok) {
      const message = (json && json.error && json.error.message) || `HTTP ${response.status}`;
      throw new AdminError(response.status, message);
    }
    return json;
  }

  // ---- signing in and out ----

  let signedIn = false;

  async function signIn(event) {
    event.preventDefault();
    const input = $('token');
    const candidate = input.value.trim();
    const error = $('signin-error');
    error.textContent = '';
    if (!candidate) {
      error.textContent = 'Enter an admin token.';
      input.focus();
      return;
    }
    const button = $('signin-button');
    button.disabled = true;
    try {
      await admin('GET', 'keys', undefined, candidate);
      sessionStorage.setItem(TOKEN, candidate);
      input.value = '';
      enter();
    } catch (err) {
      error.textContent =
        err.status === 401
          ? 'That admin token was not accepted. Check it and try again.'
          : err.status === 404
            ? 'The admin API is off on this gateway (no admin token is configured).'
            : `Could not sign in: ${err.message}`;
      input.select();
    } finally {
      button.disabled = false;
    }
  }

  function enter() {
    signedIn = true;
    $('signin').hidden = true;
    $('dashboard').hidden = false;
    $('session-actions').hidden = false;
    poll();
  }

  function signOut(message) {
    signedIn = false;
    clearTimeout(pollTimer);
    sessionStorage.removeItem(TOKEN);
    $('dashboard').hidden = true;
    $('session-actions').hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = message || '';
    $('token').focus();
  }

  // ---- polling ----

  let pollTimer = null;
  let pollRun = 0;

  async function poll() {
    const run = ++pollRun;
    clearTimeout(pollTimer);
    try {
      const [keys, requests] = await Promise.all([
        admin('GET', 'keys'),
        admin('GET', `requests?limit=${REQUESTS_SHOWN}`),
      ]);
      if (run !== pollRun || !signedIn) return;
      renderPools(keys);
      renderRequests(requests.requests || []);
      $('updated').textContent = `Updated ${timeOf(Date.now())}`;
      $('updated').classList.remove('error');
    } catch (err) {
      if (run !== pollRun) return;
      if (err.status === 401 || err.status === 404) {
        signOut('Your admin token is no longer accepted. Sign in again.');
        return;
      }
      $('updated').textContent = `Not updated: ${err.message}`;
      $('updated').classList.add('error');
    } finally {
      // A hidden tab stops asking; showing it again polls at once.
      if (run === pollRun && signedIn && !document.hidden) pollTimer = setTimeout(poll, POLL_MS);
    }
  }

  // ---- key pools ----

  const sections = new Map(); // provider name -> {section, list, summary}
  const cards = new Map(); // "provider/id" -> {card, info, toggle}

  function renderPools(view) {
    const providers = view.providers || [];
    const withKeys = providers.filter((p) => p.keys.length > 0);
    const root = $('providers');
    const seenProviders = new Set();
    const seenCards = new Set();
    withKeys.forEach((provider, place) => {
      seenProviders.add(provider.name);
      const section = sectionFor(provider);
      placeAt(root, section.section, place); // the API's order
      const states = { available: 0, cooling: 0, disabled: 0 };
      provider.keys.forEach((key, place) => {
        states[key.state] = (states[key.state] || 0) + 1;
        seenCards.add(`${provider.name}/${key.id}`);
        const card = cardFor(provider.name, key);
        fillCard(card, key);
        placeAt(section.list, card.card, place);
      });
      const parts = Object.entries(states)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => `${n} ${state}`);
      section.summary.textContent =
        `${provider.keys.length} key${provider.keys.length === 1 ? '' : 's'}: ${parts.join(', ')} · ${provider.dialect} dialect`;
    });
    for (const [name, section] of sections) {
      if (!seenProviders.has(name)) {
        section.section.remove();
        sections.delete(name);
      }
    }
    for (const [ref, card] of cards) {
      if (!seenCards.has(ref)) {
        card.card.remove();
        cards.delete(ref);
      }
    }
    const keyless = providers.filter((p) => p.keys.length === 0).map((p) => p.name);
    $('keyless').textContent = withKeys.length === 0
      ? 'No provider has keys yet: add some below.'
      : keyless.length > 0 ? `Providers without keys: ${keyless.join(', ')}.` : '';
    fillProviderChoice(providers, withKeys);
  }

  /// Puts `node` at `place` among `parent`'s children, moving it only when it
  /// is elsewhere: a moved node loses keyboard focus.
  function placeAt(parent, node, place) {
    const there = parent.children[place];
    if (there !== node) parent.insertBefore(node, there || null);
  }

  function sectionFor(provider) {
    let section = sections.get(provider.name);
    if (section) return section;
    const titleId = `provider-${provider.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const summary = h('span', { class: 'summary muted' });
    const check = h('button', { type: 'button', class: 'quiet' }, `Check all ${provider.name} keys`);
    check.addEventListener('click', () => checkProvider(provider.name, check));
    const list = h('ul', { class: 'keys', 'aria-labelledby': titleId });
    section = {
      section: h(
        'section',
        { class: 'provider', 'data-provider': provider.name },
        h('div', { class: 'provider-head' }, h('h3', { id: titleId }, provider.name), summary, check),
        list,
      ),
      list,
      summary,
    };
    sections.set(provider.name, section);
    return section;
  }

  function cardFor(provider, key) {
    const ref = `${provider}/${key.id}`;
    let card = cards.get(ref);
    if (card) return card;
    const info = h('div', { class: 'key-info' });
    const toggle = h('button', { type: 'button', class: 'act-toggle' });
    const check = h('button', { type: 'button', class: 'act-check' }, 'Check');
    const remove = h('button', { type: 'button', class: 'act-remove danger' }, 'Remove');
    card = {
      card: h('li', { class: 'key', 'data-id': key.id, 'data-provider': provider }, info,
        h('div', { class: 'actions' }, toggle, check, remove)),
      info,
      toggle,
      key,
    };
    toggle.addEventListener('click', () => setEnabled(provider, card.key, toggle));
    check.addEventListener('click', () => checkKey(provider, card.key, check));
    remove.addEventListener('click', () => confirmRemove(provider, card.key));
    cards.set(ref, card);
    return card;
  }

  function fillCard(card, key) {
    card.key = key;
    card.card.dataset.state = key.state;
    const name = key.key;
    const disabled = key.state === 'disabled';
    card.toggle.textContent = disabled ? 'Enable' : 'Disable';
    card.toggle.setAttribute('aria-label', `${disabled ? 'Enable' : 'Disable'} key ${name}`);
    card.card.querySelector('.act-check').setAttribute('aria-label', `Check key ${name}`);
    card.card.querySelector('.act-remove').setAttribute('aria-label', `Remove key ${name}`);

    const meta = [];
    if (key.label) meta.push('label · ');
    meta.push('id ', h('code', {}, key.id));
    if (key.group) meta.push(` · group ${key.group}`);
    if (key.budget) {
      const b = key.budget;
      const limits = [b.rpm && `${b.rpm} rpm`, b.tpm && `${b.tpm} tpm`, b.rpd && `${b.rpd} rpd`].filter(Boolean);
      meta.push(` · budget ${limits.join(', ')}`);
    }

    const children = [
      h('div', { class: 'key-head' },
        h('span', { class: 'fp', title: 'fingerprint' }, name),
        h('span', { class: `badge ${key.state}` }, key.state)),
      h('p', { class: 'key-meta muted' }, meta),
      stateLine(key),
    ];
    if ((key.model_cooldowns || []).length > 0) {
      children.push(h('ul', { class: 'model-cooldowns', 'aria-label': 'cooling for some models' },
        key.model_cooldowns.map((c) => h('li', {},
          h('span', { class: 'model' }, c.model), ': cooling ', countdown(c.remaining_ms),
          ` · ${className(c.class)}`))));
    }
    children.push(
      h('dl', { class: 'stats' },
        stat('Requests', key.requests, 'requests'),
        stat('Failures', key.failures, 'failures'),
        stat('Last minute', key.requests_last_minute, 'last-minute'),
        stat('In flight', key.inflight, 'inflight')),
      h('p', { class: 'classes' }, failureClasses(key.outcomes)),
      h('p', { class: 'last-error' }, key.last_error
        ? `Last error: ${className(key.last_error.class)}, ${timeOf(key.last_error.at_ms)} (${ago(key.last_error.at_ms)})`
        : 'No error yet.'),
      sparkline(key.history || []),
    );
    card.info.replaceChildren(...children);
  }

  function stat(label, value, cls) {
    return h('div', {}, h('dt', {}, label), h('dd', { class: cls }, count(value)));
  }

  function failureClasses(outcomes) {
    const failed = Object.entries(outcomes || {}).filter(([c, n]) => c !== 'success' && n > 0);
    if (failed.length === 0) return 'No failures.';
    return `Failures by class: ${failed.map(([c, n]) => `${className(c)} ${count(n)}`).join(' · ')}`;
  }

  function stateLine(key) {
    if (key.state === 'cooling' && key.cooldown) {
      return h('p', { class: 'state-line cooling' },
        'Cooling: usable again in ', countdown(key.cooldown.remaining_ms),
        ` · ${className(key.cooldown.class)}`);
    }
    if (key.state === 'disabled') {
      if (key.disabled_reason === 'disabled_by_admin') {
        return h('p', { class: 'state-line disabled' }, 'Disabled: by an operator');
      }
      const reason = key.disabled_reason || (key.last_error ? className(key.last_error.class) : 'by the provider');
      return h('p', { class: 'state-line disabled' }, `Disabled: ${reason} · re-checked in the background`);
    }
    return h('p', { class: 'state-line available' }, 'Available');
  }

  /// A countdown element; `tick` moves it on between polls.
  function countdown(remainingMs) {
    const deadline = Date.now() + remainingMs;
    return h('span', { class: 'countdown', 'data-deadline': deadline, role: 'timer' }, clock(remainingMs));
  }

  function tick() {
    for (const el of document.querySelectorAll('.countdown[data-deadline]')) {
      el.textContent = clock(Number(el.dataset.deadline) - Date.now());
    }
  }

  /// Requests (bars) and failures (red, in front) per minute over the last hour.
  function sparkline(history) {
    const nowMinute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    const first = nowMinute - (HOUR_MINUTES - 1) * MINUTE_MS;
    const slots = Array.from({ length: HOUR_MINUTES }, () => ({ requests: 0, failures: 0 }));
    let requests = 0;
    let failures = 0;
    for (const m of history) {
      const i = Math.round((m.minute_start_ms - first) / MINUTE_MS);
      if (i < 0 || i >= HOUR_MINUTES) continue;
      slots[i].requests += m.requests;
      slots[i].failures += m.failures;
      requests += m.requests;
      failures += m.failures;
    }
    const peak = Math.max(1, ...slots.map((s) => s.requests));
    const label = `Last hour: ${count(requests)} requests, ${count(failures)} failed`;
    const chart = svg('svg', {
      viewBox: `0 0 ${HOUR_MINUTES} 20`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': label,
      class: 'spark-chart',
    });
    slots.forEach((s, i) => {
      if (s.requests === 0) return;
      const height = Math.max(1.5, (s.requests / peak) * 20);
      chart.append(svg('rect', { class: 'req', x: i + 0.1, y: 20 - height, width: 0.8, height }));
      if (s.failures > 0) {
        const failed = Math.max(1.5, (s.failures / peak) * 20);
        chart.append(svg('rect', { class: 'fail', x: i + 0.1, y: 20 - failed, width: 0.8, height: failed }));
      }
    });
    return h('figure', { class: 'spark' }, chart,
      h('figcaption', {}, `last hour: ${count(requests)} req · ${count(failures)} failed`));
  }

  function fillProviderChoice(providers, withKeys) {
    const select = $('add-provider');
    const names = providers.map((p) => p.name);
    const current = [...select.options].map((o) => o.value);
    if (current.join('\n') === names.join('\n')) return;
    const chosen = select.value || (withKeys[0] && withKeys[0].name) || names[0];
    select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    select.value = chosen;
  }

  // ---- recent requests ----

  function renderRequests(requests) {
    const list = $('requests');
    if (requests.length === 0) {
      list.replaceChildren(h('li', { class: 'muted' }, 'No request yet.'));
      return;
    }
    list.replaceChildren(...requests.map((r) => {
      const ok = r.status < 400;
      const where = [r.provider, r.model].filter(Boolean).join(' · ');
      const tokens = r.input_tokens != null || r.output_tokens != null
        ? ` · ${count(r.input_tokens)} in / ${count(r.output_tokens)} out tokens`
        : '';
      const head = h('div', { class: 'req-head' },
        h('time', { datetime: new Date(r.at_ms).toISOString() }, timeOf(r.at_ms)),
        h('span', { class: `status ${ok ? 'ok' : 'failed'}` }, r.status),
        h('code', {}, `${r.method} ${r.path}`),
        where && h('span', {}, where),
        h('span', { class: 'muted' }, `${count(r.duration_ms)} ms${tokens}`
          + (r.fallback ? ` · fallback ${r.fallback}` : '')
          + (r.ended !== 'complete' ? ` · ${r.ended.replace('_', ' ')}` : '')));
      const attempts = r.attempts || [];
      const chain = attempts.length === 0
        ? h('p', { class: 'muted chain-none' }, 'No key was tried.')
        : h('ol', { class: 'chain', 'aria-label': `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}` },
          attempts.map((a) => h('li', { class: 'attempt' },
            h('span', { class: `step ${a.class === 'success' ? 'success' : 'failure'}` },
              h('span', { class: 'fp' }, a.key), ' ',
              h('span', { class: 'class' }, className(a.class)),
              a.status ? ` ${a.status}` : ''))));
      return h('li', { class: 'request' }, head, chain);
    }));
  }

  // ---- actions ----

  function notify(message, isError) {
    const notice = $('notice');
    notice.textContent = message;
    notice.classList.toggle('is-error', Boolean(isError));
  }

  async function act(button, work) {
    if (button) button.disabled = true;
    try {
      notify(await work());
    } catch (err) {
      if (err.status === 401) {
        signOut('Your admin token is no longer accepted. Sign in again.');
        return;
      }
      notify(err.message, true);
    } finally {
      if (button) button.disabled = false;
      if (signedIn) poll();
    }
  }

  const q = (provider) => `provider=${encodeURIComponent(provider)}`;

  function setEnabled(provider, key, button) {
    const enable = key.state === 'disabled';
    act(button, async () => {
      await admin('POST', `keys/${encodeURIComponent(key.id)}/${enable ? 'enable' : 'disable'}?${q(provider)}`);
      return `${provider} key ${key.key} ${enable ? 'enabled' : 'disabled'}.`;
    });
  }

  function describeChecks(checks) {
    return checks
      .map((c) => `${c.key}: ${c.verdict.replace('_', ' ')}${c.detail ? ` (${c.detail})` : ''}`)
      .join('; ');
  }

  function checkKey(provider, key, button) {
    act(button, async () => {
      const answer = await admin('POST', `keys/${encodeURIComponent(key.id)}/check?${q(provider)}`);
      return `Checked ${provider} key ${describeChecks(answer.checks)}.`;
    });
  }

  function checkProvider(provider, button) {
    act(button, async () => {
      const answer = await admin('POST', `keys/check?${q(provider)}`);
      const tally = {};
      for (const c of answer.checks) tally[c.verdict] = (tally[c.verdict] || 0) + 1;
      const summary = Object.entries(tally).map(([v, n]) => `${n} ${v.replace('_', ' ')}`).join(', ');
      return `Checked ${answer.checks.length} ${provider} key${answer.checks.length === 1 ? '' : 's'}: ${summary}. ${describeChecks(answer.checks)}.`;
    });
  }

  let removing = null;

  function confirmRemove(provider, key) {
    removing = { provider, key };
    $('confirm-text').textContent =
      `${provider} key ${key.key} (id ${key.id}) leaves the pool now, and the keys file when there is one. Requests already using it finish.`;
    const dialog = $('confirm-remove');
    dialog.showModal();
    $('confirm-cancel').focus();
  }

  function closeRemove() {
    $('confirm-remove').close();
    const target = removing && cards.get(`${removing.provider}/${removing.key.id}`);
    removing = null;
    if (target) target.card.querySelector('.act-remove').focus();
  }

  function remove() {
    const { provider, key } = removing;
    removing = null;
    $('confirm-remove').close();
    act(null, async () => {
      const answer = await admin('DELETE', `keys/${encodeURIComponent(key.id)}?${q(provider)}`);
      $('pools-title').focus();
      return `Removed ${provider} key ${key.key}. ${answer.note || ''}`;
    });
  }

  function addKeys(event) {
    event.preventDefault();
    const provider = $('add-provider').value;
    const text = $('add-keys').value;
    const label = $('add-label').value.trim();
    if (!text.trim()) {
      notify('Paste at least one key.', true);
      $('add-keys').focus();
      return;
    }
    act($('add-button'), async () => {
      // The page splits on spaces too; the API takes each string as one key
      // or a list split on commas, semicolons and line breaks only.
      const keys = text.split(/[\s,;]+/).filter((k) => k.length > 0);
      const body = { provider, keys };
      if (label) body.label = label;
      const answer = await admin('POST', 'keys', body);
      // The keys leave the page as soon as the gateway has them.
      $('add-keys').value = '';
      $('add-label').value = '';
      const added = answer.keys.map((k) => k.key);
      const unchanged = answer.unchanged.map((k) => k.key);
      let message = added.length > 0
        ? `Added to ${provider}: ${added.join(', ')}.`
        : `Nothing added to ${provider}.`;
      if (unchanged.length > 0) message += ` Already there: ${unchanged.join(', ')}.`;
      return `${message} ${answer.note || ''}`;
    });
  }

  function reload() {
    act($('reload'), async () => {
      const answer = await admin('POST', 'reload');
      return `Configuration reloaded: ${answer.providers} providers, ${answer.keys} keys.`;
    });
  }

  // ---- start ----

  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', () => signOut('Signed out.'));
    $('reload').addEventListener('click', reload);
    $('add-form').addEventListener('submit', addKeys);
    $('confirm-cancel').addEventListener('click', closeRemove);
    $('confirm-ok').addEventListener('click', remove);
    $('confirm-remove').addEventListener('cancel', (event) => {
      event.preventDefault();
      closeRemove();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && signedIn) poll();
    });
    setInterval(tick, 250);
    $('pools-title').setAttribute('tabindex', '-1');
    if (sessionStorage.getItem(TOKEN)) {
      enter();
    } else {
      $('token').focus();
    }
  });
})();
