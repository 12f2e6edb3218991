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
    page.on("response", (r) => { if (r.status() >= 400) console.log("response: " + r.status() + " " + r.url()); });
    // The replayed page is a frame of ReplayWeb.page's own frame, at .../mp_/<url> (a revisit may be shown at the URL
    // of the response it refers to: the text tells what was replayed).
    const replayed = (f) => f.url().includes("/mp_/");
    // ReplayWeb.page registers its service worker on the first visit; now and then that visit then shows no replay
    // frame at all (the worker does not control the page yet). A reload, under the registered worker, shows it.
    let frame = null;
    for (let visit = 1; visit <= 3 && !frame; visit++) {
      const framed = page.waitForEvent("framenavigated", { predicate: replayed, timeout: 40000 });
      framed.catch(() => {}); // awaited below unless the frame is there already
      if (visit === 1) {
        await page.goto(base + "/?url=" + encodeURIComponent(url));
      } else {
        console.log("no replay frame yet: visit " + visit);
        await page.reload();
      }
      frame = page.frames().find(replayed) ?? await framed.catch(() => null);
    }
    if (!frame) {
      console.log("NOT REPLAYED " + url + ": no replay frame after 3 visits");
      failed = true;
      await page.close();
      continue;
    }
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
