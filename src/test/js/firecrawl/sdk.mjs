// Runs Firecrawl's own JavaScript SDKs against Fetchbus and prints what they answered, as one JSON object.
// node sdk.mjs <apiUrl> <apiKey> <pageUrl>: FirecrawlSdkTest runs it and asserts on the output.
import Firecrawl from 'firecrawl-v2';
import FirecrawlApp from 'firecrawl-v1';

const [apiUrl, apiKey, pageUrl] = process.argv.slice(2);
const out = {};

/** What the SDK threw: its message and status, as a user of the SDK sees them. */
async function attempt(name, call) {
  try {
    out[name] = { ok: true, value: await call() };
  } catch (err) {
    out[name] = { ok: false, message: String(err.message), status: err.status ?? err.statusCode ?? null };
  }
}

const v2 = new Firecrawl({ apiKey, apiUrl, maxRetries: 1 });
await attempt('v2Scrape', () => v2.scrape(pageUrl, { formats: ['markdown', 'html', { type: 'rawHtml' }, 'links'] }));
await attempt('v2ScrapeAgain', () => v2.scrape(pageUrl, { formats: ['markdown'], maxAge: 600000 }));
await attempt('v2Map', () => v2.map(pageUrl, { sitemap: 'include', limit: 100 }));
await attempt('v2Screenshot', () => v2.scrape(pageUrl, { formats: ['screenshot'] }));
await attempt('v2Cookie', () => v2.scrape(pageUrl, { formats: ['markdown'], headers: { Cookie: 'session=1' } }));

const v1 = new FirecrawlApp({ apiKey, apiUrl });
await attempt('v1Scrape', () => v1.scrapeUrl(pageUrl, { formats: ['markdown', 'links'] }));
await attempt('v1Map', () => v1.mapUrl(pageUrl, { ignoreSitemap: true }));
await attempt('v1Actions', () => v1.scrapeUrl(pageUrl, { formats: ['markdown'], actions: [{ type: 'wait', milliseconds: 10 }] }));

console.log(JSON.stringify(out));
