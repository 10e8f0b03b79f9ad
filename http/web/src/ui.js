// What every page shares: the htm binding, loading, errors, badges, charts and CSV export.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { currentSession, currentToken } from './api.js';

export const html = htm.bind(h);

// Loads `load()` and reloads it whenever `deps` change; {data, error, reload}. Only the latest
// request's answer is kept: an earlier one that arrives late (a filter changed meanwhile) is
// dropped.
export function useLoad(load, deps) {
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

export function Problem({ error }) {
  if (!error) return null;
  return html`<p class="problem" role="alert">${error.message}</p>`;
}

export function Kpi({ label, value, id }) {
  return html`<div class="kpi" data-kpi=${id}><span class="label">${label}</span><span class="value">${value ?? '—'}</span></div>`;
}

export function Severity({ level }) {
  return html`<span class=${`badge ${level}`}>${level}</span>`;
}

export function Health({ value }) {
  const v = Math.max(0, Math.min(100, value ?? 0));
  const tone = v < 60 ? 'bad' : v < 85 ? 'fair' : 'good';
  return html`<span class="health" title=${`health ${v}`}><span class=${`bar ${tone}`} style=${`width:${v}%`}></span><span class="num">${v}</span></span>`;
}

export function time(t) {
  return t ? new Date(t).toLocaleString() : '—';
}

export const RANGES = [['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800], ['30d', 2592000], ['180d', 15552000]];

// One metric as an SVG: the min-max band and the mean line, thresholds of the rules that watch
// it as dashed lines. Drawn from arrays, never from markup strings.
export function Chart({ name, data, thresholds }) {
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

// A CSV the API makes, saved through a Blob: a plain link cannot carry the bearer token.
export async function downloadCsv(path, filename) {
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


// A small daily chart for the Overview: `series` holds one array per part, one value per day
// (null: no value that day); parts are stacked as bars, or one part is drawn as a line.
export function Spark({ id, label, dates, series, line = false }) {
  const w = 300, hgt = 64, pad = 3, n = dates.length;
  const totals = dates.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const known = series.flatMap((s) => s.values).filter((v) => v != null);
  const hi = line ? Math.max(...known, 1) : Math.max(...totals, 1);
  const lo = line && known.length ? Math.min(...known, hi - 1) : 0;
  const y = (v) => hgt - pad - ((v - lo) / (hi - lo)) * (hgt - 2 * pad);
  const step = (w - 2 * pad) / Math.max(n, 1);
  let shapes;
  if (line) {
    const s = series[0];
    const d = s.values.map((v, i) => (v == null ? '' : `${s.values[i - 1] == null ? 'M' : 'L'}${(pad + step * (i + 0.5)).toFixed(1)},${y(v).toFixed(1)}`)).join('');
    shapes = html`<path class=${`spark-line ${s.cls ?? ''}`} d=${d} />`;
  } else {
    shapes = dates.map((_, i) => {
      let base = 0;
      return series.map((s) => {
        const v = s.values[i] ?? 0;
        if (!v) return null;
        const top = y(base + v), bottom = y(base);
        base += v;
        return html`<rect class=${`spark-bar ${s.cls ?? ''}`} x=${(pad + step * i + step * 0.1).toFixed(1)} width=${(step * 0.8).toFixed(1)} y=${top.toFixed(1)} height=${(bottom - top).toFixed(1)} />`;
      });
    });
  }
  const last = line ? [...series[0].values].reverse().find((v) => v != null) : totals[n - 1];
  const summary = line ? `latest ${last ?? 'none'}` : `${totals.reduce((a, b) => a + b, 0)} in ${n} days`;
  return html`<figure class="spark" data-spark=${id}>
    <figcaption>${label} <span class="muted">${summary}</span></figcaption>
    <svg viewBox=${`0 0 ${w} ${hgt}`} role="img" aria-label=${`${label}, ${summary}, ${dates[0] ?? ''} to ${dates[n - 1] ?? ''}`} preserveAspectRatio="none">${shapes}</svg>
    ${series.length > 1 && html`<p class="legend">${series.map((s) => html`<span class=${`key ${s.cls}`}>${s.label}</span>`)}</p>`}
  </figure>`;
}

// Runs an action that changes something: its error shown beside it, `after` on success.
export function useAction(after) {
  const [error, setError] = useState(null);
  const run = async (fn) => {
    try {
      const result = await fn();
      setError(null);
      if (after) after(result);
      return result;
    } catch (err) {
      setError(err);
      return undefined;
    }
  };
  return [run, error];
}

export function percent(p) {
  return p == null ? '—' : `${Math.round(p * 100)} %`;
}
