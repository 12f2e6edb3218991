#!/usr/bin/env python3
"""Crawl throughput of Fetchbus with one node and with two clustered nodes, on this machine.

Needs the fat jar (mvn -B -q package -DskipTests), a PostgreSQL database it may empty (FETCHBUS_PG_URL, e.g.
postgresql://fetchbus:fetchbus@127.0.0.1:5432/fetchbus_cluster_bench) and psql; only the Python standard library.

    FETCHBUS_PG_URL=postgresql://... python3 bench/cluster.py [--runs 3] [--sites 8] [--pages 400]

A generated site (each page links to 2i+1, 2i+2 and (7i+3) mod n, so every page is reachable from /p/0) is served
on --sites ports of 127.0.0.1: each port is an origin of its own, so the per-host limits (fetch.perHostConcurrency
4) do not cap the whole crawl, and the origins spread over the fetch nodes. One crawl per origin is submitted at
once; the figure is pages stored per second, from the first job's start to the last job's end (the jobs' own
startedAt/finishedAt). Three setups, each run --runs times on an emptied database, the median reported:

  single     one node, all roles, not clustered (the baseline)
  single-hz  one node, all roles, with -cluster (the clustered event bus and Hazelcast, no second node)
  two-nodes  node A (all roles) and node B (fetch, extract, crawl), clustered

Every figure is also given as a ratio to the baseline measured in the same run.
"""
import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "target", "fetchbus.jar")


def site_handler(pages):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real site

        def do_GET(self):
            if self.path == "/robots.txt":
                self.reply(200, "text/plain", "User-agent: *\nAllow: /\n")
                return
            m = re.fullmatch(r"/p/(\d+)", self.path)
            if not m or int(m.group(1)) >= pages:
                self.reply(404, "text/plain", "not found")
                return
            i = int(m.group(1))
            links = [c for c in (2 * i + 1, 2 * i + 2) if c < pages] + [(7 * i + 3) % pages]
            body = "<!doctype html><html><head><title>Page %d</title></head><body><h1>Page %d</h1><p>%s</p><ul>%s</ul></body></html>" % (
                i, i, ("Words of page %d. " % i) * 20, "".join('<li><a href="/p/%d">page %d</a></li>' % (c, c) for c in links))
            self.reply(200, "text/html; charset=utf-8", body)

        def reply(self, status, ctype, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def start_sites(n, pages):
    servers = []
    for _ in range(n):
        server = ThreadingHTTPServer(("127.0.0.1", 0), site_handler(pages))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


def free_base_port(n=5):
    while True:
        base = random.randint(20000, 40000)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()


def cluster_xml(workdir):
    """conf/cluster.xml with a cluster name and ports of this run's own, joining without the 5 s wait."""
    with open(os.path.join(ROOT, "conf", "cluster.xml")) as f:
        xml = f.read()
    xml = xml.replace("<cluster-name>fetchbus</cluster-name>", "<cluster-name>bench-%s</cluster-name>" % uuid.uuid4())
    xml = xml.replace('port-count="20">5701</port>', 'port-count="5">%d</port>' % free_base_port())
    xml = xml.replace("<properties>", '<properties>\n    <property name="hazelcast.wait.seconds.before.join">0</property>')
    path = os.path.join(workdir, "cluster.xml")
    with open(path, "w") as f:
        f.write(xml)
    return path


class Node:
    def __init__(self, name, env, args, workdir):
        self.log = os.path.join(workdir, name + ".log")
        full = {k: v for k, v in os.environ.items() if not k.startswith("FETCHBUS_")}
        full.update(env)
        self.proc = subprocess.Popen(["java", "-Xmx512m", "-jar", JAR] + args, env=full, cwd=workdir,
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def wait_for(self, pattern, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log) as f:
                m = re.search(pattern, f.read())
            if m:
                return m
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited (%s); see %s" % (self.log, self.proc.returncode, self.log))
            time.sleep(0.1)
        raise RuntimeError("timed out waiting for %r in %s" % (pattern, self.log))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def crawl_all(api, sites, pages):
    ids = [http("POST", api + "/v1/crawls", {"url": "http://127.0.0.1:%d/p/0" % s.server_address[1],
                                             "sitemap": "skip", "maxDepth": 50, "limit": pages})["id"]
           for s in sites]
    while True:
        jobs = [http("GET", api + "/v1/crawls/" + i) for i in ids]
        if all(j["status"] in ("completed", "failed", "cancelled") for j in jobs):
            break
        time.sleep(0.2)
    stored = sum(j["completed"] for j in jobs)
    if stored != len(sites) * pages:
        raise RuntimeError("stored %d pages, expected %d: %s" % (stored, len(sites) * pages, jobs))
    seconds = (max(parse_time(j["finishedAt"]) for j in jobs) - min(parse_time(j["startedAt"]) for j in jobs)).total_seconds()
    return stored, seconds


def run(setup, sites, pages, pg_url, workdir):
    env = {"FETCHBUS_PG_URL": pg_url, "FETCHBUS_HTTP_PORT": "0", "FETCHBUS_FETCH_GUARD_ALLOW_PRIVATE_NETWORKS": "true",
           "FETCHBUS_LIMITS_RATE_PER_SECOND": "10000", "FETCHBUS_LIMITS_BURST": "10000", "FETCHBUS_LOG_LEVEL": "INFO",
           "FETCHBUS_CRAWL_POLL_MS": "50"}
    nodes = []
    try:
        if setup == "single":
            a = Node(setup + "-a", env, [], workdir)
            nodes.append(a)
        else:
            env["FETCHBUS_CLUSTER_CONFIG"] = cluster_xml(workdir)
            a = Node(setup + "-a", env, ["-cluster"], workdir)
            nodes.append(a)
            if setup == "two-nodes":
                a.wait_for(r"Members \{size:")
                b = Node(setup + "-b", env, ["-cluster", "--roles", "fetch,extract,crawl"], workdir)
                nodes.append(b)
                b.wait_for(r"Fetchbus started without the api role")
        port = int(a.wait_for(r"Fetchbus listening on http://127\.0\.0\.1:(\d+)").group(1))
        api = "http://127.0.0.1:%d" % port
        if setup == "two-nodes":
            while len(http("GET", api + "/v1/cluster")["fetchNodes"]) < 2:
                time.sleep(0.1)
        # Once the store has migrated the schema: every setup starts from an empty database.
        subprocess.run(["psql", pg_url, "-q", "-c", "TRUNCATE pages, contents, crawl_jobs, frontier, crawl_hosts, watch_changes RESTART IDENTITY"],
                       check=True, capture_output=True)
        stored, seconds = crawl_all(api, sites, pages)
        time.sleep(1.2)  # a heartbeat later, so that the counts below include the last fetches
        fetched = {n["id"][:8]: n["fetches"] for n in http("GET", api + "/v1/cluster")["fetchNodes"]}
        return stored / seconds, stored, seconds, fetched
    finally:
        for n in nodes:
            n.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--sites", type=int, default=8)
    p.add_argument("--pages", type=int, default=400)
    p.add_argument("--setups", default="single,single-hz,two-nodes")
    args = p.parse_args()
    pg_url = os.environ.get("FETCHBUS_PG_URL")
    if not pg_url:
        sys.exit("set FETCHBUS_PG_URL to a database this may empty")
    if not os.path.isfile(JAR):
        sys.exit(JAR + " is missing: mvn -B -q package -DskipTests")
    sites = start_sites(args.sites, args.pages)
    workdir = tempfile.mkdtemp(prefix="fetchbus-bench-")
    print("%d origins x %d pages, %d runs per setup, %d cores; logs in %s" % (
        args.sites, args.pages, args.runs, os.cpu_count(), workdir), flush=True)
    results = {}
    setups = args.setups.split(",")
    for r in range(args.runs):
        for setup in setups:  # interleaved, so that a change in the machine's load hits every setup alike
            rate, stored, seconds, fetched = run(setup, sites, args.pages, pg_url, workdir)
            results.setdefault(setup, []).append(rate)
            print("run %d %-10s %5d pages in %6.2f s = %7.1f pages/s   upstream requests per fetch node: %s" % (
                r + 1, setup, stored, seconds, rate, fetched), flush=True)
    base = statistics.median(results[setups[0]])
    print("\nmedian pages/s (ratio to %s):" % setups[0])
    for setup in setups:
        m = statistics.median(results[setup])
        print("  %-10s %7.1f  (%.2f)   runs: %s" % (setup, m, m / base, ", ".join("%.1f" % x for x in results[setup])))


if __name__ == "__main__":
    main()
