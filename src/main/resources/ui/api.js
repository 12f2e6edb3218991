// The API client: every request carries the key (when one is set), every error is the problem's detail.

const KEY = 'fetchbus.apiKey';

export function apiKey() {
  return sessionStorage.getItem(KEY) || '';
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key); else sessionStorage.removeItem(KEY);
}

/** An API error: the problem+json's status and detail, or what went wrong on the way. */
export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.problem = problem;
  }
}

function headers(extra) {
  const h = new Headers(extra || {});
  const key = apiKey();
  if (key) h.set('Authorization', `Bearer ${key}`);
  return h;
}

let onUnauthorized = () => {};
/** Called with the 401's detail, so the app can ask for a key. */
export function whenUnauthorized(fn) { onUnauthorized = fn; }

async function failure(resp) {
  let detail = `${resp.status} ${resp.statusText}`;
  let problem = null;
  const type = resp.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      problem = await resp.json();
      if (problem && problem.detail) detail = problem.detail;
      else if (problem && problem.title) detail = problem.title;
    } catch (e) { /* not JSON after all: keep the status line */ }
  }
  if (resp.status === 401) onUnauthorized(detail);
  return new ApiError(resp.status, detail, problem);
}

export async function request(method, path, body, signal) {
  const init = {method, headers: headers(body === undefined ? {} : {'Content-Type': 'application/json'}), signal};
  if (body !== undefined) init.body = JSON.stringify(body);
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `the service did not answer (${e.message})`);
  }
  if (!resp.ok) throw await failure(resp);
  if (resp.status === 204) return null;
  const type = resp.headers.get('Content-Type') || '';
  return type.includes('json') ? resp.json() : resp.text();
}

export const get = (path, signal) => request('GET', path, undefined, signal);
export const post = (path, body, signal) => request('POST', path, body, signal);
export const del = (path, signal) => request('DELETE', path, undefined, signal);

/** A path with a query string made of the defined, non-empty values. */
export function path(base, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

/**
 * Reads a Server-Sent Events stream with fetch(), since EventSource cannot send the Authorization header. Calls
 * onEvent(name, data) for each event; resolves when the stream ends (the job ended), rejects on an error.
 */
export async function events(path, onEvent, signal) {
  const resp = await fetch(path, {headers: headers({Accept: 'text/event-stream'}), signal});
  if (!resp.ok) throw await failure(resp);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // a keep-alive comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = val;
        else if (field === 'data') data.push(val);
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

/** Prometheus text format -> [{name, labels: {..}, value}], for the few series the dashboard shows. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3]))) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    out.push({name: m[1], labels, value: Number(m[4])});
  }
  return out;
}
