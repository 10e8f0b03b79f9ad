// The dashboard: hash routes (#/, #/assets, #/assets/<id>, #/alerts, ...), so no page path can shadow
// /api, /ws, /auth or the InfluxDB routes. Text from the data is always rendered as text (Preact
// escapes it); nothing here builds HTML from strings.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, login, logout, onSession, refresh } from './api.js';
import { onLiveState } from './live.js';
import { Problem, html } from './ui.js';
import { Asset, Assets, Overview } from './pages/fleet.js';
import { Alerts, Rules } from './pages/alerts.js';
import { Cost, Trends } from './pages/reports.js';
import { Predictions } from './pages/models.js';
import { Settings } from './pages/settings.js';

function useRoute() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.slice(1);
}

function SignIn() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setBusy(true);
    setError(null);
    try {
      await login(f.get('tenant'), f.get('username'), f.get('password'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">FORESIGHT</h1>
      <label>Tenant <input name="tenant" autocomplete="organization" required /></label>
      <label>Username <input name="username" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <${Problem} error=${error} />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function Shell({ session }) {
  const route = useRoute();
  const [live, setLive] = useState('offline');
  useEffect(() => onLiveState(setLive), []);
  const [theme, setTheme] = useState(localStorage.getItem('theme') || 'auto');
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('theme', theme);
  }, [theme]);
  let page;
  if (route.startsWith('/assets/')) page = html`<${Asset} id=${decodeURIComponent(route.slice(8))} />`;
  else if (route === '/assets') page = html`<${Assets} />`;
  else if (route === '/alerts') page = html`<${Alerts} />`;
  else if (route === '/rules') page = html`<${Rules} />`;
  else if (route === '/cost') page = html`<${Cost} />`;
  else if (route === '/trends') page = html`<${Trends} />`;
  else if (route === '/predictions') page = html`<${Predictions} />`;
  else if (route === '/settings') page = html`<${Settings} />`;
  else page = html`<${Overview} />`;
  const link = (href, label) => html`<a href=${href} aria-current=${('#' + route).startsWith(href) && (href !== '#/' || route === '/') ? 'page' : undefined}>${label}</a>`;
  return html`<div class="shell">
    <header>
      <span class="brand">FORESIGHT</span>
      <nav aria-label="Main">${link('#/', 'Overview')}${link('#/assets', 'Assets')}${link('#/alerts', 'Alerts')}${link('#/trends', 'Trends')}${link('#/predictions', 'Predictions')}${link('#/rules', 'Rules')}${link('#/cost', 'Cost avoidance')}${link('#/settings', 'Settings')}</nav>
      <span class=${`live ${live}`} role="status" aria-label=${`live feed ${live}`}>${live}</span>
      <label class="theme"><span class="sr">Theme</span> <select value=${theme} onChange=${(e) => setTheme(e.target.value)}>
        <option value="auto">auto</option><option value="light">light</option><option value="dark">dark</option></select></label>
      <span class="who">${session.user?.display_name ?? ''} · ${session.tenant} · ${session.role}</span>
      <button onClick=${logout}>Sign out</button>
    </header>
    <main>${page}</main>
  </div>`;
}

// The API reference at /docs: every route of /openapi.json by tag, with its role, parameters and
// request body. Public, like the document it reads.
function Docs() {
  const [doc, setDoc] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    fetch('/openapi.json').then((r) => r.json()).then(setDoc, setError);
  }, []);
  const ops = [];
  for (const [path, methods] of Object.entries(doc?.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) ops.push({ path, method, op });
  }
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? 'other'))];
  return html`<main class="docs">
    <h1>FORESIGHT API <span class="muted">${doc?.info?.version ?? ''}</span></h1>
    <p>Every route the server answers, from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3). <a href="/">Dashboard</a></p>
    <${Problem} error=${error} />
    <nav aria-label="Sections">${tags.map((t) => html`<a href=${`#tag-${t}`}>${t}</a> `)}</nav>
    ${tags.map((t) => html`<section aria-labelledby=${`tag-${t}`}>
      <h2 id=${`tag-${t}`}>${t}</h2>
      ${ops.filter((o) => (o.op.tags?.[0] ?? 'other') === t).map(({ path, method, op }) => html`
        <article class="op" data-op=${`${method.toUpperCase()} ${path}`}>
          <h3><span class=${`method ${method}`}>${method.toUpperCase()}</span> <code>${path}</code></h3>
          <p>${op.summary} <span class="muted">· ${op['x-foresight-role'] ?? ''}</span></p>
          ${op.parameters && html`<table><thead><tr><th scope="col">Parameter</th><th scope="col">In</th><th scope="col">Meaning</th></tr></thead>
            <tbody>${op.parameters.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.description ?? ''}</td></tr>`)}</tbody></table>`}
          ${op.requestBody && html`<p class="muted">Body: ${Object.keys(op.requestBody.content ?? {}).join(', ')} ${
            Object.values(op.requestBody.content ?? {})[0]?.schema?.$ref?.split('/').pop() ?? ''}</p>`}
        </article>`)}
    </section>`)}
  </main>`;
}

function App() {
  const [session, setSession] = useState(currentSession());
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    const off = onSession(setSession);
    refresh().finally(() => setChecked(true)); // a session cookie from an earlier visit
    return off;
  }, []);
  if (!checked) return html`<p class="loading">Loading…</p>`;
  return session ? html`<${Shell} session=${session} />` : html`<${SignIn} />`;
}

render(location.pathname === '/docs' ? html`<${Docs} />` : html`<${App} />`,
  document.getElementById('app'));
