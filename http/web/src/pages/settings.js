// Settings: the tenant, its cost model and risk threshold; for admins the people who sign in,
// API tokens, webhooks with their delivery status, and the audit log. The server checks every
// role again; these pages only leave out what a role cannot do.
import { useState } from 'preact/hooks';
import { api, isAdmin } from '../api.js';
import { Problem, html, time, useAction, useLoad } from '../ui.js';

const CRITICALITIES = ['low', 'medium', 'high', 'critical'];
const TIERS = [['raw', 'Raw points'], ['minute', 'Minute rollups'], ['hour', 'Hourly rollups'], ['day', 'Daily rollups']];

function ReportSettings() {
  const settings = useLoad(() => api('GET', '/settings'), []);
  const [run, error] = useAction(settings.reload);
  const [saved, setSaved] = useState(false);
  const s = settings.data;
  const admin = isAdmin();
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const costs = {};
    for (const c of CRITICALITIES) costs[c] = Number(f.get(`cost_${c}`));
    setSaved(false);
    run(async () => {
      await api('PUT', '/settings', {
        cost_model: {
          currency: f.get('currency'), unplanned_failure_cost: costs,
          planned_to_unplanned_ratio: Number(f.get('ratio')), lookback_days: Number(f.get('lookback')),
        },
        risk: { at_risk_below_health: Number(f.get('at_risk')) },
        // Left empty, a tier follows the server's [retention] default.
        retention: Object.fromEntries(TIERS.map(([t]) => [t, f.get(`keep_${t}`).trim() || null])),
      });
      setSaved(true);
    });
  };
  if (!s) return html`<${Problem} error=${settings.error} />`;
  const cm = s.cost_model;
  return html`<form onSubmit=${submit} aria-label="Cost and risk settings">
    <fieldset disabled=${!admin}>
      <legend>Cost model and risk ${admin ? '' : '(admins change these)'}</legend>
      <label>Currency <input name="currency" value=${cm.currency} required /></label>
      ${CRITICALITIES.map((c) => html`<label>Unplanned failure, ${c} <input name=${`cost_${c}`} type="number" min="0" step="any" value=${cm.unplanned_failure_cost[c]} /></label>`)}
      <label>Planned job / failure cost <input name="ratio" type="number" min="0" max="1" step="any" value=${cm.planned_to_unplanned_ratio} /></label>
      <label>Alert look-back (days) <input name="lookback" type="number" min="1" max="365" value=${cm.lookback_days} /></label>
      <label>At risk below health <input name="at_risk" type="number" min="0" max="100" step="any" value=${s.risk.at_risk_below_health} /></label>
    </fieldset>
    <fieldset disabled=${!admin}>
      <legend>Retention: how long data is kept</legend>
      <p class="muted">A period such as 90d (s, m, h, d or w) or forever; empty follows the server's default.</p>
      ${TIERS.map(([t, label]) => html`<label>${label} <input name=${`keep_${t}`} value=${s.retention[t] ?? ''}
        pattern="forever|[1-9][0-9]*[smhdw]" placeholder="server default" aria-describedby=${`applied_${t}`} />
        <span class="muted" id=${`applied_${t}`} data-applied=${t}>kept ${s.retention_applied[t]}</span></label>`)}
      ${admin && html`<button type="submit">Save settings</button>`}
    </fieldset>
    <${Problem} error=${error} />
    ${saved && html`<p role="status">Saved.</p>`}
  </form>`;
}

function Users() {
  const users = useLoad(() => api('GET', '/users'), []);
  const [run, error] = useAction(users.reload);
  const [created, setCreated] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const user = { username: f.get('username'), display_name: f.get('display_name'), role: f.get('role') };
    run(async () => {
      setCreated(await api('POST', '/users', user));
      e.target.reset();
    });
  };
  const path = (u) => `/users/${encodeURIComponent(u.username)}`;
  return html`<div>
    <form class="inline" onSubmit=${submit} aria-label="New user">
      <label>Username <input name="username" required /></label>
      <label>Display name <input name="display_name" /></label>
      <label>Role <select name="role"><option>viewer</option><option>engineer</option><option>admin</option></select></label>
      <button type="submit">Create user</button>
    </form>
    <${Problem} error=${error || users.error} />
    ${created?.password && html`<p role="status">Password for ${created.username}, shown once: <span class="secret">${created.password}</span></p>`}
    <table><thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Last sign-in</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(users.data?.items ?? []).map((u) => html`<tr key=${u.username} data-user=${u.username}>
        <td>${u.username}</td><td>${u.display_name}</td><td>${u.role}</td><td>${time(u.last_login_at)}</td>
        <td>${u.disabled ? 'disabled' : 'active'}</td>
        <td class="actions"><button onClick=${() => run(() => api('PATCH', path(u), { disabled: !u.disabled }))}>${u.disabled ? 'Enable' : 'Disable'}</button>
          <button onClick=${() => confirm(`Delete user ${u.username}?`) && run(() => api('DELETE', path(u)))}>Delete</button></td>
      </tr>`)}</tbody></table>
  </div>`;
}

function Tokens() {
  const tokens = useLoad(() => api('GET', '/tokens'), []);
  const [run, error] = useAction(tokens.reload);
  const [created, setCreated] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    run(async () => {
      setCreated(await api('POST', '/tokens', { name: f.get('name'), scope: f.get('scope') }));
      e.target.reset();
    });
  };
  return html`<div>
    <form class="inline" onSubmit=${submit} aria-label="New token">
      <label>Name <input name="name" required placeholder="gateway-3" /></label>
      <label>Scope <select name="scope">
        <option value="write">write: gateways (InfluxDB writes, JSON readings, remote write)</option>
        <option value="read">read: Grafana and the query APIs (InfluxQL, Prometheus)</option>
      </select></label>
      <button type="submit">Create token</button>
    </form>
    <${Problem} error=${error || tokens.error} />
    ${created && html`<p role="status">Token ${created.name}, shown once: <span class="secret" data-token=${created.id}>${created.token}</span></p>`}
    <table><thead><tr><th scope="col">Name</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">Revoked</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(tokens.data?.items ?? []).map((t) => html`<tr key=${t.id} data-token-row=${t.id}>
        <td>${t.name}</td><td>${t.scope}</td><td>${time(t.created_at)}</td><td>${t.revoked_at ? time(t.revoked_at) : '—'}</td>
        <td>${!t.revoked_at && html`<button onClick=${() => confirm(`Revoke ${t.name}?`) && run(() => api('DELETE', `/tokens/${encodeURIComponent(t.id)}`))}>Revoke</button>`}</td>
      </tr>`)}</tbody></table>
  </div>`;
}

function Webhooks() {
  const hooks = useLoad(() => api('GET', '/webhooks?limit=1000'), []);
  const [run, error] = useAction(hooks.reload);
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const hook = { name: f.get('name'), url: f.get('url'), format: f.get('format'), min_severity: f.get('min_severity') };
    if (f.get('secret')) hook.secret = f.get('secret');
    run(async () => {
      await api('POST', '/webhooks', hook);
      e.target.reset();
    });
  };
  const delivery = (s) => `${s.delivered} delivered, ${s.failed} failed, ${s.pending} pending${s.last_http_status ? ` · last HTTP ${s.last_http_status}` : ''}${s.last_error ? ` · ${s.last_error}` : ''}`;
  return html`<div>
    <form class="inline" onSubmit=${submit} aria-label="New webhook">
      <label>Name <input name="name" required /></label>
      <label>URL <input name="url" type="url" required /></label>
      <label>Format <select name="format"><option>json</option><option>slack</option></select></label>
      <label>From severity <select name="min_severity"><option>warning</option><option>critical</option><option>info</option></select></label>
      <label>Signing secret <input name="secret" type="password" autocomplete="new-password" /></label>
      <button type="submit">Add webhook</button>
    </form>
    <${Problem} error=${error || hooks.error} />
    <table><thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Delivery</th><th scope="col">Enabled</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${(hooks.data?.items ?? []).map((w) => html`<tr key=${w.id} data-webhook=${w.id}>
        <td>${w.name}</td><td>${w.url}</td><td>${delivery(w.status)}<br /><span class="muted">last success ${time(w.status.last_success_at)}</span></td>
        <td>${w.enabled === false ? 'no' : 'yes'}</td>
        <td class="actions"><button onClick=${() => run(() => api('PATCH', `/webhooks/${encodeURIComponent(w.id)}`, { enabled: w.enabled === false }))}>${w.enabled === false ? 'Enable' : 'Disable'}</button>
          <button onClick=${() => confirm(`Delete webhook ${w.name}?`) && run(() => api('DELETE', `/webhooks/${encodeURIComponent(w.id)}`))}>Delete</button></td>
      </tr>`)}</tbody></table>
  </div>`;
}

function Audit() {
  const audit = useLoad(() => api('GET', '/audit?limit=50'), []);
  return html`<div>
    <${Problem} error=${audit.error} />
    <table><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Request</th><th scope="col">Status</th></tr></thead>
      <tbody>${(audit.data?.items ?? []).map((a) => html`<tr key=${a.id}><td>${time(a.time)}</td><td>${a.actor} <span class="muted">${a.role}</span></td>
        <td><code>${a.method} ${a.path}</code></td><td>${a.status}</td></tr>`)}</tbody></table>
  </div>`;
}

export function Settings() {
  const tenant = useLoad(() => api('GET', ''), []);
  const admin = isAdmin();
  return html`<section aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <${Problem} error=${tenant.error} />
    ${tenant.data && html`<dl class="facts"><dt>Tenant</dt><dd>${tenant.data.id}</dd>
      <dt>Assets</dt><dd>${tenant.data.assets}</dd><dt>Series</dt><dd>${tenant.data.asset_series}</dd>
      <dt>Signed in as</dt><dd>${tenant.data.you.subject} (${tenant.data.you.role})</dd></dl>`}
    <h2>Cost and risk</h2>
    <${ReportSettings} />
    ${admin && html`
      <h2>Users</h2><${Users} />
      <h2>API tokens <span class="muted">(write tokens for gateways, read tokens for Grafana)</span></h2><${Tokens} />
      <h2>Webhooks</h2><${Webhooks} />
      <h2>Audit log <span class="muted">(the latest 50 changes)</span></h2><${Audit} />`}
  </section>`;
}
