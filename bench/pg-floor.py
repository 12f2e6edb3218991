"""PostgreSQL's own cost of storing a page, the seed stack's way and searchable: the floor under the bench's targets.

Inserts the pages of a finished bench run (their bodies, titles and search vectors, as Fetchbus stored them) into a
table of the seed stack's schema, four ways: one row a statement as the seed stack does, the same with a search
vector and its GIN index, then both 16 rows a statement. It reports the CPU all PostgreSQL processes of the machine
used per page (backends, WAL writer, checkpointer, autovacuum: /proc), so run it on an otherwise idle machine.

  /usr/bin/python3 bench/pg-floor.py          # after bash bench/run, whose database holds the pages

FLOOR_SRC: the database to read pages from (the bench's, by default); FLOOR_DST: a database to write the table
floor_pages in (dropped and made again for every way; fetchbus_c by default); N (20000) pages per way; REPS (2).
"""
import asyncio, os, sys, time

import asyncpg

SRC = os.environ.get("FLOOR_SRC", "postgresql://fetchbus:fetchbus@127.0.0.1:5432/fetchbus_bench")
DST = os.environ.get("FLOOR_DST", "postgresql://fetchbus:fetchbus@127.0.0.1:5432/fetchbus_c")
N = int(os.environ.get("N", "20000"))
REPS = int(os.environ.get("REPS", "2"))
TICK = os.sysconf("SC_CLK_TCK")

# The seed stack's schema.sql, under another name.
TABLE = """CREATE TABLE floor_pages (id bigserial PRIMARY KEY, url text NOT NULL, final_url text NOT NULL,
  status integer NOT NULL, content_type text, bytes integer NOT NULL, sha256 char(64) NOT NULL, title text,
  body bytea, fetched_at timestamptz NOT NULL DEFAULT now(), elapsed_ms double precision NOT NULL)"""
COLS = "url, final_url, status, content_type, bytes, sha256, title, body, elapsed_ms"
ONE = f"INSERT INTO floor_pages ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id"
ONE_SEARCH = f"INSERT INTO floor_pages ({COLS}, search) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10::tsvector) RETURNING id"
ARRAYS = "$1::text[],$2::text[],$3::int[],$4::text[],$5::int[],$6::text[],$7::text[],$8::bytea[],$9::float8[]"
MANY = f"INSERT INTO floor_pages ({COLS}) SELECT * FROM unnest({ARRAYS}) RETURNING id"
MANY_SEARCH = (f"INSERT INTO floor_pages ({COLS}, search) SELECT u, f, s, c, b, h, t, y, e, v::tsvector "
               f"FROM unnest({ARRAYS},$10::text[]) AS x (u, f, s, c, b, h, t, y, e, v) RETURNING id")
WAYS = ["seed", "seed + search", "seed, 16 a statement", "seed + search, 16 a statement"]


def postgres_cpu_seconds():
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.index("(") + 1:stat.rindex(")")].startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICK


async def main():
    src = await asyncpg.connect(SRC)
    pages = await src.fetch(
        "SELECT p.url, coalesce(p.final_url, p.url) AS final_url, p.status, p.content_type, p.bytes, p.content_sha256,"
        " p.title, c.body, p.elapsed_ms::float8 AS elapsed_ms, p.search::text AS search"
        " FROM pages p JOIN contents c ON c.sha256 = p.content_sha256 WHERE p.search IS NOT NULL LIMIT 5000")
    await src.close()
    if not pages:
        sys.exit(f"no searchable pages in {SRC}: run bash bench/run first")
    print(f"{len(pages)} pages of {SRC.rsplit('/', 1)[-1]}, {N} inserts per way", flush=True)
    pool = await asyncpg.create_pool(DST, min_size=32, max_size=32)  # one connection per client of a way
    for rep in range(REPS):
        for way in WAYS:
            search, batch = "search" in way, 16 if "16" in way else 1
            async with pool.acquire() as c:
                await c.execute("DROP TABLE IF EXISTS floor_pages")
                await c.execute(TABLE)
                if search:
                    await c.execute("ALTER TABLE floor_pages ADD COLUMN search tsvector")
                    await c.execute("CREATE INDEX floor_pages_search ON floor_pages USING gin (search)")

            def params(i):
                p = pages[i % len(pages)]
                row = [f"{p['url']}#{rep}-{i}", p['final_url'], p['status'], p['content_type'], p['bytes'],
                       p['content_sha256'], p['title'], p['body'], p['elapsed_ms']]
                return row + [p['search']] if search else row

            starts = iter(range(0, N, batch))

            async def client():
                for start in starts:
                    async with pool.acquire() as c:
                        if batch == 1:
                            await c.fetchval(ONE_SEARCH if search else ONE, *params(start))
                        else:
                            rows = [params(i) for i in range(start, min(N, start + batch))]
                            await c.fetch(MANY_SEARCH if search else MANY, *[list(col) for col in zip(*rows)])

            cpu, began = postgres_cpu_seconds(), time.monotonic()
            await asyncio.gather(*[client() for _ in range(32 if batch == 1 else 4)])
            if search:  # what the GIN index's pending list still owes is part of the price
                async with pool.acquire() as c:
                    await c.execute("SELECT gin_clean_pending_list('floor_pages_search')")
            cpu, wall = postgres_cpu_seconds() - cpu, time.monotonic() - began
            print(f"{way:32s} run {rep + 1}: PostgreSQL {cpu * 1000 / N:.3f} ms of CPU per page, {N / wall:,.0f} pages/s",
                  flush=True)
    async with pool.acquire() as c:
        await c.execute("DROP TABLE IF EXISTS floor_pages")
    await pool.close()


asyncio.run(main())
