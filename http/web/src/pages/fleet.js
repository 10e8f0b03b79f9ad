// The fleet: the Overview, the asset list and one asset's page.
import { useEffect, useState } from 'preact/hooks';
import { api, canEdit } from '../api.js';
import { subscribe } from '../live.js';
import { Chart, Health, Kpi, Problem, RANGES, Severity, Spark, downloadCsv, html, percent, time, useAction, useLoad } from '../ui.js';
import { AlertTable } from './alerts.js';

export function Overview() {
  const summary = useLoad(() => api('GET', '/reports/fleet'), []);
  // Cost avoided this month: the days since the 1st (UTC), today included.
  const monthDays = new Date().getUTCDate();
  const cost = useLoad(() => api('GET', `/reports/cost-avoidance?days=${monthDays}`), []);
  // The assets at highest risk by their latest prediction; by alert health before any model.
  const risky = useLoad(async () => {
    const scored = await api('GET', '/assets?sort=-fails_30d&limit=8');
    if (scored.items.some((a) => a.prediction)) return { ...scored, by: 'risk' };
    return { ...(await api('GET', '/assets?sort=health&limit=8')), by: 'health' };
  }, []);
  const history = useLoad(() => api('GET', '/reports/history?days=30'), []);
  const [feed, setFeed] = useState([]);
  const [feedLive, setFeedLive] = useState(false);
  const [feedLoaded, setFeedLoaded] = useState(false);
  useEffect(() => {
    // The first page may answer after live alerts arrived: it joins them rather than replacing.
    api('GET', '/alerts?limit=10&sort=-opened_at').then((r) => {
      setFeed((f) => joinFeed(f, r.items));
      setFeedLoaded(true);
    }, () => {});
    return subscribe('alerts', {}, (m) => {
      setFeed((f) => joinFeed([m.alert], f));
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
      <${Kpi} id="warning" label="Warning" value=${s?.open_alerts.warning} />
      <${Kpi} id="fleet_health" label="Fleet health" value=${s && html`<${Gauge} value=${s.fleet_health} />`} />
      <${Kpi} id="net_savings" label=${`Saved this month (${cost.data?.currency ?? ''})`}
        value=${cost.data ? Math.round(cost.data.net_savings).toLocaleString() : null} />
    </div>
    <${Trends30} days=${history.data?.days} error=${history.error} />
    <div class="columns">
      <div>
        <h2>${risky.data?.by === 'risk' ? 'Highest risk' : 'Lowest health'}</h2>
        <table data-by=${risky.data?.by}>
          <thead><tr><th scope="col">Asset</th><th scope="col">Type</th><th scope="col">Health</th><th scope="col">Risk</th></tr></thead>
          <tbody>${(risky.data?.items ?? []).map(
            (a) => html`<tr key=${a.id}><td><a href=${`#/assets/${encodeURIComponent(a.id)}`}>${a.name || a.id}</a></td><td>${a.asset_type ?? ''}</td><td><${Health} value=${a.health} /></td>
              <td>${a.prediction ? html`<span class=${`badge risk-${a.prediction.risk}`}>${a.prediction.risk}</span> ${percent(a.prediction.fails_30d)}` : html`<span class="muted">not scored</span>`}</td></tr>`,
          )}</tbody>
        </table>
      </div>
      <div>
        <h2>Live alerts</h2>
        <ul class="feed" aria-live="polite" data-live=${feedLive} data-loaded=${feedLoaded}>${feed.map(
          (a) => html`<li key=${a.id}><${Severity} level=${a.severity} /> <a href=${`#/assets/${encodeURIComponent(a.asset_id)}`}>${a.asset_id}</a> ${a.message} <span class="muted">${a.status} · ${time(a.opened_at)}</span></li>`,
        )}</ul>
      </div>
    </div>
  </section>`;
}

// The newest 20 of both lists by opening time; an alert in `fresh` replaces its older copy.
function joinFeed(fresh, older) {
  const ids = new Set(fresh.map((a) => a.id));
  return [...fresh, ...older.filter((a) => !ids.has(a.id))]
    .sort((a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at))
    .slice(0, 20);
}

// Fleet health 0..100 as a half-circle gauge, with the number beside it.
function Gauge({ value }) {
  if (value == null) return '—';
  const v = Math.max(0, Math.min(100, value)), a = Math.PI * (1 - v / 100);
  const tone = v < 60 ? 'bad' : v < 85 ? 'fair' : 'good';
  return html`<span class="gauge"><svg viewBox="0 0 64 36" aria-hidden="true">
    <path class="track" d="M6,32 A26,26 0 0 1 58,32" />
    <path class=${`fill ${tone}`} d=${`M6,32 A26,26 0 0 1 ${(32 + 26 * Math.cos(a)).toFixed(2)},${(32 - 26 * Math.sin(a)).toFixed(2)}`} />
  </svg><span>${value}</span></span>`;
}

// The last 30 days from the fleet history: health and assets at risk as each day's scoring found
// them, alerts opened by severity, failures and maintenance.
function Trends30({ days, error }) {
  if (error) return html`<${Problem} error=${error} />`;
  if (!days) return null;
  const dates = days.map((d) => d.date);
  const pick = (f) => days.map(f);
  return html`<div class="sparks" aria-label="The last 30 days">
    <${Spark} id="fleet_health" label="Fleet health" dates=${dates} line=${true}
      series=${[{ values: pick((d) => d.fleet_health) }]} />
    <${Spark} id="at_risk" label="Assets at risk" dates=${dates} line=${true}
      series=${[{ values: pick((d) => d.assets_at_risk), cls: 'bad' }]} />
    <${Spark} id="alerts_opened" label="Alerts opened" dates=${dates} series=${[
      { label: 'critical', cls: 'critical', values: pick((d) => d.alerts_opened.critical) },
      { label: 'warning', cls: 'warning', values: pick((d) => d.alerts_opened.warning) },
      { label: 'info', cls: 'info', values: pick((d) => d.alerts_opened.info) }]} />
    <${Spark} id="work" label="Failures and maintenance" dates=${dates} series=${[
      { label: 'failures', cls: 'failure', values: pick((d) => d.failures) },
      { label: 'maintenance', cls: 'maintenance', values: pick((d) => d.maintenance) }]} />
  </div>`;
}

const ASSET_FILTERS = [
  ['asset_type', 'Type'], ['site', 'Site'], ['criticality', 'Criticality'], ['status', 'Status'],
];

export function Assets() {
  const [q, setQ] = useState('');
  const [risk, setRisk] = useState('');
  const [sort, setSort] = useState('id');
  const [offset, setOffset] = useState(0);
  const [filters, setFilters] = useState({});
  const limit = 25;
  // The filters' choices: the values the first thousand assets have.
  const choices = useLoad(async () => {
    const all = (await api('GET', '/assets?limit=1000')).items;
    return Object.fromEntries(ASSET_FILTERS.map(([k]) => [k, [...new Set(all.map((a) => a[k] ?? (k === 'status' ? 'active' : null)).filter(Boolean))].sort()]));
  }, []);
  const filter = Object.entries(filters).filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('') +
    (risk ? `&risk=${risk}` : '') + (q ? `&q=${encodeURIComponent(q)}` : '');
  const list = useLoad(() => api('GET', `/assets?limit=${limit}&offset=${offset}&sort=${sort}${filter}`), [filter, offset, sort]);
  const total = list.data?.total ?? 0;
  return html`<section aria-labelledby="assets-title">
    <h1 id="assets-title">Assets</h1>
    <div class="toolbar">
      <label class="search">Search <input type="search" value=${q} onInput=${(e) => { setQ(e.target.value); setOffset(0); }} /></label>
      ${ASSET_FILTERS.map(([k, label]) => html`<label>${label} <select value=${filters[k] ?? ''} onChange=${(e) => { setFilters({ ...filters, [k]: e.target.value }); setOffset(0); }}>
        <option value="">any</option>${(choices.data?.[k] ?? []).map((v) => html`<option>${v}</option>`)}</select></label>`)}
      <label>Risk <select value=${risk} onChange=${(e) => { setRisk(e.target.value); setOffset(0); }}>
        <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
      <label>Sort <select value=${sort} onChange=${(e) => setSort(e.target.value)}>
        <option value="id">id</option><option value="name">name</option><option value="health">health, lowest first</option>
        <option value="-risk">risk, highest first</option><option value="-fails_30d">30-day failure chance</option></select></label>
      <button onClick=${() => downloadCsv(`/assets?format=csv${filter}`, 'assets.csv')}>Export CSV</button>
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
          <td>${percent(a.prediction?.fails_30d)}</td></tr>`,
      )}</tbody>
    </table>
    <nav class="pager" aria-label="Pages">
      <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - limit))}>Previous</button>
      <span>${total ? `${offset + 1}–${Math.min(offset + limit, total)} of ${total}` : 'none'}</span>
      <button disabled=${offset + limit >= total} onClick=${() => setOffset(offset + limit)}>Next</button>
    </nav>
  </section>`;
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

export function Asset({ id }) {
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
    <h2>Rolling windows <span class="muted">(kept live by ingest)</span></h2>
    <${Windows} id=${id} />
    <h2>Prediction</h2>
    <${AssetPrediction} id=${id} />
    <h2>Alerts</h2>
    <${AlertTable} items=${alerts.data?.items ?? []} reload=${alerts.reload} />
    <h2>Maintenance</h2>
    <${Maintenance} id=${id} />
  </section>`;
}

// Reloaded as readings arrive, at most every 5 s.
function Windows({ id }) {
  const w = useLoad(() => api('GET', `/assets/${encodeURIComponent(id)}/windows`), [id]);
  useEffect(() => {
    let last = 0;
    return subscribe('readings', { asset_id: id }, () => {
      if (Date.now() - last < 5000) return;
      last = Date.now();
      w.reload();
    });
  }, [id, w.reload]);
  const spans = ['5m', '1h', '24h'];
  const fmt = (x) => (x.count ? `${Number(x.mean.toPrecision(4))} (${Number(x.min.toPrecision(4))}–${Number(x.max.toPrecision(4))})` : '—');
  return html`<${Problem} error=${w.error} />
    <table class="windows"><thead><tr><th scope="col">Metric</th>${spans.map((s) => html`<th scope="col">${s} mean (min–max)</th>`)}</tr></thead>
      <tbody>${(w.data?.items ?? []).map((m) => html`<tr key=${m.metric}><td>${m.metric}</td>${spans.map((s) => html`<td>${fmt(m.windows[s])}</td>`)}</tr>`)}</tbody></table>`;
}

const STATS = { mean: 'mean', std: 'spread', min: 'lowest', max: 'highest', slope: 'trend per day' };

// A model's top factor in words: "temp: 30-day highest is 81.2, which raises the risk".
export function factorText(f) {
  const [metric, stat] = f.feature.includes('.') ? [f.feature.slice(0, f.feature.lastIndexOf('.')), f.feature.slice(f.feature.lastIndexOf('.') + 1)] : ['', f.feature];
  let what = stat.replaceAll('_', ' ');
  const m = /^(mean|std|min|max|slope)_(\d+)d$/.exec(stat);
  if (m) what = `${m[2]}-day ${STATS[m[1]]}`;
  else if (stat === 'last') what = 'latest value';
  else if (stat === 'delta_30d') what = '30-day mean above its baseline';
  else if (stat === 'delta_30d_per_day') what = 'drift from its baseline per day';
  const value = f.value == null ? 'missing' : Number(f.value.toPrecision(4));
  const effect = (f.contribution ?? 0) >= 0 ? 'raises the risk' : 'lowers the risk';
  return `${metric ? `${metric}: ` : ''}${what} is ${value}, which ${effect}`;
}

function AssetPrediction({ id }) {
  const history = useLoad(() => api('GET', `/assets/${encodeURIComponent(id)}/predictions?limit=90`), [id]);
  if (history.error) return html`<${Problem} error=${history.error} />`;
  const items = history.data?.items ?? [];
  if (!items.length) return html`<p class="muted">Not scored yet: models score the fleet once a day, or on demand on the Predictions page.</p>`;
  const p = items[0];
  const old = [...items].reverse();
  return html`<div class="columns">
    <div class="card" data-prediction=${p.risk}>
      <h3><span class=${`badge risk-${p.risk}`}>${p.risk}</span> risk · health ${p.health}</h3>
      <p>Fails within 7 days: ${percent(p.fails_7d)} · within 30 days: ${percent(p.fails_30d)} · remaining life: ${p.rul_days == null ? '—' : `${Math.round(p.rul_days)} days`}</p>
      <p class="muted">Scored ${time(p.scored_at)} on data to ${time(p.as_of)}</p>
      <ul class="factors">${p.factors.map((f) => html`<li>${factorText(f)}</li>`)}</ul>
    </div>
    <${Spark} id="asset_health" label="Predicted health" line=${true} dates=${old.map((x) => x.scored_at.slice(0, 10))}
      series=${[{ values: old.map((x) => x.health) }]} />
  </div>`;
}

const KINDS = ['preventive', 'corrective', 'inspection', 'failure'];

function Maintenance({ id }) {
  const list = useLoad(() => api('GET', `/maintenance?asset_id=${encodeURIComponent(id)}&limit=100`), [id]);
  const [run, error] = useAction(list.reload);
  const [imported, setImported] = useState(null);
  const add = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const record = { asset_id: id, kind: f.get('kind'), performed_at: new Date(f.get('performed_at')).toISOString() };
    if (f.get('cost')) record.cost = Number(f.get('cost'));
    if (f.get('notes')) record.notes = f.get('notes');
    run(async () => {
      await api('POST', '/maintenance', record);
      e.target.reset();
    });
  };
  const importCsv = (e) => {
    const file = e.target.files[0];
    if (!file) return;
    run(async () => {
      try {
        setImported(await api('POST', '/maintenance/import', await file.text(), 'text/csv'));
      } catch (err) {
        if (err.body?.imported != null) setImported(err.body);
        throw err;
      } finally {
        e.target.value = '';
      }
    });
  };
  const items = [...(list.data?.items ?? [])].sort((a, b) => (a.performed_at < b.performed_at ? 1 : -1));
  return html`<div>
    ${canEdit() && html`<form class="inline" onSubmit=${add} aria-label="New maintenance record">
      <label>Kind <select name="kind">${KINDS.map((k) => html`<option>${k}</option>`)}</select></label>
      <label>Performed <input name="performed_at" type="datetime-local" required /></label>
      <label>Cost <input name="cost" type="number" step="any" min="0" /></label>
      <label>Notes <input name="notes" /></label>
      <button type="submit">Add record</button>
      <label>Import work orders (CSV: SAP PM, Maximo or native) <input type="file" accept=".csv,text/csv" onChange=${importCsv} /></label>
    </form>`}
    <${Problem} error=${error || list.error} />
    ${imported && html`<p role="status" data-imported=${imported.imported}>Imported ${imported.imported} records${imported.rejected?.length ? `; ${imported.rejected.length} rows refused` : ''}.</p>`}
    <table><thead><tr><th scope="col">Performed</th><th scope="col">Kind</th><th scope="col">Cost</th><th scope="col">Downtime (h)</th><th scope="col">Notes</th></tr></thead>
      <tbody>${items.map((m) => html`<tr key=${m.id} data-maintenance=${m.id}><td>${time(m.performed_at)}</td><td>${m.kind}</td><td>${m.cost ?? '—'}</td><td>${m.downtime_hours ?? '—'}</td><td>${m.notes ?? ''}</td></tr>`)}</tbody></table>
  </div>`;
}

