// Alerts and the rules that raise them.
import { useEffect, useState } from 'preact/hooks';
import { api, canEdit } from '../api.js';
import { subscribe } from '../live.js';
import { Chart, Health, Kpi, Problem, RANGES, Severity, downloadCsv, html, time, useLoad } from '../ui.js';

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

// One alert's steps: who opened, acknowledged or resolved it, when, with what notes.
function AlertHistory({ alert }) {
  return html`<details class="history"><summary>History (${alert.history.length})</summary><ol>${alert.history.map(
    (h) => html`<li>${h.status} by ${h.by} · ${time(h.at)}${h.notes ? html` — <q>${h.notes}</q>` : ''}</li>`,
  )}</ol></details>`;
}

export function AlertTable({ items, reload }) {
  return html`<table>
    <thead><tr><th scope="col">Severity</th><th scope="col">Asset</th><th scope="col">Message</th><th scope="col">Status</th><th scope="col">Opened</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
    <tbody>${items.map(
      (a) => html`<tr key=${a.id} data-alert=${a.id}>
        <td><${Severity} level=${a.severity} /></td>
        <td><a href=${`#/assets/${encodeURIComponent(a.asset_id)}`}>${a.asset_id}</a></td>
        <td>${a.message}<${AlertHistory} alert=${a} /></td><td class="status">${a.status}</td><td>${time(a.opened_at)}</td>
        <td><${AlertActions} alert=${a} onDone=${reload} /></td></tr>`,
    )}</tbody>
  </table>`;
}

export function Alerts() {
  const [status, setStatus] = useState('open');
  const [severity, setSeverity] = useState('');
  const [asset, setAsset] = useState('');
  const filter = `${status ? `&status=${status}` : ''}${severity ? `&severity=${severity}` : ''}${asset ? `&asset_id=${encodeURIComponent(asset)}` : ''}`;
  const list = useLoad(() => api('GET', `/alerts?limit=100&sort=-opened_at${filter}`), [filter]);
  useEffect(() => subscribe('alerts', {}, () => list.reload()), [list.reload]);
  return html`<section aria-labelledby="alerts-title">
    <h1 id="alerts-title">Alerts</h1>
    <div class="toolbar">
      <label>Status <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="open">open</option><option value="acknowledged">acknowledged</option>
        <option value="resolved">resolved</option><option value="">any</option>
      </select></label>
      <label>Severity <select value=${severity} onChange=${(e) => setSeverity(e.target.value)}>
        <option value="">any</option><option>critical</option><option>warning</option><option>info</option></select></label>
      <label>Asset <input value=${asset} placeholder="asset id" onChange=${(e) => setAsset(e.target.value.trim())} /></label>
      <button onClick=${() => downloadCsv(`/alerts?format=csv${filter}`, 'alerts.csv')}>Export CSV</button>
    </div>
    <${Problem} error=${list.error} />
    <p class="muted">${list.data ? `${list.data.total} alerts` : ''}</p>
    <${AlertTable} items=${list.data?.items ?? []} reload=${list.reload} />
  </section>`;
}

const OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'];

// Creates a rule, or with `rule` edits it (only the fields that changed are sent).
function RuleForm({ rule, onSaved, onCancel }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const change = {
      name: f.get('name'), metric: f.get('metric'), operator: f.get('operator'),
      threshold: Number(f.get('threshold')), severity: f.get('severity'), source: f.get('source'),
      for_seconds: Number(f.get('for_seconds') || 0), cooldown_seconds: Number(f.get('cooldown_seconds') || 0),
    };
    if (change.source !== 'raw') change.aggregate = f.get('aggregate');
    const scope = {};
    for (const k of ['asset_type', 'site', 'asset_id']) if (f.get(k)) scope[k] = f.get(k);
    change.scope = scope;
    try {
      if (rule) {
        const sent = {};
        for (const [k, v] of Object.entries(change)) if (JSON.stringify(v) !== JSON.stringify(rule[k] ?? (k === 'scope' ? {} : undefined))) sent[k] = v;
        await api('PATCH', `/rules/${encodeURIComponent(rule.id)}`, sent);
      } else {
        await api('POST', '/rules', change);
        e.target.reset();
      }
      setError(null);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const r = rule ?? {};
  const sc = r.scope ?? {};
  return html`<form class="inline" onSubmit=${submit} aria-label=${rule ? `Edit rule ${rule.name}` : 'New rule'} data-editing=${rule?.id}>
    <label>Name <input name="name" required value=${r.name} /></label>
    <label>Metric <input name="metric" required value=${r.metric} /></label>
    <label>Operator <select name="operator" value=${r.operator}>${OPERATORS.map((o) => html`<option>${o}</option>`)}</select></label>
    <label>Threshold <input name="threshold" type="number" step="any" required value=${r.threshold} /></label>
    <label>Source <select name="source" value=${r.source}><option>raw</option><option>5m</option><option>1h</option><option>24h</option></select></label>
    <label>Aggregate <select name="aggregate" value=${r.aggregate}><option>mean</option><option>min</option><option>max</option><option>stddev</option><option>count</option></select></label>
    <label>Severity <select name="severity" value=${r.severity}><option>warning</option><option>critical</option><option>info</option></select></label>
    <label>For (s) <input name="for_seconds" type="number" min="0" value=${r.for_seconds ?? 0} /></label>
    <label>Cooldown (s) <input name="cooldown_seconds" type="number" min="0" value=${r.cooldown_seconds ?? 0} /></label>
    <label>Asset type <input name="asset_type" value=${sc.asset_type} /></label>
    <label>Site <input name="site" value=${sc.site} /></label>
    <label>Asset <input name="asset_id" value=${sc.asset_id} /></label>
    <button type="submit">${rule ? 'Save rule' : 'Create rule'}</button>
    ${rule && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
    <${Problem} error=${error} />
  </form>`;
}

export function Rules() {
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
  const [editing, setEditing] = useState(null);
  return html`<section aria-labelledby="rules-title">
    <h1 id="rules-title">Rules</h1>
    ${edit && !editing && html`<${RuleForm} onSaved=${list.reload} />`}
    ${edit && editing && html`<${RuleForm} key=${editing.id} rule=${editing} onCancel=${() => setEditing(null)}
      onSaved=${() => { setEditing(null); list.reload(); }} />`}
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
            <button onClick=${() => setEditing(r)}>Edit</button>
            <button onClick=${() => act(() => api('PATCH', `/rules/${r.id}`, { enabled: !r.enabled }))}>${r.enabled ? 'Disable' : 'Enable'}</button>
            <button onClick=${() => confirm(`Delete rule ${r.name}?`) && act(() => api('DELETE', `/rules/${r.id}`))}>Delete</button>
          </td>`}</tr>`,
      )}</tbody>
    </table>
  </section>`;
}

