// Drives the dashboard in Debian's Chromium (headless) against a running Fetchbus. Run by DashboardBrowserTest:
//   node dashboard.mjs <open|keys> <service base URL> <test site base URL> <screenshot dir> [api key]
// Prints "ok - <step>" per step, and "PASSED <mode>" at the end; on failure "FAILED: <why>" and exit code 1.
// No sleeps: every wait is for a selector, a response or a state, with generous timeouts for a busy machine.
import {chromium} from 'playwright-core';
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const [mode, base, site, shots, key] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
const TIMEOUT = 90_000;

function check(cond, what) {
  if (!cond) throw new Error(what);
}

function ok(step) {
  console.log(`ok - ${step}`);
}

async function main() {
  check(mode === 'open' || mode === 'keys', `unknown mode ${mode}`);
  mkdirSync(shots, {recursive: true});
  const profile = mkdtempSync(join(tmpdir(), 'fetchbus-chromium-'));
  // A persistent context is how Playwright takes a user-data-dir of our own: a fresh one per run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: {width: 1280, height: 900},
  });
  const dialogs = [];
  const pageErrors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('dialog', d => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      if (d.type() === 'confirm') d.accept(); else d.dismiss();
    });
    page.on('pageerror', e => pageErrors.push(String(e)));
    context.on('weberror', e => pageErrors.push(String(e.error())));
    if (mode === 'open') await openMode(page, dialogs); else await keysMode(page);
    check(pageErrors.length === 0, `script errors in the dashboard: ${pageErrors.join(' | ')}`);
    check(!dialogs.some(d => !d.startsWith('confirm')), `a dialog other than the cancel confirmation ran: ${dialogs}`);
    console.log(`PASSED ${mode}`);
  } finally {
    await context.close();
    rmSync(profile, {recursive: true, force: true});
  }
}

async function shot(page, name) {
  await page.screenshot({path: join(shots, `${name}.png`), fullPage: true});
}

/** Submits the crawl form and answers the job's id, read from the form's status line. */
async function startCrawl(page, url, opts) {
  await page.goto(`${base}ui/#/jobs`);
  const panel = page.locator('#crawl-panel');
  if (!(await panel.evaluate(d => d.open))) await panel.locator(':scope > summary').click();
  await page.locator('#crawl-form [name=url]').fill(url);
  await page.locator('#crawl-form [name=maxDepth]').fill(String(opts.maxDepth));
  await page.locator('#crawl-form [name=limit]').fill(String(opts.limit));
  await page.locator('#crawl-form button[type=submit]').click();
  const status = page.locator('#crawl-form .status');
  await status.filter({hasText: /Started crawl|[a-z]/}).waitFor();
  const text = await status.textContent();
  const m = /Started crawl ([0-9a-f-]{36})/.exec(text);
  check(m, `the crawl did not start: ${text}`);
  return m[1];
}

async function startBatch(page, urls) {
  await page.goto(`${base}ui/#/jobs`);
  const panel = page.locator('#batch-panel');
  if (!(await panel.evaluate(d => d.open))) await panel.locator(':scope > summary').click();
  await page.locator('#batch-form [name=urls]').fill(urls.join('\n'));
  await page.locator('#batch-form input[name=batch-format][value=text]').check();
  await page.locator('#batch-form button[type=submit]').click();
  const status = page.locator('#batch-form .status');
  await status.filter({hasText: /\S/}).waitFor();
  const text = await status.textContent();
  const m = /Started batch ([0-9a-f-]{36})/.exec(text);
  check(m, `the batch did not start: ${text}`);
  return m[1];
}

/** Waits for the job's row to show the state, and for a finished job's bar to be full. */
async function rowReaches(page, id, state) {
  const row = page.locator(`#jobs tr[data-job="${id}"][data-state="${state}"]`);
  await row.waitFor();
  const bar = await row.locator('progress').evaluate(p => ({value: p.value, max: p.max}));
  if (state === 'completed') check(bar.value === bar.max && bar.max > 0, `the bar of ${id} is not full: ${JSON.stringify(bar)}`);
  return row;
}

async function openMode(page, dialogs) {
  // The shell at / and its strict CSP.
  const resp = await page.goto(base);
  check(page.url().endsWith('/ui/'), `/ did not lead to /ui/: ${page.url()}`);
  const csp = (await resp.allHeaders())['content-security-policy'] || '';
  check(csp.includes("default-src 'self'") && csp.includes("frame-ancestors 'none'") && !csp.includes('unsafe-inline'),
    `the shell's CSP is not strict: ${csp}`);
  await page.locator('h1', {hasText: 'Jobs'}).waitFor();
  ok('the shell is served at / with a strict CSP');

  // A refusal's problem detail is shown.
  const panel = page.locator('#crawl-panel');
  await panel.locator(':scope > summary').click();
  await page.locator('#crawl-form [name=url]').fill('ftp://example.com/');
  await page.locator('#crawl-form button[type=submit]').click();
  await page.locator('#crawl-form .status.bad', {hasText: 'url:'}).waitFor();
  ok(`a refused crawl shows the problem's detail: ${await page.locator('#crawl-form .status').textContent()}`);

  // Start a crawl from the form and watch its bar fill.
  const crawlId = await startCrawl(page, `${site}/p/0`, {maxDepth: 3, limit: 20});
  ok(`crawl ${crawlId} started from the form`);
  await page.locator('#crawl-panel > summary').click(); // fold the form for the screenshot
  const row = await rowReaches(page, crawlId, 'completed');
  ok('its progress bar reached completion');
  await shot(page, 'jobs');

  // Open it: counts, chart, pages, settings.
  await row.locator('a', {hasText: 'Open'}).click();
  await page.locator('.job-progress[data-state=completed]').waitFor();
  await page.locator('#job-pages table.pages tbody tr').first().waitFor();
  // The chart of a completed job: a bar per second of its life, some of them empty (a second in which no page was
  // stored, as the first one may be on a busy machine), at least one not.
  await page.locator('#job-chart svg.throughput').waitFor();
  const heights = await page.locator('#job-chart svg.throughput rect.bar')
    .evaluateAll(bars => bars.map(b => Number(b.getAttribute('height'))));
  check(heights.some(h => h > 0), `the chart shows no stored page: bar heights ${JSON.stringify(heights)}`);
  const stored = await page.locator('#job-counts td').first().textContent();
  check(Number(stored) >= 5, `the job view counts ${stored} stored pages`);
  await page.locator('#job-settings th', {hasText: 'maxDepth'}).waitFor();
  await shot(page, 'job');
  ok(`the job view shows ${stored} stored pages, the chart and the settings`);

  // Open a page: record, formats, sandboxed content.
  await page.locator('#job-pages table.pages tbody tr a', {hasText: /^\d+$/}).first().click();
  await page.locator('#page-title').waitFor();
  const frame = page.locator('#page-tab iframe.content');
  await frame.waitFor();
  check(await frame.getAttribute('sandbox') === '', 'the content frame is not fully sandboxed');
  const title = await page.locator('#page-title').textContent();
  check(/^Zebrafinch page \d+$/.test(title), `unexpected page title ${title}`);
  await page.locator('[data-tab=markdown]').click();
  await page.locator('#page-tab pre', {hasText: 'zebrafinch'}).waitFor();
  await page.locator('[data-tab=content]').click();
  await page.locator('#page-copies table tbody tr').first().waitFor();
  await shot(page, 'page');
  ok(`the page view shows "${title}" with its formats and a sandboxed frame`);

  // Search for it: results with highlighted matches.
  await searchUntil(page, 'zebrafinch', 'Zebrafinch page');
  const mark = await page.locator('#results .snippet mark').first().textContent();
  check(/zebrafinch/i.test(mark), `the match is not highlighted: ${mark}`);
  await shot(page, 'search');
  await page.locator('#results a.title').first().click();
  await page.locator('#page-title', {hasText: 'Zebrafinch page'}).waitFor();
  ok('search finds the page, with the match highlighted, and opens it');

  // The hostile title: shown as text, nothing runs.
  const batchId = await startBatch(page, [`${site}/hostile`]);
  await rowReaches(page, batchId, 'completed');
  await page.locator(`#jobs tr[data-job="${batchId}"] a`, {hasText: 'Open'}).click();
  await page.locator('#job-pages table.pages tbody tr a').first().click();
  const shown = await page.locator('#page-title').textContent();
  check(shown === HOSTILE, `the hostile title is not shown literally: ${shown}`);
  await page.locator('#page-tab iframe.content').waitFor();
  check(await page.locator('main img').count() === 0, 'an <img> element was made from page data');
  await shot(page, 'hostile');
  await searchUntil(page, 'hostilebody', HOSTILE);
  check(await page.locator('#results img').count() === 0, 'an <img> element was made from a search result');
  check(await page.evaluate(() => window.pwned === undefined && document.title === 'Fetchbus'), 'the stored page reached the dashboard');
  check(await page.locator('#results').textContent().then(t => !t.includes('null')), 'a missing value shows as "null"');
  ok('a page titled <img src=x onerror=alert(1)> shows as that text, and no script of it ran');

  // Cancel a running crawl: the seed's answer is held, so it runs until cancelled.
  const slowId = await startCrawl(page, `${site}/slow/0`, {maxDepth: 1, limit: 10});
  const running = page.locator(`#jobs tr[data-job="${slowId}"][data-state=running]`);
  await running.waitFor();
  await running.locator('button[data-action=cancel]').click();
  await rowReaches(page, slowId, 'cancelled');
  check(dialogs.some(d => d.startsWith('confirm')), 'cancelling asked no confirmation');
  ok('a running crawl is cancelled from its row');

  // The node and the cluster.
  await page.goto(`${base}ui/#/node`);
  await page.locator('#node-tiles .tile[data-metric="cache hit rate"]').waitFor();
  await page.locator('#node-tiles .tile[data-metric="fetch p99"]').waitFor();
  await page.locator('#node-roles td', {hasText: 'api'}).waitFor();
  await page.locator('#fetch-nodes tbody tr').first().waitFor();
  await shot(page, 'node');
  ok('the node view shows roles, fetch nodes, cache and metrics');
}

/** Searches until the results hold `expected` (a page is searchable within search.refreshMs of its save). */
async function searchUntil(page, q, expected) {
  const deadline = Date.now() + TIMEOUT;
  for (let attempt = 0; ; attempt++) {
    // A new hash each attempt, so the view asks again; each attempt waits for the answer, not for a time.
    const answered = page.waitForResponse(r => r.url().includes('/v1/search?'));
    await page.goto(`${base}ui/#/search?q=${encodeURIComponent(q)}&n=${attempt}`);
    await answered;
    const results = page.locator('#results');
    await results.locator('ol.results, p').first().waitFor();
    const titles = await results.locator('a.title').allTextContents();
    if (titles.some(t => t.includes(expected))) return;
    check(Date.now() < deadline, `search for ${q} never found ${expected}: ${titles}`);
  }
}

async function keysMode(page) {
  // Without a key the API answers 401 and the dashboard asks for one.
  await page.goto(base);
  await page.locator('#key-panel').waitFor({state: 'visible'});
  await page.locator('#error', {hasText: 'API key'}).waitFor();
  await shot(page, 'key');
  ok('without a key the dashboard asks for one, with the 401\'s detail');

  await page.locator('#key-input').fill('not-the-key');
  await page.locator('#key-form button[type=submit]').click();
  await page.locator('#error', {hasText: 'not valid'}).waitFor();
  ok('a wrong key is refused with its detail');

  await page.locator('#key-input').fill(key);
  await page.locator('#key-form button[type=submit]').click();
  await page.locator('#key-panel').waitFor({state: 'hidden'});
  await page.locator('#error').waitFor({state: 'hidden'});
  check(await page.evaluate(() => sessionStorage.getItem('fetchbus.apiKey')) === key, 'the key is not in sessionStorage');
  ok('the key is kept in sessionStorage');

  // Everything goes through the key: a batch started, streamed to its end (SSE read with the header), opened.
  const batchId = await startBatch(page, [`${site}/p/1`, `${site}/p/2`]);
  await rowReaches(page, batchId, 'completed');
  await page.locator(`#jobs tr[data-job="${batchId}"] a`, {hasText: 'Open'}).click();
  await page.locator('#job-pages table.pages tbody tr').first().waitFor();
  ok('with the key a batch runs to completion and opens');

  // The node view reads /metrics with the key too (closed when keys are set).
  await page.goto(`${base}ui/#/node`);
  await page.locator('#node-tiles .tile[data-metric="fetch rate"]').waitFor();
  ok('the node view reads /metrics with the key');

  // The key survives a reload in the same tab.
  await page.reload();
  await page.locator('h1', {hasText: 'The node and the cluster'}).waitFor();
  check(await page.locator('#key-panel').isHidden(), 'the dashboard asked again after a reload');
  ok('a reload keeps the key');
}

main().catch(err => {
  console.log(`FAILED: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
