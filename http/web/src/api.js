// The API client: the short-lived JWT lives only in this module's memory; the session's refresh
// secret is an HttpOnly cookie the page never sees (http/README.md, "Signing in").
let token = null;
let session = null; // {tenant_id, role, user}
let renewTimer = null;
const listeners = new Set();

export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function setSession(answer) {
  if (!answer) {
    token = null;
    session = null;
    clearTimeout(renewTimer);
  } else {
    token = answer.access_token;
    session = { tenant: answer.tenant_id, role: answer.role, user: answer.user };
    clearTimeout(renewTimer);
    // Renew at four fifths of the token's life, before it expires.
    renewTimer = setTimeout(refresh, Math.max(5, answer.expires_in * 0.8) * 1000);
  }
  for (const fn of listeners) fn(session);
}

export function currentSession() {
  return session;
}

export function currentToken() {
  return token;
}

export async function login(tenant, username, password) {
  const r = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ tenant, username, password }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error?.message ?? `sign-in failed (${r.status})`);
  setSession(body);
  return session;
}

export async function refresh() {
  const r = await fetch('/auth/refresh', { method: 'POST' });
  if (!r.ok) {
    setSession(null);
    return null;
  }
  setSession(await r.json());
  return session;
}

export async function logout() {
  await fetch('/auth/logout', {
    method: 'POST',
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  setSession(null);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `request failed (${status})`);
    this.status = status;
    this.field = body?.error?.field;
    this.body = body;
  }
}

// A call to the tenant's API: api('GET', '/assets?limit=20'). A body is sent as JSON, or as it
// is with `type` given (a CSV import).
export async function api(method, path, body, type) {
  if (!session) throw new ApiError(401, null);
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = type ?? 'application/json';
  const r = await fetch(`/api/v1/tenants/${encodeURIComponent(session.tenant)}${path}`, {
    method,
    headers,
    body: body === undefined || type ? body : JSON.stringify(body),
  });
  if (r.status === 401) {
    // The token may have been revoked or expired: one renewal, then sign-in.
    if (await refresh()) return api(method, path, body, type);
    throw new ApiError(401, null);
  }
  const text = await r.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!r.ok) throw new ApiError(r.status, parsed);
  return parsed;
}

export function canEdit() {
  return session && (session.role === 'engineer' || session.role === 'admin');
}

export function isAdmin() {
  return session?.role === 'admin';
}
