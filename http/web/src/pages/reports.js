// Reports: fleet trends and cost avoidance.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Chart, Kpi, Problem, downloadCsv, html, time, useLoad } from '../ui.js';

export function Cost() {
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


// The metric names and asset types the fleet has, for the Trends page's choices.
async function fleetChoices() {
  const [latest, assets] = await Promise.all([api('GET', '/readings/latest'), api('GET', '/assets?limit=1000')]);
  const metrics = [...new Set(latest.items.filter((r) => typeof r.value === 'number').map((r) => r.metric))].sort();
  const types = [...new Set(assets.items.map((a) => a.asset_type).filter(Boolean))].sort();
  return { metrics, types };
}

function TrendChart({ metric, scope, days }) {
  const query = `metric=${encodeURIComponent(metric)}&days=${days}${scope.type ? `&asset_type=${encodeURIComponent(scope.type)}` : ''}${scope.asset ? `&asset_id=${encodeURIComponent(scope.asset)}` : ''}`;
  const trend = useLoad(() => api('GET', `/reports/trends?${query}`), [query]);
  if (trend.error) return html`<${Problem} error=${trend.error} />`;
  const points = trend.data?.points ?? [];
  const data = {
    time: points.map((p) => Date.parse(p.date)),
    mean: points.map((p) => p.mean), min: points.map((p) => p.min), max: points.map((p) => p.max),
  };
  return html`<${Chart} name=${metric} data=${data} thresholds=${[]} />`;
}

export function Trends() {
  const choices = useLoad(fleetChoices, []);
  const [chosen, setChosen] = useState(null);
  const [scope, setScope] = useState({ type: '', asset: '' });
  const [days, setDays] = useState(30);
  const metrics = choices.data?.metrics ?? [];
  const shown = chosen ?? metrics.slice(0, 3);
  const toggle = (m) => setChosen(shown.includes(m) ? shown.filter((x) => x !== m) : [...shown, m]);
  return html`<section aria-labelledby="trends-title">
    <h1 id="trends-title">Trends</h1>
    <${Problem} error=${choices.error} />
    <div class="toolbar">
      <label>Asset type <select value=${scope.type} onChange=${(e) => setScope({ type: e.target.value, asset: '' })}>
        <option value="">the whole fleet</option>${(choices.data?.types ?? []).map((t) => html`<option>${t}</option>`)}</select></label>
      <label>Or one asset <input value=${scope.asset} placeholder="asset id" onChange=${(e) => setScope({ type: '', asset: e.target.value.trim() })} /></label>
      <label>Range <select value=${days} onChange=${(e) => setDays(Number(e.target.value))}>
        ${[7, 30, 90, 180, 365].map((d) => html`<option value=${d}>${d} days</option>`)}</select></label>
    </div>
    <fieldset><legend>Metrics</legend>${metrics.map((m) => html`<label><input type="checkbox" checked=${shown.includes(m)} onChange=${() => toggle(m)} /> ${m}</label>`)}</fieldset>
    <p class="muted">Daily mean with the day's lowest and highest, over every asset in the scope (from the daily rollups).</p>
    <div class="charts">${shown.map((m) => html`<${TrendChart} key=${m} metric=${m} scope=${scope} days=${days} />`)}</div>
  </section>`;
}
