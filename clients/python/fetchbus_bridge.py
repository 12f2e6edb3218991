"""A small asyncio client for Fetchbus's TCP event-bus bridge, using only the Python standard library.

The bridge speaks frames of a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. A client
sends ``send`` (with a ``replyAddress`` to get an answer), ``publish``, ``register``, ``unregister`` and
``ping`` frames, and receives ``message``, ``err`` and ``pong`` frames. See the README of this directory and
the section "Use it from other languages" of Fetchbus's README.

    async with FetchbusBridge(port=7000, api_key="s3cret") as bridge:
        page = await bridge.fetch("https://example.com/")
        print(page["status"], html_title(page["body"]))
"""

import asyncio
import base64
import itertools
import json
import logging
import struct
from html.parser import HTMLParser

__all__ = ["FetchbusBridge", "BridgeError", "Subscription", "html_title", "FINISHED"]

LOG = logging.getLogger("fetchbus_bridge")

FETCH = "fetchbus.fetch"
CRAWL_SUBMIT = "fetchbus.crawl.submit"
CRAWL_STATUS = "fetchbus.crawl.status"
CRAWL_CANCEL = "fetchbus.crawl.cancel"
PAGES_GET = "fetchbus.pages.get"
PAGE_STORED = "fetchbus.page.stored"
CRAWL_PROGRESS = "fetchbus.crawl.progress"

#: The states in which a crawl or batch job has ended.
FINISHED = ("completed", "cancelled", "failed")

#: The largest frame accepted from the bridge; a longer one is a broken stream.
MAX_FRAME_BYTES = 64 * 1024 * 1024
#: The longest the bridge lets the bus wait for an answer (its headers.timeout bound), in milliseconds.
MAX_BUS_TIMEOUT_MS = 600_000
#: The message of the err frame the bridge adds after each refusal; the refusal itself came just before it.
_BLOCKED = "blocked by bridgeEvent handler"


class BridgeError(Exception):
    """An ``err`` frame: the request failed, or the bridge refused a frame.

    ``code`` is an HTTP status, as Fetchbus's REST API would answer: the failure code Fetchbus replied with
    (400, 401, 403, 404, 413, 429, 502, 503, 504, ...), 504 when the bus timed out waiting for an answer, 503
    when nothing serves the address. ``failure_type`` is the bridge's (``RECIPIENT_FAILURE``, ``TIMEOUT``,
    ``NO_HANDLERS``), ``message`` its text, ``address`` the address the failed frame was sent to.
    """

    def __init__(self, code, message, failure_type=None, address=None):
        super().__init__(f"{code} {message}" if code is not None else message)
        self.code = code
        self.message = message
        self.failure_type = failure_type
        self.address = address

    @classmethod
    def from_frame(cls, frame):
        failure_type = frame.get("failureType")
        code = frame.get("failureCode")
        if failure_type == "TIMEOUT":
            code = 504
        elif failure_type == "NO_HANDLERS":
            code = 503
        elif not isinstance(code, int) or not 400 <= code <= 599:
            code = 500 if failure_type else None
        return cls(code, frame.get("message", ""), failure_type, frame.get("sourceAddress"))


def encode_frame(frame):
    """A frame as bytes: the length of the JSON, 4 bytes big-endian, then the JSON in UTF-8."""
    data = json.dumps(frame, separators=(",", ":")).encode("utf-8")
    return struct.pack(">I", len(data)) + data


def decode_binary(value):
    """Bytes from the base64 text Vert.x writes for a binary value in JSON (either alphabet, padded or not)."""
    text = value.replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _TitleParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.title = None
        self._in_title = False
        self._parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "title" and self.title is None:
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = " ".join("".join(self._parts).split())

    def handle_data(self, data):
        if self._in_title:
            self._parts.append(data)


def html_title(body, encoding="utf-8"):
    """The text of the first ``<title>`` of an HTML body (bytes or str), or None."""
    if isinstance(body, bytes):
        body = body.decode(encoding, errors="replace")
    parser = _TitleParser()
    parser.feed(body or "")
    parser.close()
    return parser.title


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Subscription:
    """Message bodies published to one address, as an async iterator; ``close()`` (or leaving ``async with``) ends it.

    Messages wait in a bounded queue: when ``max_queued`` are waiting, the oldest is dropped and ``dropped``
    counts it. Iterating raises ``BridgeError`` if the bridge refused the subscription, and ``ConnectionError``
    if the connection is lost.
    """

    def __init__(self, bridge, address, max_queued):
        self.address = address
        self.dropped = 0
        self._bridge = bridge
        self._max_queued = max_queued
        self._queue = asyncio.Queue()
        self._closed = False

    def _deliver(self, item):
        if self._queue.qsize() >= self._max_queued:
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def get(self, timeout=None):
        """The next message body; ``asyncio.TimeoutError`` after ``timeout`` seconds without one."""
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if isinstance(item, BaseException):
            self._closed = True
            raise item
        return item

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.get()

    async def close(self):
        if not self._closed:
            self._closed = True
            await self._bridge._unsubscribe(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()


class FetchbusBridge:
    """One connection to the bridge. Use it as ``async with FetchbusBridge(...) as bridge:`` or call
    ``connect()`` and ``close()``.

    ``api_key`` is sent with every frame (``headers.authorization: Bearer <key>``) when set. ``timeout`` (seconds)
    bounds connecting and every request unless a call gives its own; the bus is told to wait as long. A ping
    every ``ping_interval`` seconds keeps the connection checked: without a pong within ``timeout``, the
    connection is closed and everything waiting on it fails with ``ConnectionError``.
    """

    def __init__(self, host="127.0.0.1", port=7000, *, api_key=None, timeout=60.0, ping_interval=20.0,
                 max_queued=1000):
        self.host = host
        self.port = port
        self.api_key = api_key
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.max_queued = max_queued
        self._reader = None
        self._writer = None
        self._write_lock = asyncio.Lock()
        self._replies = {}           # replyAddress -> future of the answer
        self._subscriptions = {}     # address -> [Subscription]
        self._pongs = []             # futures waiting for a pong, oldest first
        self._ids = itertools.count(1)
        self._tasks = []
        self._lost = None

    async def connect(self):
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout)
        self._tasks.append(asyncio.create_task(self._read_loop()))
        if self.ping_interval:
            self._tasks.append(asyncio.create_task(self._ping_loop()))
        return self

    async def close(self):
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._fail_all(ConnectionError("the bridge connection is closed"))
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.close()

    # --- the frames -------------------------------------------------------------------------------------

    def _headers(self, extra=None, timeout=None):
        headers = dict(extra or {})
        if self.api_key:
            headers["authorization"] = "Bearer " + self.api_key
        if timeout is not None:
            headers["timeout"] = max(1, min(MAX_BUS_TIMEOUT_MS, int(timeout * 1000)))
        return headers

    async def _write(self, frame):
        if self._lost is not None:
            raise self._lost
        if self._writer is None:
            raise ConnectionError("not connected: call connect() first")
        async with self._write_lock:
            self._writer.write(encode_frame(frame))
            await self._writer.drain()

    async def request(self, address, body=None, *, timeout=None, headers=None):
        """Sends ``body`` (a dict) to ``address`` and returns the answer's body; raises ``BridgeError`` on an err
        frame and ``asyncio.TimeoutError`` when no answer comes within ``timeout`` seconds."""
        timeout = self.timeout if timeout is None else timeout
        reply_address = f"py.reply.{next(self._ids)}"
        answer = asyncio.get_running_loop().create_future()
        self._replies[reply_address] = answer
        try:
            await self._write({"type": "send", "address": address, "replyAddress": reply_address,
                               "headers": self._headers(headers, timeout), "body": {} if body is None else body})
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._replies.pop(reply_address, None)

    async def send(self, address, body=None, *, headers=None):
        """Sends without waiting for an answer (a refusal is only logged)."""
        await self._write({"type": "send", "address": address, "headers": self._headers(headers),
                           "body": {} if body is None else body})

    async def publish(self, address, body=None, *, headers=None):
        """Publishes to every consumer of ``address`` (Fetchbus's own addresses refuse publishing: use request)."""
        await self._write({"type": "publish", "address": address, "headers": self._headers(headers),
                           "body": {} if body is None else body})

    async def ping(self, timeout=None):
        """Sends a ping and waits for the bridge's pong."""
        pong = asyncio.get_running_loop().create_future()
        self._pongs.append(pong)
        try:
            await self._write({"type": "ping"})
            await asyncio.wait_for(pong, self.timeout if timeout is None else timeout)
        finally:
            if pong in self._pongs:
                self._pongs.remove(pong)

    def subscribe(self, address, *, max_queued=None):
        """The bodies published to ``address`` from now on, as an async iterator (``async for body in ...``).

        Register frames are sent once per address and connection, however many subscriptions share it."""
        if self._lost is not None:
            raise self._lost
        sub = Subscription(self, address, max_queued or self.max_queued)
        subs = self._subscriptions.setdefault(address, [])
        subs.append(sub)
        if len(subs) == 1:
            self._writer.write(encode_frame({"type": "register", "address": address, "headers": self._headers()}))
        return sub

    async def _unsubscribe(self, sub):
        subs = self._subscriptions.get(sub.address, [])
        if sub in subs:
            subs.remove(sub)
            if not subs:
                del self._subscriptions[sub.address]
                if self._lost is None:
                    await self._write({"type": "unregister", "address": sub.address, "headers": self._headers()})

    # --- Fetchbus ---------------------------------------------------------------------------------------

    async def fetch(self, url, *, timeout=None, **options):
        """Fetches ``url`` through Fetchbus (``fetchbus.fetch``: fetched, or from its cache; not stored).

        ``options`` are the request's fields, in snake_case or camelCase: ``max_age_seconds``, ``obey_robots``,
        ``max_concurrency``, ``only_if_cached``, ... The answer is the fetch result with ``body`` as bytes."""
        body = {"url": url}
        body.update({_camel(k): v for k, v in options.items()})
        result = await self.request(FETCH, body, timeout=timeout)
        if isinstance(result.get("body"), str):
            result["body"] = decode_binary(result["body"])
        return result

    async def crawl(self, spec, *, idempotency_key=None, timeout=None):
        """Submits a crawl (the spec of ``POST /v1/crawls``) and returns the job: ``id``, ``status``, counts."""
        body = {"kind": "crawl", "spec": spec}
        if idempotency_key is not None:
            body["idempotencyKey"] = idempotency_key
        return await self.request(CRAWL_SUBMIT, body, timeout=timeout)

    async def status(self, job_id, *, timeout=None):
        """The job with its counts (``fetchbus.crawl.status``); ``BridgeError`` 404 for an unknown id."""
        return await self.request(CRAWL_STATUS, {"id": job_id}, timeout=timeout)

    async def cancel(self, job_id, *, timeout=None):
        return await self.request(CRAWL_CANCEL, {"id": job_id}, timeout=timeout)

    async def page(self, page_id, *, timeout=None):
        """A stored page record (``fetchbus.pages.get``)."""
        return await self.request(PAGES_GET, {"id": page_id}, timeout=timeout)

    async def follow(self, job_id, *, idle=10.0):
        """The job's progress, from its status now until it has ended: an async iterator of job records.

        It subscribes to ``fetchbus.crawl.progress`` first, so no change is missed, and asks for the status
        again whenever no progress has come for ``idle`` seconds."""
        async with self.subscribe(CRAWL_PROGRESS) as progress:
            job = await self.status(job_id)
            yield job
            while job.get("status") not in FINISHED:
                try:
                    update = await progress.get(timeout=idle)
                except asyncio.TimeoutError:
                    update = await self.status(job_id)
                if update.get("id") == job_id:
                    job = update
                    yield job

    # --- reading ----------------------------------------------------------------------------------------

    async def _read_loop(self):
        try:
            while True:
                head = await self._reader.readexactly(4)
                (length,) = struct.unpack(">I", head)
                if length > MAX_FRAME_BYTES:
                    raise ConnectionError(f"the bridge sent a frame of {length} bytes, over {MAX_FRAME_BYTES}")
                self._dispatch(json.loads((await self._reader.readexactly(length)).decode("utf-8")))
        except asyncio.CancelledError:
            raise
        except asyncio.IncompleteReadError:
            self._fail_all(ConnectionError("the bridge closed the connection"))
        except Exception as e:  # a broken stream: everything waiting on it fails with the reason
            self._fail_all(e if isinstance(e, ConnectionError) else ConnectionError(f"bridge connection lost: {e!r}"))

    def _dispatch(self, frame):
        kind = frame.get("type")
        address = frame.get("address")
        if kind == "pong":
            if self._pongs:
                pong = self._pongs.pop(0)
                if not pong.done():
                    pong.set_result(None)
        elif kind == "message":
            if address in self._replies:
                answer = self._replies.pop(address)
                if not answer.done():
                    answer.set_result(frame.get("body"))
            else:
                for sub in list(self._subscriptions.get(address, [])):
                    sub._deliver(frame.get("body"))
        elif kind == "err":
            error = BridgeError.from_frame(frame)
            if address in self._replies:
                answer = self._replies.pop(address)
                if not answer.done():
                    answer.set_exception(error)
            elif address in self._subscriptions:
                # The register was refused: the subscriptions end with the reason.
                for sub in self._subscriptions.pop(address):
                    sub._deliver(error)
            elif frame.get("message") == _BLOCKED:
                LOG.debug("the bridge dropped a refused frame")
            else:
                LOG.warning("bridge error: %s", error)
        else:
            LOG.debug("ignoring a frame of type %r", kind)

    async def _ping_loop(self):
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.ping()
            except asyncio.TimeoutError:
                self._fail_all(ConnectionError(f"no pong from the bridge within {self.timeout} s"))
                self._writer.close()
                return
            except ConnectionError:
                return

    def _fail_all(self, error):
        if self._lost is None:
            self._lost = error
        for answer in self._replies.values():
            if not answer.done():
                answer.set_exception(error)
        self._replies.clear()
        for pong in self._pongs:
            if not pong.done():
                pong.set_exception(error)
        self._pongs.clear()
        for subs in self._subscriptions.values():
            for sub in subs:
                sub._deliver(error)
        self._subscriptions.clear()
