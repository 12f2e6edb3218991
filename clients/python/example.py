"""Fetch a page through Fetchbus, then crawl a site and print its progress until the crawl ends.

    python3 example.py https://example.com/ [--port 7000] [--api-key KEY]

Start Fetchbus with the bridge on: FETCHBUS_BRIDGE_ENABLED=true java -jar target/fetchbus.jar
"""

import argparse
import asyncio
import os

from fetchbus_bridge import FetchbusBridge, html_title


async def main(url, host, port, api_key):
    async with FetchbusBridge(host, port, api_key=api_key) as bridge:
        page = await bridge.fetch(url)
        print(f"fetched {page['finalUrl']}: {page['status']} {page['contentType']}, {page['bytes']} bytes,"
              f" title {html_title(page['body'])!r}")

        job = await bridge.crawl({"url": url, "maxDepth": 1, "limit": 50})
        print(f"crawl {job['id']} submitted")
        async for progress in bridge.follow(job["id"]):
            print(f"  {progress['status']:<9} completed {progress['completed']}, failed {progress['failed']},"
                  f" queued {progress['queued']}, in progress {progress['inProgress']}")
        print(f"crawl {progress['status']}: {progress['completed']} pages stored")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000)
    parser.add_argument("--api-key", default=os.environ.get("FETCHBUS_API_KEY"))
    args = parser.parse_args()
    asyncio.run(main(args.url, args.host, args.port, args.api_key))
