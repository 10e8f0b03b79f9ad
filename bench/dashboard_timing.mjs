// How fast the dashboard's pages become usable at fleet scale, in Debian's Chromium on loopback.
//   node bench/dashboard_timing.mjs <foresight binary> <data dir> [assets (1000)] [rounds (7)] [days (180)]
// Starts `foresight serve --demo --demo-assets N --demo-days D` on the data dir (kept: a second run reuses the
// demo's history and models) and waits for the demo to go live and its first models to score
// the fleet. Then, per round, times from navigation to the moment a page shows its data:
//   overview  a fresh load of #/ until the KPIs, the 30-day trends and the lowest-health table
//   assets    from the Assets link until 25 rows; then Next until the next 25
//   asset     from an asset's link until its charts are drawn; then 180d until redrawn
// and the API answers behind them (fetch from Node, same machine). Prints medians and ranges.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'tests/js/package.json'));
const { chromium } = require('playwright-core');

const [binary, dataDir, assetsArg = '1000', roundsArg = '7', daysArg = '180'] = process.argv.slice(2);
if (!binary || !dataDir) {
  console.error('usage: node bench/dashboard_timing.mjs <foresight binary> <data dir> [assets] [rounds] [days]');
  process.exit(2);
}
const assets = Number(assetsArg), rounds = Number(roundsArg);
mkdirSync(dataDir, { recursive: true });

const server = spawn(binary, ['serve', '--demo', '--demo-assets', String(assets), '--demo-days', daysArg, '--listen', '127.0.0.1:0',
  '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
// The server goes down with this script, however it ends.
process.on('exit', () => server.kill('SIGTERM'));
process.on('uncaughtException', (e) => {
  console.error(e);
  process.exit(1);
});
let out = '';
const url = await new Promise((resolve, reject) => {
  let base = null;
  server.stdout.on('data', (d) => {
    out += d;
    process.stdout.write(d);
    base ??= out.match(/open (http:\/\/[^/\s]+)\/ and sign in/)?.[1];
    if (base && /demo: live:/.test(out)) resolve(base);
  });
  server.on('exit', (code) => reject(new Error(`foresight exited (${code})`)));
});
const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
const tenant = demo.tenants[0];
const admin = tenant.users.find((u) => u.username === 'admin');

const login = await fetch(`${url}/auth/login`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ tenant: tenant.name, username: 'admin', password: admin.password }),
});
const token = (await login.json()).access_token;
const api = (path) => fetch(`${url}/api/v1/tenants/${tenant.name}${path}`, { headers: { Authorization: `Bearer ${token}` } });

// The first models score the fleet (and back-fill its history) before anything is timed.
for (let i = 0; ; ++i) {
  const history = await (await api('/reports/history?days=30')).json();
  if (history.days.filter((d) => d.fleet_health != null).length >= Math.min(29, Number(daysArg) - 2)) break;
  if (i % 30 === 0) console.log('waiting for the first models to score and back-fill the fleet history...');
  await new Promise((r) => setTimeout(r, 2000));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const context = await browser.newContext();
const page = await context.newPage();
page.setDefaultTimeout(30000);
await page.goto(`${url}/`);
await page.fill('input[name=tenant]', tenant.name);
await page.fill('input[name=username]', 'admin');
await page.fill('input[name=password]', admin.password);
await page.click('button[type=submit]');
await page.waitForSelector('#overview-title');

const times = {};
const record = (name, ms) => (times[name] ??= []).push(ms);
async function timed(name, action, ready) {
  const t0 = performance.now();
  await action();
  await ready();
  record(name, performance.now() - t0);
}

const first = (await (await api('/assets?limit=1')).json()).items[0].id;
for (let r = 0; r < rounds; ++r) {
  await page.goto('about:blank');
  await timed('overview: fresh load until KPIs, trends and table', () => page.goto(`${url}/#/`), async () => {
    await page.locator('[data-kpi=assets] .value', { hasText: String(assets) }).waitFor();
    await page.locator('[data-spark=fleet_health] path').waitFor({ state: 'attached' });
    await page.locator('table tbody tr').first().waitFor();
  });
  await timed('assets: link to 25 rows', () => page.click('header a[href="#/assets"]'),
    () => page.locator('tbody tr:nth-child(25)').waitFor());
  await timed('assets: next page', () => page.click('button:has-text("Next")'),
    () => page.locator('.pager', { hasText: '26–50' }).waitFor());
  await page.goto(`${url}/#/`);
  await page.locator('[data-kpi=assets] .value', { hasText: String(assets) }).waitFor();
  await timed('asset: link to drawn charts (24 h)', () => page.goto(`${url}/#/assets/${encodeURIComponent(first)}`),
    () => page.locator('[data-chart] path.mean').first().waitFor({ state: 'attached' }));
  await timed('asset: 180 days redrawn', async () => {
    const answered = page.waitForResponse((r) => r.url().includes('/chart?'));
    await page.getByRole('button', { name: '180d' }).click();
    await answered;
  }, () => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done()))));
  for (const [name, path] of [['GET /reports/fleet', '/reports/fleet'], ['GET /reports/history?days=30', '/reports/history?days=30'],
    ['GET /assets?limit=25', '/assets?limit=25&sort=id'], ['GET /assets?sort=-risk&limit=25', '/assets?limit=25&sort=-risk'],
    ['GET /assets/{id}/chart 180 d, 600 points', `/assets/${encodeURIComponent(first)}/chart?from=${Date.now() - 180 * 864e5}&to=${Date.now()}&points=600`]]) {
    await timed(`api: ${name}`, async () => (await api(path)).arrayBuffer(), async () => {});
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${assets} assets, ${rounds} rounds; ms, median (min–max)`);
console.log('| what | median ms | range ms |\n|---|---|---|');
for (const [name, xs] of Object.entries(times)) {
  console.log(`| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`);
}
await browser.close();
server.kill('SIGTERM');
await new Promise((r) => server.on('exit', r));
