// The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
// `foresight serve --demo` on loopback (a port the kernel picks).
//   node tests/browser/dashboard.mjs <foresight binary> <output dir for screenshots>
// Exits non-zero on the first failed check. Bounded: every wait has a timeout.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(join(process.cwd(), 'tests/js/package.json'));
const { chromium } = require('playwright-core');
const axePath = require.resolve('axe-core/axe.min.js');

const [binary, outDir] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'foresight-browser-'));
const steps = [];
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}

// --- The appliance --------------------------------------------------------------------------
const server = spawn(binary, ['serve', '--demo', '--demo-days', '1', '--demo-assets', '6',
  '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no sign-in line in 60 s:\n${out}`)), 60000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/open (http:\/\/[^/\s]+)\/ and sign in/);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
  server.on('exit', (code) => reject(new Error(`foresight exited (${code}):\n${out}`)));
});
const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
const tenant = demo.tenants[0];
const other = demo.tenants[1];
const user = (role) => tenant.users.find((u) => u.username === role);

async function signInApi(role) {
  const r = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant: tenant.name, username: role, password: user(role).password }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).access_token;
}
async function apiCall(token, method, path, body) {
  const r = await fetch(`${url}/api/v1/tenants/${tenant.name}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
async function writeLine(line) {
  const r = await fetch(`${url}/api/v2/write?precision=ms`, {
    method: 'POST',
    headers: { Authorization: `Token ${tenant.write_token}` },
    body: line,
  });
  assert.equal(r.status, 204, await r.text());
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
let pageErrorsSeen = [];
let failPage = null;
try {
  const context = await browser.newContext({ bypassCSP: false });
  const page = await context.newPage();
  failPage = page;
  page.setDefaultTimeout(10000);
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.accept('checked in the browser suite');
  });
  const pageErrors = [];
  pageErrorsSeen = pageErrors;
  page.on('pageerror', (e) => pageErrors.push(e.message));

  async function axe(name) {
    // axe-core is injected from its file; CSP forbids inline scripts, so a context without CSP
    // loads the same URL for the check.
    const checker = await browser.newContext({ bypassCSP: true, storageState: await context.storageState() });
    const p = await checker.newPage();
    await p.goto(page.url());
    await p.waitForSelector('main h1, .signin form');
    await p.addScriptTag({ path: axePath });
    const result = await p.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    await checker.close();
    assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), [], `axe on ${name}`);
  }
  async function shots(name) {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(outDir, `${name}-${scheme}.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  step('GET / serves the app with its security headers');
  const index = await fetch(`${url}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  for (const bad of ['/..%2f..%2fetc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%252e%252e/', '/%c0%ae%c0%ae/']) {
    assert.equal((await fetch(`${url}${bad}`)).status, 404, bad);
  }

  step('the API reference at /docs lists every route of /openapi.json');
  const openapi = await (await fetch(`${url}/openapi.json`)).json();
  const routes = Object.values(openapi.paths).reduce((n, m) => n + Object.keys(m).length, 0);
  await page.goto(`${url}/docs`);
  await page.locator('[data-op="POST /auth/login"]').waitFor();
  assert.equal(await page.locator('article.op').count(), routes);
  await axe('docs');
  await shots('docs');

  step('a wrong password is refused');
  await page.goto(`${url}/`);
  await page.fill('input[name=tenant]', tenant.name);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'not the password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.problem');
  assert.match(await page.textContent('.problem'), /invalid tenant, username or password/);
  await axe('sign-in');
  await shots('signin');

  step('an admin signs in and the Overview KPIs equal the API');
  await page.fill('input[name=password]', user('admin').password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#overview-title');
  const admin = await signInApi('admin');
  const fleet = await apiCall(admin, 'GET', '/reports/fleet');
  // Waits without page-side evaluation: the page's CSP forbids eval.
  await page.locator('[data-kpi=assets] .value', { hasText: String(fleet.assets) }).waitFor();
  assert.equal(await page.textContent('[data-kpi=assets] .value'), String(fleet.assets));
  assert.equal(await page.textContent('[data-kpi=open_alerts] .value'), String(fleet.open_alerts.total));
  assert.equal(await page.textContent('[data-kpi=warning] .value'), String(fleet.open_alerts.warning));
  assert.equal(await page.textContent('[data-kpi=fleet_health] .value'), String(fleet.fleet_health));
  await page.waitForSelector('.live.live');
  const history = await apiCall(admin, 'GET', '/reports/history?days=30');
  const opened = history.days.reduce((n, d) => n + d.alerts_opened.total, 0);
  await page.locator('[data-spark=alerts_opened] figcaption', { hasText: `${opened} in 30 days` }).waitFor();
  assert.equal(await page.locator('[data-spark]').count(), 4);
  await axe('overview');
  await shots('overview');

  step('an asset named like markup renders as text');
  const xss = '<img src=x onerror=alert(1)>';
  await apiCall(admin, 'POST', '/assets', { id: 'xss-1', name: xss, asset_type: 'pump' });
  await page.goto(`${url}/#/assets`);
  await page.fill('input[type=search]', 'xss');
  await page.waitForSelector('text=<img src=x onerror=alert(1)>');
  assert.equal(await page.locator('table a', { hasText: 'onerror' }).first().textContent(), xss);
  assert.equal(await page.locator('img').count(), 0);
  await page.fill('input[type=search]', '');
  await page.getByLabel('Type').selectOption('motor');
  await page.locator('.pager', { hasText: /of \d+/ }).waitFor();
  const motors = await apiCall(admin, 'GET', '/assets?asset_type=motor');
  await page.locator('.pager', { hasText: `of ${motors.total}` }).waitFor();
  assert.deepEqual([...new Set(await page.locator('tbody tr td:nth-child(2)').allTextContents())], ['motor']);
  await page.getByLabel('Type').selectOption('');
  await axe('assets');
  await shots('assets');

  step('an asset page receives a live point');
  await page.goto(`${url}/#/assets/xss-1`);
  await page.waitForSelector('#asset-title');
  await page.waitForSelector('.readings[data-live=true]', { state: 'attached' });
  await writeLine(`readings,asset_id=xss-1 browser_temp=41.5 ${Date.now()}`);
  await page.waitForSelector('[data-metric=browser_temp]');
  assert.match(await page.textContent('[data-metric=browser_temp]'), /41\.5/);
  await page.waitForSelector('[data-chart=browser_temp]');  // the chart took the live point
  assert.match(await page.textContent('[data-chart=browser_temp] figcaption'), /last 41\.5/);
  await page.getByRole('button', { name: '180d' }).click();
  await page.waitForSelector('[data-chart=browser_temp]');
  await page.locator('table.windows td', { hasText: 'browser_temp' }).waitFor();

  step('a maintenance record is added and work orders are imported on the asset page');
  const record = page.getByRole('form', { name: 'New maintenance record' });
  await record.getByLabel('Kind').selectOption('inspection');
  await record.getByLabel('Performed').fill('2026-01-05T10:00');
  await record.getByLabel('Notes').fill('checked by the browser suite');
  await record.getByRole('button', { name: 'Add record' }).click();
  await page.locator('tr[data-maintenance]', { hasText: 'checked by the browser suite' }).waitFor();
  await record.getByLabel(/Import work orders/).setInputFiles({
    name: 'orders.csv', mimeType: 'text/csv',
    buffer: Buffer.from('asset_id,kind,performed_at,cost\nxss-1,preventive,2026-02-01T08:00:00Z,120\nxss-1,bogus,2026-02-02T08:00:00Z,1\n'),
  });
  await page.locator('[data-imported="1"]', { hasText: '1 rows refused' }).waitFor();
  const kept = await apiCall(admin, 'GET', '/maintenance?asset_id=xss-1');
  assert.equal(kept.total, 2);
  await axe('asset');
  await shots('asset');

  step('a rule made on the Rules page is crossed and its alert arrives in the feed without reload');
  await page.goto(`${url}/#/rules`);
  const form = page.getByRole('form', { name: 'New rule' });
  await form.getByLabel('Name').fill('Browser hot');
  await form.getByLabel('Metric').fill('browser_temp');
  await form.getByLabel('Operator').selectOption('gt');
  await form.getByLabel('Threshold').fill('90');
  await form.getByLabel('Severity').selectOption('critical');
  await form.getByLabel('Asset type').fill('pump');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('tr[data-rule]', { hasText: 'Browser hot' }).waitFor();
  await axe('rules');
  await shots('rules');
  // Edited: the threshold moves from 90 to 80, and the alert below crosses that.
  await page.locator('tr[data-rule]', { hasText: 'Browser hot' }).getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Edit rule Browser hot' });
  await edit.getByLabel('Threshold').fill('80');
  await edit.getByRole('button', { name: 'Save rule' }).click();
  await page.locator('tr[data-rule]', { hasText: 'browser_temp gt 80' }).waitFor();
  const rules = await apiCall(admin, 'GET', '/rules');
  assert.equal(rules.items.find((r) => r.name === 'Browser hot').threshold, 80);
  // The feed's first page is answered from before the alert but reaches the page after it, as a
  // slow server would: the live alert must stay.
  const firstPage = /\/alerts\?limit=10&sort=-opened_at$/;
  let answerFirstPage;
  const alertArrived = new Promise((resolve) => { answerFirstPage = resolve; });
  await page.route(firstPage, async (route) => {
    const response = await route.fetch();
    await alertArrived;
    await route.fulfill({ response });
  });
  await page.goto(`${url}/#/`);
  await page.waitForSelector('.feed[data-live=true]', { state: 'attached' });  // the server has it
  await writeLine(`readings,asset_id=xss-1 browser_temp=85 ${Date.now() + 1000}`);
  await page.waitForSelector('.feed li:has-text("xss-1")');
  answerFirstPage();
  await page.waitForSelector('.feed[data-loaded=true]', { state: 'attached' });
  assert.equal(await page.locator('.feed li', { hasText: 'xss-1' }).count(), 1);
  await page.unroute(firstPage);

  step('the alert is acknowledged and resolved');
  await page.goto(`${url}/#/alerts`);
  await page.getByLabel('Status').selectOption('');  // every status, so the row stays in view
  const row = () => page.locator('tr[data-alert]', { hasText: 'xss-1' }).first();
  await row().getByRole('button', { name: 'Acknowledge' }).click();
  await row().locator('.status', { hasText: 'acknowledged' }).waitFor();
  await row().getByRole('button', { name: 'Resolve' }).click();
  await row().locator('.status', { hasText: 'resolved' }).waitFor();
  const alerts = await apiCall(admin, 'GET', '/alerts?asset_id=xss-1&status=resolved');
  assert.equal(alerts.total, 1);
  await row().locator('summary', { hasText: 'History (3)' }).click();
  assert.match(await row().locator('details.history').textContent(), /resolved by user:admin.*checked in the browser suite/);
  assert.deepEqual(dialogs.filter((d) => d.includes('alert(1)')), [], 'no script from data ran');
  await axe('alerts');
  await shots('alerts');

  step('the cost avoidance report shows the API\'s figures');
  await page.goto(`${url}/#/cost`);
  const cost = await apiCall(admin, 'GET', '/reports/cost-avoidance?days=365');
  await page.locator('[data-kpi=avoided] .value', { hasText: String(cost.avoided_failures) }).waitFor();
  await axe('cost avoidance');
  await shots('cost');

  step('the Trends page charts a metric across the fleet and one asset type');
  await page.goto(`${url}/#/trends`);
  await page.getByRole('checkbox', { name: 'browser_temp' }).check();
  await page.waitForSelector('[data-chart=browser_temp]');
  await page.getByLabel('Asset type').selectOption('pump');
  await page.waitForSelector('[data-chart=browser_temp][data-points]');
  await axe('trends');
  await shots('trends');

  step('the Predictions page shows training runs with their progress and scores on demand');
  await page.goto(`${url}/#/predictions`);
  await page.locator('tr[data-run]').first().waitFor();
  assert.ok(await page.locator('tr[data-run] progress').count() >= 1);
  const first = (await apiCall(admin, 'GET', '/assets?limit=1')).items[0].id;
  const score = page.getByRole('form', { name: 'Score an asset' });
  await score.getByLabel('Asset').fill(first);
  await score.getByRole('button', { name: 'Score now' }).click();
  // Scored by the champions, or (the demo's first training still running) told there are none.
  const answer = page.locator('table[data-scored] tr[data-asset], section .problem').first();
  await answer.waitFor();
  if (await answer.evaluate((e) => e.matches('.problem'))) assert.match(await answer.textContent(), /no trained model/);
  await axe('predictions');
  await shots('predictions');

  step('Settings: an admin makes a write token that writes until it is revoked, and a read token that only reads');
  await page.goto(`${url}/#/settings`);
  const tokenForm = page.getByRole('form', { name: 'New token' });
  const makeToken = async (name, scope) => {
    await tokenForm.getByLabel('Name').fill(name);
    await tokenForm.getByLabel('Scope').selectOption(scope);
    await tokenForm.getByRole('button', { name: 'Create token' }).click();
    await page.locator('tr[data-token-row]', { hasText: name }).waitFor();
    return page.getByRole('status').filter({ hasText: `Token ${name},` }).locator('[data-token]').textContent();
  };
  const secret = await makeToken('browser-gateway', 'write');
  const writeWith = async (token) => (await fetch(`${url}/api/v2/write?precision=ms`, {
    method: 'POST', headers: { Authorization: `Token ${token}` }, body: `readings,asset_id=xss-1 via_token=1 ${Date.now()}`,
  })).status;
  assert.equal(await writeWith(secret), 204);
  await page.locator('tr[data-token-row]', { hasText: 'browser-gateway' }).getByRole('button', { name: 'Revoke' }).click();
  await page.locator('tr[data-token-row]', { hasText: 'browser-gateway' }).getByRole('button', { name: 'Revoke' }).waitFor({ state: 'detached' });
  assert.equal(await writeWith(secret), 401);
  const reader = await makeToken('browser-grafana', 'read');
  assert.match(await page.locator('tr[data-token-row]', { hasText: 'browser-grafana' }).textContent(), /read/);
  const shown = await fetch(`${url}/query?q=SHOW%20DATABASES`, { headers: { Authorization: `Token ${reader}` } });
  assert.equal(shown.status, 200);
  assert.equal((await shown.json()).results[0].series[0].values[0][0], tenant.name);
  assert.equal(await writeWith(reader), 403);

  step('Settings: an admin adds a user who can sign in, a webhook, and changes the risk threshold and raw retention');
  const userForm = page.getByRole('form', { name: 'New user' });
  await userForm.getByLabel('Username').fill('browser-ops');
  await userForm.getByLabel('Role').selectOption('engineer');
  await userForm.getByRole('button', { name: 'Create user' }).click();
  const password = await page.locator('p[role=status]', { hasText: 'Password for browser-ops' }).locator('.secret').textContent();
  const signin = await fetch(`${url}/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant: tenant.name, username: 'browser-ops', password }),
  });
  assert.equal(signin.status, 200);
  const hookForm = page.getByRole('form', { name: 'New webhook' });
  await hookForm.getByLabel('Name').fill('browser hook');
  await hookForm.getByLabel('URL').fill('http://127.0.0.1:9/hook');
  await hookForm.getByRole('button', { name: 'Add webhook' }).click();
  await page.locator('tr[data-webhook]', { hasText: 'browser hook' }).locator('text=delivered').waitFor();
  await page.getByLabel('At risk below health').fill('70');
  await page.getByLabel('Raw points').fill('400d');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const saved = await apiCall(admin, 'GET', '/settings');
  assert.equal(saved.risk.at_risk_below_health, 70);
  assert.deepEqual(saved.retention, { raw: '400d', minute: null, hour: null, day: null });
  assert.equal(saved.retention_applied.minute, '730d');  // the server's default
  await page.reload();  // the audit log as it is now: the change above is its newest entry
  await page.locator('td code', { hasText: 'PUT /api/v1/tenants/' }).first().waitFor();
  await page.locator('[data-applied=raw]', { hasText: 'kept 400d' }).waitFor();
  await axe('settings');
  await shots('settings');

  step('sign-out ends the session: the old cookie is refused');
  const cookie = (await context.cookies()).find((c) => c.name === 'foresight_session');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict');
  await page.click('text=Sign out');
  await page.waitForSelector('.signin form');
  const replay = await fetch(`${url}/auth/refresh`, { method: 'POST', headers: { Cookie: `${cookie.name}=${cookie.value}` } });
  assert.equal(replay.status, 401);

  step('a viewer signs in with the keyboard alone, finds no edit controls, and another tenant is refused');
  await page.focus('input[name=tenant]');
  await page.keyboard.type(tenant.name);
  await page.keyboard.press('Tab');
  await page.keyboard.type('viewer');
  await page.keyboard.press('Tab');
  await page.keyboard.type(user('viewer').password);
  await page.keyboard.press('Enter');
  await page.locator('.who', { hasText: 'viewer' }).waitFor();
  await page.goto(`${url}/#/alerts`);
  await page.getByLabel('Status').selectOption('');
  await page.waitForSelector('tr[data-alert]');
  assert.equal(await page.getByRole('button', { name: /Acknowledge|Resolve/ }).count(), 0);
  await page.goto(`${url}/#/rules`);
  await page.locator('tr[data-rule]').first().waitFor();
  assert.equal(await page.getByRole('form', { name: 'New rule' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /Disable|Enable|Delete|Edit/ }).count(), 0);
  await page.goto(`${url}/#/settings`);
  await page.locator('fieldset[disabled]').first().waitFor();
  assert.equal(await page.locator('fieldset[disabled]').count(), 2, 'cost, risk and retention are read-only');
  assert.equal(await page.getByRole('form', { name: 'New user' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Save settings' }).count(), 0);
  await page.goto(`${url}/#/predictions`);
  await page.locator('#predictions-title').waitFor();
  assert.equal(await page.getByRole('button', { name: /Start training|Promote|Roll back/ }).count(), 0);
  await page.goto(`${url}/#/assets/xss-1`);
  await page.locator('tr[data-maintenance]').first().waitFor();
  assert.equal(await page.getByRole('form', { name: 'New maintenance record' }).count(), 0);
  const foreign = await page.evaluate(async (name) => {
    const r = await fetch('/auth/refresh', { method: 'POST' });
    const { access_token } = await r.json();
    return (await fetch(`/api/v1/tenants/${name}/assets`, { headers: { Authorization: `Bearer ${access_token}` } })).status;
  }, other.name);
  assert.equal(foreign, 403);

  step('on a tablet the Overview fits the screen');
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.goto(`${url}/#/`);
  await page.locator('[data-kpi=assets] .value', { hasText: /\d/ }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${overflow} px wider than a tablet`);
  await page.screenshot({ path: join(outDir, 'overview-tablet.png'), fullPage: true });
  assert.deepEqual(pageErrors, [], 'no script errors');
  console.log(`dashboard: ${steps.length} checks passed; screenshots in ${outDir}`);
} catch (e) {
  failed = true;
  console.error(`dashboard: failed at "${steps.at(-1)}": ${e.stack || e}`);
  console.error(`page errors: ${pageErrorsSeen.join('\n')}`);
  if (failPage) {
    await failPage.screenshot({ path: join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
    console.error(`page text at the failure: ${(await failPage.textContent('body').catch(() => '')).slice(0, 400)}`);
  }
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
