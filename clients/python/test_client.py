"""Drives fetchbus_bridge.py against a running Fetchbus with the bridge on (run by BridgeClientIT).

    python3 test_client.py --bridge-port N --site-url http://127.0.0.1:P --expected-pages 4 --api-key KEY

The site is the test's TestSite. Exits 0 when every check passes, 1 (with the reason) otherwise.
"""

import argparse
import asyncio
import sys
import time

from fetchbus_bridge import CRAWL_PROGRESS, FINISHED, BridgeError, FetchbusBridge, html_title


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}", flush=True)


async def expect_refusal(code, call, what):
    try:
        await call
    except BridgeError as e:
        check(e.code == code, f"{what}: refused with {e.code} ({e.message})")
        return
    raise AssertionError(f"{what}: not refused")


async def main(args):
    async with FetchbusBridge(args.host, args.bridge_port, api_key=args.api_key, timeout=30, ping_interval=1) as bridge:
        await bridge.ping(timeout=5)
        check(True, "ping answered by a pong")

        page = await bridge.fetch(args.site_url + "/p/0")
        check(page["status"] == 200, f"fetch of /p/0 answered status {page['status']}")
        check(html_title(page["body"]) == "Page 0", f"its title is {html_title(page['body'])!r}")

        started = time.monotonic()
        progress = bridge.subscribe(CRAWL_PROGRESS)
        job = await bridge.crawl({"url": args.site_url + "/p/0", "sitemap": "skip", "maxDepth": 1})
        check(job["status"] in ("queued", "running"), f"crawl {job['id']} submitted ({job['status']})")
        events = 0
        last = job
        while last["status"] not in FINISHED:
            update = await progress.get(timeout=30)
            if update.get("id") != job["id"]:
                continue
            events += 1
            last = update
            print(f"   progress: {last['status']} completed={last['completed']} queued={last['queued']}"
                  f" inProgress={last['inProgress']} failed={last['failed']}", flush=True)
        await progress.close()
        check(events > 0, f"{events} progress messages of the job on {CRAWL_PROGRESS}")
        check(last["status"] == "completed", f"the crawl ended {last['status']}"
              f" in {time.monotonic() - started:.1f} s")
        check(last["completed"] == args.expected_pages,
              f"it stored {last['completed']} pages (expected {args.expected_pages})")
        status = await bridge.status(job["id"])
        check(status["completed"] == args.expected_pages, "fetchbus.crawl.status agrees")

        await expect_refusal(404, bridge.status("00000000-0000-0000-0000-000000000000"), "an unknown job")
        for internal in ("fetchbus.frontier.claim", "fetchbus.pages.save", "fetchbus.webhook.deliver"):
            await expect_refusal(403, bridge.request(internal, {}), f"a send to {internal}")
        await expect_refusal(403, bridge.subscribe("fetchbus.fetch").get(timeout=10),
                             "a subscription to fetchbus.fetch")
        await bridge.ping(timeout=5)
        check(True, "the connection still works after the refusals")

    if args.api_key:
        async with FetchbusBridge(args.host, args.bridge_port, timeout=10) as anonymous:
            await expect_refusal(401, anonymous.status(job["id"]), "a frame without an API key")
            await expect_refusal(401, anonymous.subscribe(CRAWL_PROGRESS).get(timeout=10),
                                 "a subscription without an API key")
        async with FetchbusBridge(args.host, args.bridge_port, api_key="wrong-" + args.api_key, timeout=10) as wrong:
            await expect_refusal(401, wrong.fetch(args.site_url + "/p/0"), "a frame with a wrong API key")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="tests fetchbus_bridge.py against a running Fetchbus")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--bridge-port", type=int, required=True)
    parser.add_argument("--site-url", required=True, help="the test site, e.g. http://127.0.0.1:41234")
    parser.add_argument("--expected-pages", type=int, required=True, help="pages a depth-1 crawl of /p/0 stores")
    parser.add_argument("--api-key", default=None)
    arguments = parser.parse_args()
    try:
        asyncio.run(asyncio.wait_for(main(arguments), 120))
    except Exception as e:  # every failure, with its reason, and a non-zero exit
        print(f"FAILED: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
    print("all checks passed")
