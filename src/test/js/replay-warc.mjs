// Replays pages of a WARC in ReplayWeb.page (webrecorder's replay, run in Chromium headless through playwright-core):
// for each [url, text] given, opens the replay page of that URL and waits until the replayed page shows the text.
// Prints "REPLAYED <url>" for each; exits non-zero at the first page that does not replay.
import { chromium } from "playwright-core";

const [base, pairsJson] = process.argv.slice(2);
const pairs = JSON.parse(pairsJson);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  for (const [url, text] of pairs) {
    const page = await browser.newPage();
    page.on("console", (m) => console.log("console: " + m.text())); // what ReplayWeb.page says, for a failure
    // The replayed page is a frame of ReplayWeb.page's own frame, at .../mp_/<url> (a revisit may be shown at the URL
    // of the response it refers to: the text tells what was replayed).
    const replayed = (f) => f.url().includes("/mp_/");
    const framed = page.waitForEvent("framenavigated", { predicate: replayed, timeout: 120000 });
    framed.catch(() => {}); // not awaited when the frame is there already: its end with the page is no failure
    await page.goto(base + "/?url=" + encodeURIComponent(url));
    const frame = page.frames().find(replayed) ?? await framed;
    try {
      await frame.waitForFunction((t) => document.body && document.body.innerText.includes(t), text, { timeout: 120000 });
      console.log("REPLAYED " + url);
    } catch (e) {
      console.log("NOT REPLAYED " + url + ": " + JSON.stringify(await frame.evaluate(() => document.body?.innerText)));
      failed = true;
    }
    await page.close();
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
