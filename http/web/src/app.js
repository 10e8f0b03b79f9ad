// The dashboard: hash routes (#/, #/assets, #/assets/<id>, #/alerts), so no page path can shadow
// /api, /ws, /auth or the InfluxDB routes. Text from the data is always rendered as text (Preact
// escapes it); nothing here builds HTML from strings.
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { api, canEdit, currentSession, currentToken, login, logout, onSession, refresh } from './api.js';
import { onLiveState, subscribe } from './live.js';

const html = htm.bind(h);

function useRoute() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.slice(1);
}

// Loads `load()` and reloads it whenever `deps` change; {data, error, reload}. Only the latest
// request's answer is kept: an earlier one that arrives late (a filter changed meanwhile) is
// dropped.
function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const latest = useRef(0);
  const reload = useCallback(() => {
    const n = ++latest.current;
    load().then(
      (data) => n === latest.current && setState({ data, error: null }),
      (error) => n === latest.current && setState({ data: null, error }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

function Problem({ error }) {
  if (!error) return null;
  return html`<p class="problem" role="alert">${error.message}</p>`;
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

function Kpi({ label, value, id }) {
  return html`<div class="kpi" data-kpi=${id}><span class="label">${label}</span><span class="value">${value ?? '—'}</span></div>`;
}

function Severity({ level }) {
  return html`<span class=${`badge ${level}`}>${level}</span>`;
}

function Health({ value }) {
  const v = Math.max(0, Math.min(100, value ?? 0));
  const tone = v < 60 ? 'bad' : v < 85 ? 'fair' : 'good';
  return html`<span class="health" title=${`health ${v}`}><span class=${`bar ${tone}`} style=${`width:${v}%`}></span><span class="num">${v}</span></span>`;
}

function time(t) {
  return t ? new Date(t).toLocaleString() : '—';
}

function Overview() {
  const summary = useLoad(() => api('GET', '/reports/fleet'), []);
  const cost = useLoad(() => api('GET', '/reports/cost-avoidance?days=30'), []);
  const risky = useLoad(() => api('GET', '/assets?sort=health&limit=8'), []);
  const [feed, setFeed] = useState([]);
  const [feedLive, setFeedLive] = useState(false);
  useEffect(() => {
    api('GET', '/alerts?limit=10&sort=-opened_at').then((r) => setFeed(r.items), () => {});
    return subscribe('alerts', {}, (m) => {
      setFeed((f) => [m.alert, ...f.filter((a) => a.id !== m.alert.id)].slice(0, 20));
      summary.reload();
      risky.reload();
    }, () => setFeedLive(true));
  }, []);
  const s = summary.data;
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${Problem} error=${summary.error} />
    <div class="kpis">
      <${Kpi} id="assets" label="Assets" value=${s?.assets} />
      <${Kpi} id="at_risk" label="At risk" value=${s?.assets_at_risk} />
      <${Kpi} id="open_alerts" label="Open alerts" value=${s?.open_alerts.total} />
      <${Kpi} id="critical" label="Critical" value=${s?.open_alerts.critical} />
      <${Kpi} id="fleet_health" label="Fleet health" value=${s?.fleet_health} />
      <${Kpi} id="net_savings" label=${`Saved, 30 days (${cost.data?.currency ?? ''})`}
        value=${cost.data ? Math.round(cost.data.net_savings).toLocaleString() : null} />
    </div>
    <div class="columns">
      <div>
        <h2>Lowest health</h2>
        <table>
          <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Health</th></tr></thead>
          <tbody>${(risky.data?.items ?? []).map(
            (a) => html`<tr key=${a.id}><td><a href=${`#/assets/${encodeURIComponent(a.id)}`}>${a.name || a.id}</a></td><td>${a.asset_type ?? ''}</td><td><${Health} value=${a.health} /></td></tr>`,
          )}</tbody>
        </table>
      </div>
      <div>
        <h2>Live alerts</h2>
        <ul class="feed" aria-live="polite" data-live=${feedLive}>${feed.map(
          (a) => html`<li key=${a.id}><${Severity} level=${a.severity} /> <a href=${`#/assets/${encodeURIComponent(a.asset_id)}`}>${a.asset_id}</a> ${a.message} <span class="muted">${a.status} · ${time(a.opened_at)}</span></li>`,
        )}</ul>
      </div>
    </div>
  </section>`;
}

function Assets() {
  const [q, setQ] = useState('');
  const [risk, setRisk] = useState('');
  const [sort, setSort] = useState('id');
  const [offset, setOffset] = useState(0);
  const limit = 25;
  const list = useLoad(
    () => api('GET', `/assets?limit=${limit}&offset=${offset}&q=${encodeURIComponent(q)}&sort=${sort}${risk ? `&risk=${risk}` : ''}`),
    [q, offset, risk, sort],
  );
  const total = list.data?.total ?? 0;
  return html`<section aria-labelledby="assets-title">
    <h1 id="assets-title">Assets</h1>
    <div class="toolbar">
      <label class="search">Search <input type="search" value=${q} onInput=${(e) => { setQ(e.target.value); setOffset(0); }} /></label>
      <label>Risk <select value=${risk} onChange=${(e) => { setRisk(e.target.value); setOffset(0); }}>
        <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
      <label>Sort <select value=${sort} onChange=${(e) => setSort(e.target.value)}>
        <option value="id">id</option><option value="name">name</option><option value="health">health, lowest first</option>
        <option value="-risk">risk, highest first</option><option value="-fails_30d">30-day failure chance</option></select></label>
      <button onClick=${() => downloadCsv(`/assets?format=csv&q=${encodeURIComponent(q)}`, 'assets.csv')}>Export CSV</button>
    </div>
    <${Problem} error=${list.error} />
    <table>
      <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Site</th><th scope="col">Criticality</th><th scope="col">Open alerts</th><th scope="col">Health</th><th scope="col">Risk</th><th scope="col">Fails in 30 days</th></tr></thead>
      <tbody>${(list.data?.items ?? []).map(
        (a) => html`<tr key=${a.id}>
          <td><a href=${`#/assets/${encodeURIComponent(a.id)}`}>${a.name || a.id}</a></td>
          <td>${a.asset_type ?? ''}</td><td>${a.site ?? ''}</td><td>${a.criticality ?? ''}</td>
          <td>${a.open_alerts ?? 0}</td><td><${Health} value=${a.health} /></td>
          <td>${a.prediction ? html`<span class=${`badge risk-${a.prediction.risk}`}>${a.prediction.risk}</span>` : html`<span class="muted">not scored</span>`}</td>
          <td>${a.prediction?.fails_30d == null ? '—' : `${Math.round(a.prediction.fails_30d * 100)} %`}</td></tr>`,
      )}</tbody>
    </table>
    <nav class="pager" aria-label="Pages">
      <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - limit))}>Previous</button>
      <span>${total ? `${offset + 1}–${Math.min(offset + limit, total)} of ${total}` : 'none'}</span>
      <button disabled=${offset + limit >= total} onClick=${() => setOffset(offset + limit)}>Next</button>
    </nav>
  </section>`;
}

function AlertActions({ alert, onDone }) {
  const [error, setError] = useState(null);
  if (!canEdit() || alert.status === 'resolved') return null;
  const act = async (status) => {
    const notes = prompt(`Notes for ${status === 'acknowledged' ? 'acknowledging' : 'resolving'} (optional)`) ?? '';
    try {
      await api('PATCH', `/alerts/${encodeURIComponent(alert.id)}`, { status, notes });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<span class="actions">
    ${alert.status === 'open' && html`<button onClick=${() => act('acknowledged')}>Acknowledge</button>`}
    <button onClick=${() => act('resolved')}>Resolve</button>
    <${Problem} error=${error} />
  </span>`;
}

function AlertTable({ items, reload }) {
  return html`<table>
    <thead><tr><th scope="col">Severity</th><th scope="col">Asset</th><th scope="col">Message</th><th scope="col">Status</th><th scope="col">Opened</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
    <tbody>${items.map(
      (a) => html`<tr key=${a.id} data-alert=${a.id}>
        <td><${Severity} level=${a.severity} /></td>
        <td><a href=${`#/assets/${encodeURIComponent(a.asset_id)}`}>${a.asset_id}</a></td>
        <td>${a.message}</td><td class="status">${a.status}</td><td>${time(a.opened_at)}</td>
        <td><${AlertActions} alert=${a} onDone=${reload} /></td></tr>`,
    )}</tbody>
  </table>`;
}

function Alerts() {
  const [status, setStatus] = useState('open');
  const list = useLoad(() => api('GET', `/alerts?limit=100&sort=-opened_at${status ? `&status=${status}` : ''}`), [status]);
  useEffect(() => subscribe('alerts', {}, () => list.reload()), [list.reload]);
  return html`<section aria-labelledby="alerts-title">
    <h1 id="alerts-title">Alerts</h1>
    <label>Status <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
      <option value="open">open</option><option value="acknowledged">acknowledged</option>
      <option value="resolved">resolved</option><option value="">any</option>
    </select></label>
    <button onClick=${() => downloadCsv(`/alerts?format=csv${status ? `&status=${status}` : ''}`, 'alerts.csv')}>Export CSV</button>
    <${Problem} error=${list.error} />
    <${AlertTable} items=${list.data?.items ?? []} reload=${list.reload} />
  </section>`;
}

const RANGES = [['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800], ['30d', 2592000], ['180d', 15552000]];

// One metric as an SVG: the min-max band and the mean line, thresholds of the rules that watch
// it as dashed lines. Drawn from arrays, never from markup strings.
function Chart({ name, data, thresholds }) {
  const w = 600, hgt = 140, pad = 4;
  const t = data.time;
  if (!t.length) return html`<figure class="chart"><figcaption>${name}</figcaption><p class="muted">no points in this range</p></figure>`;
  const values = [...data.min, ...data.max, ...thresholds.map((r) => r.threshold)].filter(Number.isFinite);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) { lo -= 1; hi += 1; }
  const t0 = t[0], t1 = t[t.length - 1] === t0 ? t0 + 1 : t[t.length - 1];
  const x = (v) => pad + ((v - t0) / (t1 - t0)) * (w - 2 * pad);
  const y = (v) => hgt - pad - ((v - lo) / (hi - lo)) * (hgt - 2 * pad);
  const line = t.map((v, i) => `${i ? 'L' : 'M'}${x(v).toFixed(1)},${y(data.mean[i]).toFixed(1)}`).join('');
  const band = t.map((v, i) => `${i ? 'L' : 'M'}${x(v).toFixed(1)},${y(data.max[i]).toFixed(1)}`).join('') +
    t.map((v, i) => `L${x(t[t.length - 1 - i]).toFixed(1)},${y(data.min[t.length - 1 - i]).toFixed(1)}`).join('') + 'Z';
  const last = data.mean[data.mean.length - 1];
  return html`<figure class="chart" data-chart=${name} data-points=${t.length}>
    <figcaption>${name} <span class="muted">last ${Number.isFinite(last) ? last : '—'} · range ${lo.toPrecision(4)}–${hi.toPrecision(4)}</span></figcaption>
    <svg viewBox=${`0 0 ${w} ${hgt}`} role="img" aria-label=${`${name} over the chosen range`} preserveAspectRatio="none">
      <path class="band" d=${band} />
      <path class="mean" d=${line} />
      ${thresholds.map((r) => html`<line class=${`threshold ${r.severity}`} x1="0" x2=${w} y1=${y(r.threshold)} y2=${y(r.threshold)}><title>${`${r.name}: ${r.operator} ${r.threshold}`}</title></line>`)}
    </svg>
  </figure>`;
}

function ruleApplies(rule, asset) {
  const s = rule.scope ?? {};
  return rule.enabled && (!s.asset_id || s.asset_id === asset.id) &&
    (!s.asset_type || s.asset_type === asset.asset_type) && (!s.site || s.site === asset.site);
}

function Charts({ asset, live }) {
  const [range, setRange] = useState(86400);
  const chart = useLoad(() => {
    const to = Date.now();
    return api('GET', `/assets/${encodeURIComponent(asset.id)}/chart?from=${to - range * 1000}&to=${to + 1000}&points=600`);
  }, [asset.id, range]);
  const rules = useLoad(() => api('GET', '/rules?enabled=true&limit=1000'), []);
  const series = { ...(chart.data?.series ?? {}) };
  // Live points extend the charts until the next load.
  for (const [metric, v] of Object.entries(live)) {
    if (!Number.isFinite(v.value)) continue;
    const s = series[metric] ?? { time: [], mean: [], min: [], max: [] };
    const at = Date.parse(v.time);
    if (s.time.length && at <= s.time[s.time.length - 1]) continue;
    series[metric] = { time: [...s.time, at], mean: [...s.mean, v.value], min: [...s.min, v.value], max: [...s.max, v.value] };
  }
  const applying = (rules.data?.items ?? []).filter((r) => ruleApplies(r, asset));
  return html`<div>
    <div class="ranges" role="group" aria-label="Range">${RANGES.map(
      ([label, seconds]) => html`<button aria-pressed=${range === seconds} onClick=${() => setRange(seconds)}>${label}</button>`,
    )}</div>
    <${Problem} error=${chart.error} />
    <div class="charts">${Object.keys(series).sort().map(
      (m) => html`<${Chart} key=${m} name=${m} data=${series[m]} thresholds=${applying.filter((r) => r.metric === m)} />`,
    )}</div>
  </div>`;
}

function Asset({ id }) {
  const asset = useLoad(() => api('GET', `/assets/${encodeURIComponent(id)}`), [id]);
  const alerts = useLoad(() => api('GET', `/alerts?limit=20&sort=-opened_at&asset_id=${encodeURIComponent(id)}`), [id]);
  const [latest, setLatest] = useState({});
  const [readingsLive, setReadingsLive] = useState(false);
  useEffect(() => {
    setLatest({});
    setReadingsLive(false);
    return subscribe('readings', { asset_id: id }, (m) => setLatest((l) => ({ ...l, ...m.metrics })),
      () => setReadingsLive(true));
  }, [id]);
  if (asset.error) return html`<section><h1>Asset</h1><${Problem} error=${asset.error} /></section>`;
  const a = asset.data;
  return html`<section aria-labelledby="asset-title">
    <h1 id="asset-title">${a ? a.name || a.id : id}</h1>
    ${a && html`<dl class="facts">
      <dt>Id</dt><dd>${a.id}</dd><dt>Type</dt><dd>${a.asset_type ?? '—'}</dd>
      <dt>Site</dt><dd>${a.site ?? '—'}</dd><dt>Criticality</dt><dd>${a.criticality ?? '—'}</dd>
      <dt>Health</dt><dd><${Health} value=${a.health} /></dd></dl>`}
    <h2>Charts</h2>
    ${a && html`<${Charts} asset=${a} live=${latest} />`}
    <h2>Live readings <span class="muted">(updates as they arrive)</span></h2>
    <table class="readings" data-live=${readingsLive}><thead><tr><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">Time</th></tr></thead>
      <tbody>${Object.entries(latest).sort().map(
        ([k, v]) => html`<tr key=${k} data-metric=${k}><td>${k}</td><td>${v.value}</td><td>${time(v.time)}</td></tr>`,
      )}</tbody></table>
    <h2>Alerts</h2>
    <${AlertTable} items=${alerts.data?.items ?? []} reload=${alerts.reload} />
  </section>`;
}

const OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'];

function RuleForm({ onSaved }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const rule = {
      name: f.get('name'), metric: f.get('metric'), operator: f.get('operator'),
      threshold: Number(f.get('threshold')), severity: f.get('severity'), source: f.get('source'),
    };
    if (f.get('asset_type')) rule.scope = { asset_type: f.get('asset_type') };
    try {
      await api('POST', '/rules', rule);
      e.target.reset();
      setError(null);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="inline" onSubmit=${submit} aria-label="New rule">
    <label>Name <input name="name" required /></label>
    <label>Metric <input name="metric" required /></label>
    <label>Operator <select name="operator">${OPERATORS.map((o) => html`<option>${o}</option>`)}</select></label>
    <label>Threshold <input name="threshold" type="number" step="any" required /></label>
    <label>Source <select name="source"><option>raw</option><option>5m</option><option>1h</option><option>24h</option></select></label>
    <label>Severity <select name="severity"><option>warning</option><option>critical</option><option>info</option></select></label>
    <label>Asset type <input name="asset_type" /></label>
    <button type="submit">Create rule</button>
    <${Problem} error=${error} />
  </form>`;
}

function Rules() {
  const list = useLoad(() => api('GET', '/rules?limit=1000'), []);
  const [error, setError] = useState(null);
  const act = async (fn) => {
    try {
      await fn();
      setError(null);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const edit = canEdit();
  return html`<section aria-labelledby="rules-title">
    <h1 id="rules-title">Rules</h1>
    ${edit && html`<${RuleForm} onSaved=${list.reload} />`}
    <${Problem} error=${error || list.error} />
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">Condition</th><th scope="col">Scope</th><th scope="col">Severity</th><th scope="col">Enabled</th>${edit && html`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
      <tbody>${(list.data?.items ?? []).map(
        (r) => html`<tr key=${r.id} data-rule=${r.id}>
          <td>${r.name}</td>
          <td>${r.source === 'raw' ? '' : `${r.aggregate}(${r.source}) of `}${r.metric} ${r.operator} ${r.threshold}</td>
          <td>${Object.entries(r.scope ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'every asset'}</td>
          <td><${Severity} level=${r.severity} /></td><td>${r.enabled ? 'yes' : 'no'}</td>
          ${edit && html`<td class="actions">
            <button onClick=${() => act(() => api('PATCH', `/rules/${r.id}`, { enabled: !r.enabled }))}>${r.enabled ? 'Disable' : 'Enable'}</button>
            <button onClick=${() => confirm(`Delete rule ${r.name}?`) && act(() => api('DELETE', `/rules/${r.id}`))}>Delete</button>
          </td>`}</tr>`,
      )}</tbody>
    </table>
  </section>`;
}

// A CSV the API makes, saved through a Blob: a plain link cannot carry the bearer token.
async function downloadCsv(path, filename) {
  const r = await fetch(`/api/v1/tenants/${encodeURIComponent(currentSession().tenant)}${path}`, {
    headers: { Authorization: `Bearer ${currentToken()}` },
  });
  if (!r.ok) throw new Error(`export failed (${r.status})`);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}

function Cost() {
  const [days, setDays] = useState(365);
  const report = useLoad(() => api('GET', `/reports/cost-avoidance?days=${days}`), [days]);
  const r = report.data;
  const money = (v) => (v == null ? '—' : `${Math.round(v).toLocaleString()} ${r?.currency ?? ''}`);
  return html`<section aria-labelledby="cost-title">
    <h1 id="cost-title">Cost avoidance</h1>
    <label>Period <select value=${days} onChange=${(e) => setDays(Number(e.target.value))}>
      <option value="30">30 days</option><option value="90">90 days</option><option value="365">365 days</option></select></label>
    <button onClick=${() => downloadCsv(`/reports/cost-avoidance?days=${days}&format=csv`, 'cost-avoidance.csv')}>Export CSV</button>
    <${Problem} error=${report.error} />
    <div class="kpis">
      <${Kpi} id="avoided" label="Failures avoided" value=${r?.avoided_failures} />
      <${Kpi} id="gross" label="Unplanned cost avoided" value=${r && money(r.unplanned_cost_avoided)} />
      <${Kpi} id="planned" label="Planned work" value=${r && money(r.planned_cost)} />
      <${Kpi} id="net" label="Net savings" value=${r && money(r.net_savings)} />
      <${Kpi} id="failures" label="Failures" value=${r?.failures} />
      <${Kpi} id="failure_cost" label="Cost of failures" value=${r && money(r.failure_cost)} />
    </div>
    <h2>Interventions an alert warned of</h2>
    <table>
      <thead><tr><th scope="col">Work order</th><th scope="col">Asset</th><th scope="col">Criticality</th><th scope="col">Performed</th><th scope="col">Savings</th></tr></thead>
      <tbody>${(r?.interventions ?? []).map(
        (i) => html`<tr key=${i.maintenance_id}><td>${i.maintenance_id}</td>
          <td><a href=${`#/assets/${encodeURIComponent(i.asset_id)}`}>${i.asset_id}</a></td>
          <td>${i.criticality}</td><td>${time(i.performed_at)}</td><td>${money(i.savings)}</td></tr>`,
      )}</tbody>
    </table>
  </section>`;
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
  else page = html`<${Overview} />`;
  const link = (href, label) => html`<a href=${href} aria-current=${('#' + route).startsWith(href) && (href !== '#/' || route === '/') ? 'page' : undefined}>${label}</a>`;
  return html`<div class="shell">
    <header>
      <span class="brand">FORESIGHT</span>
      <nav aria-label="Main">${link('#/', 'Overview')}${link('#/assets', 'Assets')}${link('#/alerts', 'Alerts')}${link('#/rules', 'Rules')}${link('#/cost', 'Cost avoidance')}</nav>
      <span class=${`live ${live}`} role="status" aria-label=${`live feed ${live}`}>${live}</span>
      <label class="theme">Theme <select value=${theme} onChange=${(e) => setTheme(e.target.value)}>
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
