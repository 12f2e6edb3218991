// Starts firecrawl-mcp (Firecrawl's MCP server) on stdio with FIRECRAWL_API_URL pointing at Fetchbus, speaks MCP to
// it with the MCP SDK's own client, and prints what its tools answered, as one JSON object.
// node mcp.mjs <apiUrl> <apiKey> <pageUrl> <crawlUrl>: FirecrawlSdkTest runs it and asserts on the output.
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [apiUrl, apiKey, pageUrl, crawlUrl] = process.argv.slice(2);
const out = {};
// The server runs on this same Node.js (22, which it needs), whatever the machine's node is.
const server = createRequire(import.meta.url).resolve('firecrawl-mcp/dist/index.js');
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [server],
  env: { PATH: process.env.PATH, HOME: process.env.HOME, FIRECRAWL_API_URL: apiUrl, FIRECRAWL_API_KEY: apiKey },
  stderr: 'pipe',
});
let serverLog = '';
transport.stderr?.on('data', (chunk) => { serverLog += chunk; });
const client = new Client({ name: 'fetchbus-test', version: '1.0.0' });

/** A tool's answer: its text parsed as JSON when it is, and whether MCP calls it an error. */
async function call(name, args) {
  try {
    const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
    const text = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    let value = text;
    try { value = JSON.parse(text); } catch { /* not JSON: kept as text */ }
    out[name] = { ok: !result.isError, value };
  } catch (err) {
    out[name] = { ok: false, message: String(err.message) };
  }
}

try {
  await client.connect(transport);
  out.server = client.getServerVersion();
  out.tools = (await client.listTools()).tools.map((t) => t.name);
  await call('firecrawl_scrape', { url: pageUrl, formats: ['markdown', 'links'] });
  await call('firecrawl_map', { url: pageUrl });
  await call('firecrawl_crawl', { url: crawlUrl, limit: 20, scrapeOptions: { formats: ['markdown'] } });
} catch (err) {
  out.error = String(err.message);
} finally {
  out.serverLog = serverLog.slice(-4000);
  await client.close().catch(() => {});
}
console.log(JSON.stringify(out));
