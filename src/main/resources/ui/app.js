// The Fetchbus dashboard: plain modules, no framework. Views are chosen by the URL's hash (#/jobs, #/job/crawl/<id>,
// #/page/<id>, #/search?q=..., #/node); each gets an AbortSignal that ends its requests, streams and timers when the
// user leaves it. Data from the API is only ever set as text (see dom.js).
import {ApiError, apiKey, del, events, get, parseMetrics, path, post, setApiKey, whenUnauthorized} from './api.js';
import {bytes, clear, facts, h, num, snippetNodes, svg, table, when} from './dom.js';

const view = document.getElementById('view');
const errorBox = document.getElementById('error');
const keyPanel = document.getElementById('key-panel');
const keyInput = document.getElementById('key-input');
const keyReason = document.getElementById('key-reason');

const FINISHED = new Set(['completed', 'cancelled', 'failed']);
const STREAMS = 3; // live streams at once: a browser keeps at most 6 connections to one origin over HTTP/1.1
let current = null;

// ---- errors and the key --------------------------------------------------------------------------------------

function showError(err) {
  if (err && err.name === 'AbortError') return;
  const detail = err instanceof ApiError ? err.detail : (err && err.message) || String(err);
  errorBox.textContent = detail;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

function askForKey(reason) {
  keyReason.textContent = reason
    ? `${reason}. The key is kept in this tab only (sessionStorage) and sent as Authorization: Bearer.`
    : 'The key is kept in this tab only (sessionStorage) and sent as Authorization: Bearer.';
  keyPanel.hidden = false;
  keyInput.focus();
}

whenUnauthorized(askForKey);
document.getElementById('key-button').addEventListener('click', () =>
  (keyPanel.hidden ? askForKey(apiKey() ? 'A key is set for this tab' : '') : (keyPanel.hidden = true)));
document.getElementById('key-form').addEventListener('submit', e => {
  e.preventDefault();
  setApiKey(keyInput.value.trim());
  keyInput.value = '';
  keyPanel.hidden = true;
  route();
});
document.getElementById('key-forget').addEventListener('click', () => {
  setApiKey('');
  keyPanel.hidden = true;
  route();
});

// ---- routing -------------------------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p, q] = raw.split('?');
  return {parts: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q || '')};
}

async function route() {
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  clearError();
  const {parts, query} = parseHash();
  const name = parts[0] || 'jobs';
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === name || (name === 'job' && a.dataset.nav === 'jobs'));
  }
  const main = clear(view);
  try {
    if (name === 'jobs') await jobsView(main, signal);
    else if (name === 'job' && parts.length === 3) await jobView(main, parts[1], parts[2], signal);
    else if (name === 'page' && parts.length === 2) await pageView(main, parts[1], signal);
    else if (name === 'search') await searchView(main, query, signal);
    else if (name === 'node') await nodeView(main, signal);
    else main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', {href: '#/jobs'}, 'Back to the jobs')));
  } catch (err) {
    showError(err);
  }
}


/** Runs fn every ms until the view's signal aborts; errors are shown, not fatal. */
function every(ms, signal, fn) {
  const t = setInterval(() => fn().catch(showError), ms);
  signal.addEventListener('abort', () => clearInterval(t));
}

// ---- jobs ----------------------------------------------------------------------------------------------------

const plural = kind => (kind === 'batch' ? 'batches' : 'crawls');
const jobPath = job => `/v1/${plural(job.kind)}/${encodeURIComponent(job.id)}`;
const done = job => job.completed + job.failed + job.robotsBlocked + job.skipped;

function progressBar(job) {
  const max = Math.max(job.total, 1);
  const value = FINISHED.has(job.status) ? max : Math.min(done(job), max);
  return h('progress', {max, value, 'aria-label': `${done(job)} of ${job.total} URLs`});
}

function stateBadge(job) {
  return h('span', {class: `state state-${job.status}`, 'data-state': job.status}, job.status);
}

function target(job) {
  if (job.kind === 'crawl') return job.spec && job.spec.url ? job.spec.url : '';
  const n = job.spec && job.spec.urls;
  return `${n} URL${n === 1 ? '' : 's'}`;
}

function countsText(job) {
  return `${num(job.completed, 0)} stored · ${num(job.failed, 0)} failed · ${num(job.robotsBlocked, 0)} robots · `
    + `${num(job.skipped, 0)} skipped · ${num(job.queued, 0)} queued · ${num(job.inProgress, 0)} in progress`;
}

async function cancel(job) {
  if (!confirm(`Cancel ${job.kind} ${job.id}? Fetches in flight finish; no new one starts.`)) return null;
  return del(jobPath(job));
}

function fillRow(tr, job, refresh) {
  tr.dataset.state = job.status;
  const actions = [h('a', {href: `#/job/${job.kind}/${job.id}`, class: 'button'}, 'Open')];
  if (!FINISHED.has(job.status)) {
    actions.push(h('button', {type: 'button', class: 'danger', 'data-action': 'cancel', onclick: () =>
      cancel(job).then(j => j && refresh(j)).catch(showError)}, 'Cancel'));
  }
  tr.replaceChildren(
    h('td', {}, job.kind),
    h('td', {class: 'url'}, h('a', {href: `#/job/${job.kind}/${job.id}`}, target(job))),
    h('td', {}, stateBadge(job)),
    h('td', {class: 'progress'}, progressBar(job), h('span', {class: 'muted'}, ` ${num(done(job), 0)} / ${num(job.total, 0)}`)),
    h('td', {class: 'num'}, num(job.pagesPerSecond, 1)),
    h('td', {class: 'counts'}, countsText(job)),
    h('td', {}, when(job.createdAt)),
    h('td', {class: 'actions'}, actions));
}

async function jobsView(main, signal) {
  const tbody = h('tbody', {id: 'jobs'});
  const empty = h('p', {class: 'muted', id: 'no-jobs', hidden: true}, 'No jobs yet: start one above.');
  main.append(
    h('h1', {}, 'Jobs'),
    crawlForm(signal, job => upsert(job)),
    batchForm(signal, job => upsert(job)),
    h('h2', {}, 'Crawls and batches, newest first'),
    h('table', {class: 'grid jobs'},
      h('thead', {}, h('tr', {}, ['Kind', 'Target', 'State', 'Progress', 'Pages/s', 'Counts', 'Created', '']
        .map(x => h('th', {scope: 'col'}, x)))),
      tbody),
    empty);

  const rows = new Map(); // id -> {tr, job}
  const streaming = new Set();

  function upsert(job) {
    let row = rows.get(job.id);
    if (!row) {
      row = {tr: h('tr', {'data-job': job.id, 'data-kind': job.kind}), job};
      rows.set(job.id, row);
    }
    job = Object.assign({}, row.job, job); // a progress event may carry less than a listing
    row.job = job;
    fillRow(row.tr, job, upsert);
    const ordered = [...rows.values()].sort((a, b) => (a.job.createdAt < b.job.createdAt ? 1 : -1));
    ordered.forEach((r, i) => { if (tbody.children[i] !== r.tr) tbody.insertBefore(r.tr, tbody.children[i] || null); });
    empty.hidden = rows.size > 0;
    stream(job);
  }

  function stream(job) {
    if (FINISHED.has(job.status) || streaming.has(job.id) || streaming.size >= STREAMS) return;
    streaming.add(job.id);
    events(`${jobPath(job)}/events`, (name, data) => { if (name === 'progress') upsert(JSON.parse(data)); }, signal)
      .catch(showError)
      .finally(() => {
        streaming.delete(job.id);
        // The stream ended with the job, or broke: the next refresh (or the list) has the truth.
        get(jobPath(job), signal).then(upsert).catch(showError);
      });
  }

  async function refresh() {
    const [crawls, batches] = await Promise.all([
      get(path('/v1/crawls', {limit: 50}), signal), get(path('/v1/batches', {limit: 50}), signal)]);
    for (const job of [...crawls.items, ...batches.items]) {
      if (!streaming.has(job.id)) upsert(job);
    }
    empty.hidden = rows.size > 0;
  }

  await refresh();
  every(5000, signal, refresh); // jobs started elsewhere, and those beyond the live streams
}

// ---- the forms -----------------------------------------------------------------------------------------------

let fieldIds = 0;

function field(label, input, help) {
  const id = input.id || `f${++fieldIds}`;
  input.id = id;
  const helpId = `${id}-help`;
  if (help) input.setAttribute('aria-describedby', helpId);
  const box = input.type === 'checkbox'
    ? h('div', {class: 'field check'}, input, h('label', {for: id}, label))
    : h('div', {class: 'field'}, h('label', {for: id}, label), input);
  if (help) box.append(h('p', {class: 'help', id: helpId}, help));
  return box;
}

const lines = text => text.split('\n').map(s => s.trim()).filter(Boolean);

function formatsField(prefix) {
  const names = ['text', 'markdown', 'links', 'html'];
  return h('fieldset', {class: 'field'}, h('legend', {}, 'Formats'),
    names.map(f => h('label', {class: 'inline'}, h('input', {type: 'checkbox', name: `${prefix}-format`, value: f}), ` ${f}`)),
    h('p', {class: 'help'}, 'What each page record carries besides its metadata (always kept): the text, markdown, '
      + 'links, or the body as HTML. Extracted when the page is stored.'));
}

function webhookFields(prefix) {
  return h('details', {class: 'field'}, h('summary', {}, 'Webhook (optional)'),
    field('Webhook URL', h('input', {type: 'url', name: `${prefix}-webhook-url`, placeholder: 'https://…'}),
      'Signed POSTs of the job\'s events go here (see docs/rest-api.md, Webhooks). Leave empty for none.'),
    field('Secret', h('input', {type: 'password', name: `${prefix}-webhook-secret`, autocomplete: 'off'}),
      'Key of the HMAC-SHA256 signature of each delivery. Shown as *** in job records.'),
    h('fieldset', {class: 'field'}, h('legend', {}, 'Events'),
      ['started', 'page', 'completed', 'failed'].map(e => h('label', {class: 'inline'},
        h('input', {type: 'checkbox', name: `${prefix}-webhook-event`, value: e, checked: true}), ` ${e}`)),
      h('p', {class: 'help'}, 'Which events are delivered.')));
}

function common(form, prefix, spec) {
  const formats = [...form.querySelectorAll(`[name=${prefix}-format]:checked`)].map(i => i.value);
  if (formats.length) spec.formats = formats;
  spec.obeyRobots = form.elements[`${prefix}-obeyRobots`].checked;
  const hook = form.elements[`${prefix}-webhook-url`].value.trim();
  if (hook) {
    spec.webhook = {url: hook,
      events: [...form.querySelectorAll(`[name=${prefix}-webhook-event]:checked`)].map(i => i.value)};
    const secret = form.elements[`${prefix}-webhook-secret`].value;
    if (secret) spec.webhook.secret = secret;
  }
  return spec;
}

function submitter(form, url, build, started) {
  const status = h('p', {class: 'status', role: 'status'});
  form.append(status);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    status.textContent = '';
    status.classList.remove('bad');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const job = await post(url, build());
      status.textContent = `Started ${job.kind} ${job.id}`;
      if (job.invalidUrls && job.invalidUrls.length) {
        status.textContent += ` (${job.invalidUrls.length} invalid URLs left out: `
          + job.invalidUrls.map(u => `${u.url}: ${u.detail}`).join('; ') + ')';
      }
      started(job);
    } catch (err) {
      status.textContent = err instanceof ApiError ? err.detail : String(err.message || err);
      status.classList.add('bad');
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function crawlForm(signal, started) {
  const form = h('form', {id: 'crawl-form', novalidate: true},
    field('Start URL', h('input', {type: 'url', name: 'url', required: true, placeholder: 'https://example.com/'}),
      'The seed (depth 0): an absolute http or https URL.'),
    h('div', {class: 'row'},
      field('Max depth', h('input', {type: 'number', name: 'maxDepth', min: 0, max: 100, value: 2}),
        'A page\'s depth is its shortest link distance from the seed; every page within it is stored (0–100).'),
      field('Limit', h('input', {type: 'number', name: 'limit', min: 1, value: 1000}),
        'The most pages stored; at most crawl.maxLimit (100,000 by default).')),
    h('div', {class: 'row'},
      field('Include paths', h('textarea', {name: 'includePaths', rows: 2, placeholder: '^/docs/'}),
        'Java regular expressions, one a line: only URLs whose path matches one are followed. Empty: all.'),
      field('Exclude paths', h('textarea', {name: 'excludePaths', rows: 2, placeholder: '/private/'}),
        'Java regular expressions, one a line: URLs whose path matches one are not followed.')),
    field('Match patterns on the full URL', h('input', {type: 'checkbox', name: 'regexOnFullURL'}),
      'Match the patterns against the whole canonical URL instead of its path.'),
    field('Allow subdomains', h('input', {type: 'checkbox', name: 'allowSubdomains'}),
      'Follow links to subdomains of the seed\'s host.'),
    field('Allow external links', h('input', {type: 'checkbox', name: 'allowExternalLinks'}),
      'Follow links to other hosts too.'),
    field('Ignore query parameters', h('input', {type: 'checkbox', name: 'ignoreQueryParameters'}),
      'Treat URLs that differ only in their query string as one.'),
    field('Sitemap', h('select', {name: 'sitemap'}, ['include', 'skip', 'only'].map(v => h('option', {value: v}, v))),
      'include: the sitemaps\' URLs as well as the links; skip: links only; only: the sitemaps\' URLs only.'),
    field('Obey robots.txt', h('input', {type: 'checkbox', name: 'crawl-obeyRobots', checked: true}),
      'Skip what robots.txt disallows (reported as robots-blocked), and honour its Crawl-delay.'),
    formatsField('crawl'),
    webhookFields('crawl'),
    h('button', {type: 'submit'}, 'Start the crawl'));
  submitter(form, '/v1/crawls', () => {
    const f = form.elements;
    const spec = {url: f.url.value.trim()};
    if (f.maxDepth.value !== '') spec.maxDepth = Number(f.maxDepth.value);
    if (f.limit.value !== '') spec.limit = Number(f.limit.value);
    const inc = lines(f.includePaths.value);
    const exc = lines(f.excludePaths.value);
    if (inc.length) spec.includePaths = inc;
    if (exc.length) spec.excludePaths = exc;
    for (const b of ['regexOnFullURL', 'allowSubdomains', 'allowExternalLinks', 'ignoreQueryParameters']) {
      if (f[b].checked) spec[b] = true;
    }
    spec.sitemap = f.sitemap.value;
    return common(form, 'crawl', spec);
  }, started);
  return h('details', {class: 'panel', id: 'crawl-panel'}, h('summary', {}, 'Start a crawl'), form);
}

function batchForm(signal, started) {
  const form = h('form', {id: 'batch-form', novalidate: true},
    field('URLs', h('textarea', {name: 'urls', rows: 5, required: true, placeholder: 'https://example.com/a\nhttps://example.com/b'}),
      'One URL a line (at most 10,000), each fetched once. An entry that is not a valid URL is reported, not refused.'),
    field('Obey robots.txt', h('input', {type: 'checkbox', name: 'batch-obeyRobots', checked: true}),
      'Skip what robots.txt disallows (reported as robots-blocked).'),
    formatsField('batch'),
    webhookFields('batch'),
    h('button', {type: 'submit'}, 'Start the batch'));
  submitter(form, '/v1/batches', () => common(form, 'batch', {urls: lines(form.elements.urls.value)}), started);
  return h('details', {class: 'panel', id: 'batch-panel'}, h('summary', {}, 'Start a batch'), form);
}

// ---- one job -------------------------------------------------------------------------------------------------

async function jobView(main, kind, id, signal) {
  if (kind !== 'crawl' && kind !== 'batch') throw new Error(`no such kind of job: ${kind}`);
  const base = `/v1/${plural(kind)}/${encodeURIComponent(id)}`;
  let job = await get(base, signal);
  const head = h('div', {class: 'job-head'});
  const counts = h('div', {id: 'job-counts'});
  const chart = h('div', {id: 'job-chart', class: 'chart'});
  const pages = h('div', {id: 'job-pages'});
  const errors = h('div', {id: 'job-errors'});
  const settings = h('div', {id: 'job-settings'});
  main.append(h('p', {}, h('a', {href: '#/jobs'}, '← Jobs')), head,
    h('section', {}, h('h2', {}, 'Counts by state'), counts),
    h('section', {}, h('h2', {}, 'Throughput'), chart),
    h('section', {}, h('h2', {}, 'Pages'), pages),
    h('section', {}, h('h2', {}, 'Errors'), errors),
    h('section', {}, h('h2', {}, 'Settings'), settings));

  function render() {
    const actions = FINISHED.has(job.status) ? [] : [h('button', {type: 'button', class: 'danger', 'data-action': 'cancel',
      onclick: () => cancel(job).then(j => { if (j) { job = j; render(); } }).catch(showError)}, 'Cancel')];
    head.replaceChildren(
      h('h1', {}, `${kind === 'crawl' ? 'Crawl' : 'Batch'} `, h('span', {class: 'mono'}, job.id)),
      h('p', {class: 'url'}, target(job)),
      h('div', {class: 'job-progress', 'data-state': job.status}, stateBadge(job), ' ', progressBar(job),
        h('span', {class: 'muted'}, ` ${num(done(job), 0)} / ${num(job.total, 0)} · ${num(job.pagesPerSecond, 1)} pages/s`),
        ' ', actions),
      facts([['Created', when(job.createdAt)], ['Started', when(job.startedAt)], ['Finished', when(job.finishedAt)]]));
    counts.replaceChildren(table(['Stored', 'Failed', 'Robots-blocked', 'Skipped', 'Queued', 'In progress', 'Total'],
      [[job.completed, job.failed, job.robotsBlocked, job.skipped, job.queued, job.inProgress, job.total].map(n => num(n, 0))]));
    settings.replaceChildren(facts(Object.entries(job.spec || {}).map(([k, v]) =>
      [k, typeof v === 'object' ? h('code', {}, JSON.stringify(v)) : String(v)])));
  }

  async function drawChart() {
    const list = await get(path(`${base}/pages`, {limit: 500}), signal);
    chart.replaceChildren(throughputChart(list.items.map(p => Date.parse(p.fetchedAt)).filter(t => !isNaN(t)), job));
  }

  render();
  await Promise.all([drawChart(), pagedTable(pages, `${base}/pages`, {limit: 20}, pageRows, signal),
    pagedTable(errors, `${base}/errors`, {limit: 20}, errorRows, signal)]);

  if (!FINISHED.has(job.status)) {
    let lastDraw = Date.now();
    events(`${base}/events`, (name, data) => {
      if (name !== 'progress') return;
      job = JSON.parse(data);
      render();
      if (Date.now() - lastDraw > 3000 || FINISHED.has(job.status)) {
        lastDraw = Date.now();
        drawChart().catch(showError);
      }
    }, signal).then(() => Promise.all([drawChart(), pagedTable(pages, `${base}/pages`, {limit: 20}, pageRows, signal),
      pagedTable(errors, `${base}/errors`, {limit: 20}, errorRows, signal)])).catch(showError);
  }
}

function pageRows(items) {
  return table(['Id', 'URL', 'Status', 'Title', 'Fetched'], items.map(p => [
    h('a', {href: `#/page/${p.id}`}, String(p.id)),
    h('span', {class: 'url'}, p.url),
    p.error ? h('span', {class: 'bad'}, p.errorClass || 'error') : String(p.status ?? ''),
    p.title || '',
    when(p.fetchedAt)]), {class: 'grid pages'});
}

function errorRows(items) {
  return table(['URL', 'State', 'Attempts', 'Reason', 'At'], items.map(e => [
    h('span', {class: 'url'}, e.url), e.state, String(e.attempts ?? ''),
    [e.errorClass ? h('code', {}, e.errorClass) : '', e.error ? ` ${e.error}` : ''], when(e.at)]), {class: 'grid errors'});
}

/** A keyset-paged table: First / Next, the cursors kept for Previous. */
async function pagedTable(box, base, params, rows, signal) {
  const cursors = [];
  async function show(after) {
    const list = await get(path(base, Object.assign({}, params, {after})), signal);
    const nav = h('div', {class: 'pager'},
      h('button', {type: 'button', class: 'quiet', disabled: cursors.length === 0, onclick: () => {
        cursors.pop();
        show(cursors[cursors.length - 1]).catch(showError);
      }}, '← Previous'),
      h('button', {type: 'button', class: 'quiet', disabled: !list.next, onclick: () => {
        cursors.push(list.next);
        show(list.next).catch(showError);
      }}, 'Next →'));
    box.replaceChildren(list.items.length ? rows(list.items) : h('p', {class: 'muted'}, 'None.'), nav);
  }
  await show(undefined);
}

/** Pages stored per second over the job's life, as bars: an SVG drawn here, from the pages' fetch times. */
function throughputChart(times, job) {
  const W = 720;
  const H = 160;
  const pad = {l: 40, r: 10, t: 10, b: 24};
  if (!times.length) return h('p', {class: 'muted'}, 'No page stored yet.');
  const start = Math.min(Date.parse(job.startedAt || job.createdAt) || Infinity, ...times);
  const end = Math.max(FINISHED.has(job.status) && job.finishedAt ? Date.parse(job.finishedAt) : Date.now(), ...times);
  const span = Math.max(end - start, 1000);
  const buckets = Math.min(60, Math.max(1, Math.ceil(span / 1000)));
  const width = span / buckets;
  const counts = new Array(buckets).fill(0);
  for (const t of times) counts[Math.min(buckets - 1, Math.floor((t - start) / width))]++;
  const rates = counts.map(c => c / (width / 1000));
  const top = Math.max(...rates, 1);
  const x = i => pad.l + (i * (W - pad.l - pad.r)) / buckets;
  const y = v => H - pad.b - (v * (H - pad.t - pad.b)) / top;
  const bars = rates.map((r, i) => svg('rect', {class: 'bar', x: x(i) + 1, y: y(r), width: Math.max(1, x(i + 1) - x(i) - 2),
    height: H - pad.b - y(r)}, svg('title', {}, `${num(r, 1)} pages/s`)));
  return svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'throughput', role: 'img',
    'aria-label': `pages stored per second, ${times.length} pages over ${num(span / 1000, 0)} s`},
  svg('line', {class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b}),
  svg('line', {class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b}),
  svg('text', {x: pad.l - 4, y: pad.t + 8, class: 'label end'}, num(top, 1)),
  svg('text', {x: pad.l - 4, y: H - pad.b, class: 'label end'}, '0'),
  svg('text', {x: pad.l, y: H - 6, class: 'label'}, '0 s'),
  svg('text', {x: W - pad.r, y: H - 6, class: 'label end'}, `${num(span / 1000, 0)} s`),
  svg('text', {x: W / 2, y: H - 6, class: 'label middle'}, 'pages/s'),
  bars);
}

// ---- a page --------------------------------------------------------------------------------------------------

async function pageView(main, id, signal) {
  const page = await get(path(`/v1/pages/${encodeURIComponent(id)}`, {formats: 'text,markdown,links,html'}), signal);
  const meta = page.metadata || {};
  const tabs = [
    ['Content', () => page.html == null ? h('p', {class: 'muted'}, 'No HTML body stored.')
      // sandbox with no allow-*: no script, no same origin, no forms, no top navigation. srcdoc also inherits the
      // dashboard's CSP, so remote images, styles and scripts of the page stay off.
      : h('iframe', {sandbox: '', srcdoc: page.html, title: 'the stored page, sandboxed', class: 'content', referrerpolicy: 'no-referrer'})],
    ['Text', () => h('pre', {class: 'text'}, page.text ?? '')],
    ['Markdown', () => h('pre', {class: 'text'}, page.markdown ?? '')],
    ['Links', () => (page.links && page.links.length ? table(['URL', 'Text'], page.links.map(l => [h('span', {class: 'url'}, l.url), l.text || '']))
      : h('p', {class: 'muted'}, 'No links.'))],
    ['Metadata', () => facts([['Title', meta.title], ['Description', meta.description], ['Canonical URL', meta.canonicalUrl],
      ['Language', meta.language], ...Object.entries(meta.openGraph || {}).map(([k, v]) => [`og:${k}`, v])])],
  ];
  const panel = h('div', {class: 'tab-panel', id: 'page-tab'});
  const tabBar = h('div', {class: 'tabs', role: 'tablist'});
  function select(i) {
    [...tabBar.children].forEach((b, j) => b.setAttribute('aria-selected', String(i === j)));
    panel.replaceChildren(tabs[i][1]());
  }
  tabs.forEach(([name], i) => tabBar.append(h('button', {type: 'button', role: 'tab', 'data-tab': name.toLowerCase(),
    onclick: () => select(i)}, name)));
  const copies = h('div', {id: 'page-copies'});
  const t = page.timing || {};
  main.append(
    h('h1', {id: 'page-title'}, page.title || page.url),
    h('p', {class: 'url'}, page.url),
    h('div', {class: 'cols'},
      h('section', {}, h('h2', {}, 'Record'), facts([
        ['Id', String(page.id)], ['URL', page.url], ['Final URL', page.finalUrl], ['Host', page.host],
        ['Status', page.status == null ? '' : String(page.status)], ['Content type', page.contentType],
        ['Size', bytes(page.bytes)], ['SHA-256', page.sha256 ? h('code', {}, page.sha256) : ''],
        ['Fetched', when(page.fetchedAt)], ['Revalidated', when(page.revalidatedAt)], ['Retries', String(page.retries)],
        ['From cache', String(page.fromCache)], ['Error', page.error ? `${page.errorClass || ''} ${page.error}` : '']])),
      h('section', {}, h('h2', {}, 'Timing'), facts([['DNS', t.dnsMs == null ? '' : `${t.dnsMs} ms`],
        ['First byte', t.ttfbMs == null ? '' : `${t.ttfbMs} ms`], ['Total', t.totalMs == null ? '' : `${t.totalMs} ms`],
        ['Elapsed', page.elapsedMs == null ? '' : `${page.elapsedMs} ms`]]),
      h('h2', {}, 'Headers'), facts(Object.entries(page.headers || {})))),
    h('section', {}, h('h2', {}, 'Formats'), tabBar, panel),
    h('section', {}, h('h2', {}, 'Other copies of this URL'), copies));
  select(0);
  await pagedTable(copies, '/v1/pages', {url: page.url, latest: false, limit: 20}, pageRows, signal);
}

// ---- search --------------------------------------------------------------------------------------------------

async function searchView(main, query, signal) {
  const q = query.get('q') || '';
  const input = h('input', {type: 'search', name: 'q', value: q, maxlength: 500, required: true,
    placeholder: 'words, "a phrase", this or that, -not', 'aria-label': 'Search the stored pages'});
  const form = h('form', {id: 'search-form', class: 'search'}, input, h('button', {type: 'submit'}, 'Search'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    location.hash = `#/search?${new URLSearchParams({q: input.value})}`;
  });
  const results = h('div', {id: 'results'});
  main.append(h('h1', {}, 'Search'), form,
    h('p', {class: 'help'}, 'Every word must appear; "quoted words" as a phrase; or between alternatives; -word excludes. '
      + 'English stemming. Only the newest copy of each URL is searched.'), results);
  input.focus();
  if (!q.trim()) return;
  const cursors = [];
  async function show(after) {
    const answer = await get(path('/v1/search', {q, limit: 10, after}), signal);
    const items = answer.items.map(r => h('li', {class: 'result'},
      h('a', {href: `#/page/${r.id}`, class: 'title'}, r.title || r.url),
      h('div', {class: 'url'}, r.url),
      h('p', {class: 'snippet'}, snippetNodes(r.snippet))));
    const lag = answer.lag && answer.lag.pages
      ? h('p', {class: 'muted'}, `${num(answer.lag.pages, 0)} pages stored in the last ${num(answer.lag.seconds, 1)} s are not searchable yet.`)
      : null;
    results.replaceChildren(
      items.length ? h('ol', {class: 'results'}, items) : h('p', {class: 'muted'}, `Nothing found for ${q}.`),
      lag || '',
      h('div', {class: 'pager'},
        h('button', {type: 'button', class: 'quiet', disabled: cursors.length === 0, onclick: () => {
          cursors.pop();
          show(cursors[cursors.length - 1]).catch(showError);
        }}, '← Previous'),
        h('button', {type: 'button', class: 'quiet', disabled: !answer.next, onclick: () => {
          cursors.push(answer.next);
          show(answer.next).catch(showError);
        }}, 'Next →')));
  }
  await show(undefined);
}

// ---- the node and the cluster --------------------------------------------------------------------------------

const sum = (series, name, pred) => series.filter(s => s.name === name && (!pred || pred(s.labels)))
  .reduce((a, s) => a + s.value, 0);

/** The 99th percentile of a Prometheus histogram (its buckets summed over labels): the bucket's upper bound. */
function p99(series, name) {
  const byLe = new Map();
  for (const s of series) {
    if (s.name === `${name}_bucket`) byLe.set(s.labels.le, (byLe.get(s.labels.le) || 0) + s.value);
  }
  const les = [...byLe.keys()].sort((a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));
  const total = byLe.get('+Inf') || 0;
  if (!total) return null;
  for (const le of les) if (byLe.get(le) >= 0.99 * total) return le === '+Inf' ? Infinity : Number(le);
  return null;
}

async function nodeView(main, signal) {
  const tiles = h('div', {class: 'tiles', id: 'node-tiles'});
  const roles = h('div', {id: 'node-roles'});
  const nodes = h('div', {id: 'fetch-nodes'});
  const cache = h('div', {id: 'node-cache'});
  const queues = h('div', {id: 'node-queues'});
  main.append(h('h1', {}, 'The node and the cluster'), tiles,
    h('div', {class: 'cols'}, h('section', {}, h('h2', {}, 'This node'), roles), h('section', {}, h('h2', {}, 'Cache'), cache)),
    h('section', {}, h('h2', {}, 'Fetch nodes'), nodes),
    h('section', {}, h('h2', {}, 'Queues'), queues));
  let previous = null; // the last scrape, for rates

  async function refresh() {
    const [cluster, stats, metrics] = await Promise.all([get('/v1/cluster', signal), get('/v1/cache', signal),
      get('/metrics', signal).then(parseMetrics).catch(err => {
        if (err.name === 'AbortError') throw err;
        return {error: err};
      })]);
    roles.replaceChildren(facts([['Node', h('code', {}, cluster.node)], ['Clustered', String(cluster.clustered)],
      ['Roles', (cluster.roles || []).join(', ')]]));
    nodes.replaceChildren(table(['Node', 'Fetches', 'In flight', 'Heard'], (cluster.fetchNodes || []).map(n =>
      [h('code', {}, n.id), num(n.fetches, 0), num(n.inFlight, 0), `${num(n.heardMsAgo, 0)} ms ago`])));
    cache.replaceChildren(facts(Object.entries(stats).map(([k, v]) => [k, k === 'bytes' ? bytes(v) : num(v, 0)])));
    const lookups = (stats.hits || 0) + (stats.misses || 0) + (stats.joins || 0);
    const tile = (label, value, help) => h('div', {class: 'tile', 'data-metric': label},
      h('div', {class: 'value'}, value), h('div', {class: 'label'}, label), help ? h('div', {class: 'help'}, help) : null);
    const inFlight = (cluster.fetchNodes || []).reduce((a, n) => a + (n.inFlight || 0), 0);
    const out = [
      tile('cache hit rate', lookups ? `${num((100 * (stats.hits || 0)) / lookups, 1)} %` : '–', `${num(lookups, 0)} lookups`),
      tile('fetches in flight', num(inFlight, 0), 'over the fetch nodes')];
    if (metrics.error) {
      out.push(tile('metrics', '–', `/metrics: ${metrics.error.detail || metrics.error.message}`));
      queues.replaceChildren(h('p', {class: 'muted'}, 'No metrics: the fetch rate, p99 and queues come from /metrics.'));
    } else {
      const now = Date.now();
      const fetches = sum(metrics, 'fetchbus_fetches_total');
      const rate = previous ? ((fetches - previous.fetches) * 1000) / Math.max(1, now - previous.at) : null;
      previous = {at: now, fetches};
      const p = p99(metrics, 'fetchbus_fetch_duration_seconds');
      out.unshift(tile('fetch rate', rate === null ? '…' : `${num(rate, 1)}/s`, `${num(fetches, 0)} fetches since start`));
      out.push(tile('fetch p99', p === null ? '–' : p === Infinity ? '> 60 s' : `≤ ${num(p * 1000, 0)} ms`, 'fetch duration'),
        tile('HTTP requests in progress', num(sum(metrics, 'vertx_http_server_active_requests'), 0), 'this node\'s API'),
        tile('frontier queued', num(sum(metrics, 'fetchbus_crawl_frontier_entries', l => l.state === 'queued'), 0), 'URLs waiting, all jobs'),
        tile('search lag', num(sum(metrics, 'fetchbus_search_lag_pages'), 0), 'pages not searchable yet'));
      const pending = metrics.filter(s => (s.name === 'vertx_pool_queue_pending' || s.name === 'vertx_eventbus_pending') && s.value > 0);
      queues.replaceChildren(
        table(['Queue', 'Depth'], [
          ['Crawl frontier: queued', num(sum(metrics, 'fetchbus_crawl_frontier_entries', l => l.state === 'queued'), 0)],
          ['Crawl frontier: leased', num(sum(metrics, 'fetchbus_crawl_frontier_entries', l => l.state === 'leased'), 0)],
          ['Jobs running', num(sum(metrics, 'fetchbus_crawl_jobs', l => l.state === 'running'), 0)],
          ['Jobs queued', num(sum(metrics, 'fetchbus_crawl_jobs', l => l.state === 'queued'), 0)],
          ['Search index lag (pages)', num(sum(metrics, 'fetchbus_search_lag_pages'), 0)],
          ...pending.map(s => [`${s.name.replace(/^vertx_/, '')} ${Object.values(s.labels).join(' ')}`, num(s.value, 0)])]));
    }
    tiles.replaceChildren(...out);
  }

  await refresh();
  every(5000, signal, refresh);
}

// Last, once every declaration above is initialised.
window.addEventListener('hashchange', route);
route();
