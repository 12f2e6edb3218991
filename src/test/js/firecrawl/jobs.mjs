// Runs Firecrawl's own JavaScript SDKs' job calls against Fetchbus and prints what they answered, as one JSON object.
// node jobs.mjs <apiUrl> <apiKey> <docsSite> <treeSite>: FirecrawlSdkTest runs it and asserts on the output.
// docsSite is DocsSite's origin (paths, robots.txt, a failing URL, /hang/ that never answers), treeSite TestSite's
// (130 pages under /p/, more than one status page holds).
import Firecrawl from 'firecrawl-v2';
import FirecrawlApp from 'firecrawl-v1';

const [apiUrl, apiKey, docs, tree] = process.argv.slice(2);
const out = {};

/** What the call answered, or what the SDK threw: its message and status, as a user of the SDK sees them. */
async function attempt(name, call) {
  try {
    out[name] = { ok: true, value: await call() };
  } catch (err) {
    out[name] = { ok: false, message: String(err.message), status: err.status ?? err.statusCode ?? null };
  }
}

/** A document as the tests look at it: where it came from and a little of its content. */
const brief = (doc) => ({
  sourceURL: doc.metadata?.sourceURL, url: doc.metadata?.url, statusCode: doc.metadata?.statusCode,
  title: doc.metadata?.title, cacheState: doc.metadata?.cacheState, markdown: doc.markdown, html: doc.html,
  links: doc.links,
});
const job = (j) => ({ ...j, data: (j.data ?? []).map(brief) });

/** Resolves with what a watcher emitted once it is done (or failed): its documents and the final event. */
function watch(watcher, start) {
  return new Promise((resolve) => {
    const documents = [];
    const add = (doc) => documents.push(brief(doc.detail ?? doc));
    const finish = (kind) => (event) => resolve({ kind, documents, final: { ...(event.detail ?? event), data: undefined } });
    if (watcher.addEventListener) { // 1.x: an EventTarget
      watcher.addEventListener('document', add);
      watcher.addEventListener('done', finish('done'));
      watcher.addEventListener('error', finish('error'));
    } else {
      watcher.on('document', add);
      watcher.on('done', finish('done'));
      watcher.on('error', finish('error'));
    }
    if (start) start();
  });
}

const v2 = new Firecrawl({ apiKey, apiUrl, maxRetries: 1 });
// crawl() waits for the end; its status has more documents than one page holds, so it follows next.
await attempt('v2Crawl', async () => job(await v2.crawl(`${tree}/p/0`, {
  crawlEntireDomain: true, sitemap: 'skip', limit: 130, scrapeOptions: { formats: ['markdown'] }, pollInterval: 1,
  timeout: 120,
})));
await attempt('v2StatusPage', async () => {
  const s = await v2.getCrawlStatus(out.v2Crawl.value?.id, { autoPaginate: false });
  return { ...s, data: s.data.length };
});
await attempt('v2Batch', async () => job(await v2.batchScrape([`${docs}/docs/a`, `${docs}/blog/x`, 'not a url'], {
  options: { formats: ['markdown', 'html'] }, pollInterval: 1, timeout: 60,
})));
await attempt('v2Errors', async () => {
  const crawl = await v2.crawl(`${docs}/about`, { crawlEntireDomain: true, maxDiscoveryDepth: 1, sitemap: 'skip',
    pollInterval: 1, timeout: 60 });
  return { crawl: job(crawl), errors: await v2.getCrawlErrors(crawl.id) };
});
await attempt('v2Cancel', async () => {
  const started = await v2.startCrawl(`${docs}/hang/`);
  const cancelled = await v2.cancelCrawl(started.id);
  return { cancelled, status: (await v2.getCrawlStatus(started.id)).status };
});
await attempt('v2Watch', async () => {
  const started = await v2.startCrawl(`${docs}/docs/`, { scrapeOptions: { formats: ['markdown'] } });
  const watcher = v2.watcher(started.id, { kind: 'crawl', pollInterval: 1, timeout: 60 });
  return watch(watcher, () => watcher.start());
});
await attempt('v2Refused', () => v2.startCrawl(`${docs}/docs/`, { delay: 1 }));

const v1 = new FirecrawlApp({ apiKey, apiUrl });
await attempt('v1Crawl', async () => job(await v1.crawlUrl(`${tree}/p/0`, {
  crawlEntireDomain: true, ignoreSitemap: true, limit: 130, scrapeOptions: { formats: ['markdown'] },
}, 1)));
await attempt('v1Batch', async () => job(await v1.batchScrapeUrls([`${docs}/docs/a`, `${docs}/docs/b`],
  { formats: ['markdown'] }, 1)));
await attempt('v1Errors', async () => {
  const started = await v1.asyncCrawlUrl(`${docs}/about`, { crawlEntireDomain: true, maxDiscoveryDepth: 1,
    ignoreSitemap: true });
  let status;
  do {
    await new Promise((r) => setTimeout(r, 500));
    status = await v1.checkCrawlStatus(started.id);
  } while (status.status === 'scraping');
  return { status: status.status, errors: await v1.checkCrawlErrors(started.id) };
});
await attempt('v1Cancel', async () => {
  const started = await v1.asyncCrawlUrl(`${docs}/hang/`);
  return { cancelled: await v1.cancelCrawl(started.id), status: (await v1.checkCrawlStatus(started.id)).status };
});
await attempt('v1Watch', async () => {
  const watcher = await v1.crawlUrlAndWatch(`${docs}/docs/`, { scrapeOptions: { formats: ['markdown'] } });
  return watch(watcher);
});
await attempt('v1Refused', () => v1.crawlUrl(`${docs}/docs/`, { scrapeOptions: { formats: ['screenshot'] } }, 1));

console.log(JSON.stringify(out));
