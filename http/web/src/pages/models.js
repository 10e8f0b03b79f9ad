// Predictions: the fleet's kept latest predictions, scoring on demand, the model registry
// (champions, challengers, promote and roll back) and training runs with their progress.
import { useEffect, useState } from 'preact/hooks';
import { api, canEdit } from '../api.js';
import { Problem, html, percent, time, useAction, useLoad } from '../ui.js';
import { factorText } from './fleet.js';

function PredictionRow({ p }) {
  return html`<tr data-asset=${p.asset_id}>
    <td><a href=${`#/assets/${encodeURIComponent(p.asset_id)}`}>${p.asset_id}</a></td>
    <td><span class=${`badge risk-${p.risk}`}>${p.risk}</span></td>
    <td>${percent(p.fails_7d)}</td><td>${percent(p.fails_30d)}</td>
    <td>${p.rul_days == null ? '—' : Math.round(p.rul_days)}</td><td>${p.health}</td>
    <td>${p.factors?.[0] ? factorText(p.factors[0]) : '—'}</td><td>${time(p.scored_at)}</td>
  </tr>`;
}

const PREDICTION_HEAD = html`<thead><tr><th scope="col">Asset</th><th scope="col">Risk</th><th scope="col">Fails in 7 days</th>
  <th scope="col">In 30 days</th><th scope="col">Life left (days)</th><th scope="col">Health</th><th scope="col">Top factor</th><th scope="col">Scored</th></tr></thead>`;

// Scores one asset now with the champions; the answer is shown, not kept.
function ScoreNow() {
  const [scored, setScored] = useState(null);
  const [run, error] = useAction();
  const submit = (e) => {
    e.preventDefault();
    const id = new FormData(e.target).get('asset_id').trim();
    run(async () => setScored((await api('POST', '/predict', { asset_id: id })).predictions));
  };
  return html`<div>
    <form class="inline" onSubmit=${submit} aria-label="Score an asset">
      <label>Asset <input name="asset_id" required /></label>
      <button type="submit">Score now</button>
    </form>
    <${Problem} error=${error} />
    ${scored && html`<table data-scored="true">${PREDICTION_HEAD}<tbody>${scored.map((p) => html`<${PredictionRow} key=${p.asset_id} p=${p} />`)}</tbody></table>`}
  </div>`;
}

function metricsText(m) {
  const x = m.metrics ?? {};
  if (m.objective === 'binary') return `AUC-PR ${x.auc_pr?.toFixed(3) ?? '—'} · ROC AUC ${x.roc_auc?.toFixed(3) ?? '—'} · lead ${x.median_lead_days ?? '—'} d`;
  return `RMSE ${x.rmse?.toFixed(2) ?? '—'} · MAE ${x.mae?.toFixed(2) ?? '—'}`;
}

function Models() {
  const models = useLoad(() => api('GET', '/models'), []);
  const [run, error] = useAction(models.reload);
  const edit = canEdit();
  const items = models.data?.items ?? [];
  const targets = [...new Set(items.map((m) => m.target))];
  return html`<div>
    <${Problem} error=${error || models.error} />
    ${targets.map((t) => html`<div key=${t}>
      <h3>${t} ${edit && html`<button onClick=${() => run(() => api('POST', '/models/rollback', { target: t }))}>Roll back ${t}</button>`}</h3>
      <table><thead><tr><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Trained</th><th scope="col">Validation</th><th scope="col">Rows</th>${edit && html`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
        <tbody>${items.filter((m) => m.target === t).map((m) => html`<tr key=${m.id} data-model=${m.id} data-status=${m.status}>
          <td><code>${m.id}</code></td><td>${m.status}</td><td>${time(m.created_at)}</td><td>${metricsText(m)}</td>
          <td>${m.train_rows} + ${m.validation_rows}</td>
          ${edit && html`<td>${m.status !== 'champion' && html`<button onClick=${() => run(() => api('POST', `/models/${encodeURIComponent(m.id)}/promote`))}>Promote</button>`}</td>`}
        </tr>`)}</tbody></table>
    </div>`)}
    ${!items.length && html`<p class="muted">No model yet: start a training run.</p>`}
  </div>`;
}

function TrainingRuns({ onFinished }) {
  const runs = useLoad(() => api('GET', '/training-runs?limit=10'), []);
  const [run, error] = useAction(runs.reload);
  const items = runs.data?.items ?? [];
  const active = items.some((r) => r.status === 'queued' || r.status === 'running');
  // Progress is polled while a run is active; its end reloads the models.
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(runs.reload, 1000);
    return () => {
      clearInterval(timer);
      onFinished();
    };
  }, [active]);
  return html`<div>
    ${canEdit() && html`<button disabled=${active} onClick=${() => run(() => api('POST', '/training-runs', {}))}>${active ? 'Training…' : 'Start training'}</button>`}
    <${Problem} error=${error || runs.error} />
    <table><thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">By</th><th scope="col">Started</th><th scope="col">Notes</th></tr></thead>
      <tbody>${items.map((r) => html`<tr key=${r.id} data-run=${r.id} data-status=${r.status}>
        <td><code>${r.id}</code></td><td>${r.status}</td>
        <td><progress max="1" value=${r.progress} aria-label=${`${r.id} progress`}></progress> ${percent(r.progress)} <span class="muted">${r.stage}</span></td>
        <td>${r.actor}</td><td>${time(r.started_at ?? r.created_at)}</td><td>${r.error ?? r.notes.join('; ')}</td>
      </tr>`)}</tbody></table>
  </div>`;
}

export function Predictions() {
  const [risk, setRisk] = useState('');
  const latest = useLoad(() => api('GET', `/predictions${risk ? `?risk=${risk}` : ''}`), [risk]);
  const [generation, setGeneration] = useState(0);
  return html`<section aria-labelledby="predictions-title">
    <h1 id="predictions-title">Predictions</h1>
    <h2>Score on demand</h2>
    <${ScoreNow} />
    <h2>Training runs</h2>
    <${TrainingRuns} onFinished=${() => { setGeneration((g) => g + 1); latest.reload(); }} />
    <h2>Models</h2>
    <${Models} key=${generation} />
    <h2>Latest predictions <span class="muted">(as the last scoring kept them)</span></h2>
    <label>Risk <select value=${risk} onChange=${(e) => setRisk(e.target.value)}>
      <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
    <${Problem} error=${latest.error} />
    <table>${PREDICTION_HEAD}<tbody>${(latest.data?.items ?? []).slice(0, 200).map((p) => html`<${PredictionRow} key=${p.asset_id} p=${p} />`)}</tbody></table>
  </section>`;
}
