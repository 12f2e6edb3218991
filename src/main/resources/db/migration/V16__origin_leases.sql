-- Who may fetch which origins in cluster mode. Origins hash into a fixed number of buckets (bus.Rendezvous); a fetch
-- node sends a request to an origin only while it holds its bucket's lease here, so that one node at a time does,
-- whatever the cluster thinks of itself (a split, a frozen node that comes back). A lease names its holder (a
-- node id) and a fencing token, which changes whenever the holder does; lease_until is set by this server's clock.
CREATE SEQUENCE origin_lease_tokens;

CREATE TABLE origin_leases (
  bucket integer PRIMARY KEY CHECK (bucket >= 0),
  owner text NOT NULL,
  token bigint NOT NULL,
  lease_until timestamptz NOT NULL
);

-- One node's whole round: its releases, its renewals and its acquisitions, in one statement, and the holder of every
-- bucket it renewed or asked for after them, with the end of its lease (epoch ms) and how long it still runs. A release or a renewal takes effect only under the holder's own token;
-- an acquisition takes a bucket nobody holds, whose lease has run out, or that the node holds already (its token
-- is kept). The rounds of all nodes are serialised by one transaction-level advisory lock: a round is a few rows,
-- and two rounds taking rows in different orders could otherwise deadlock.
CREATE FUNCTION origin_leases_round(p_node text, p_lease_ms bigint, p_acquire integer[],
                                    p_renew integer[], p_renew_tokens bigint[],
                                    p_release integer[], p_release_tokens bigint[])
RETURNS TABLE (bucket integer, owner text, token bigint, until_ms bigint, ms_left bigint) LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('fetchbus.origin_leases'));
  DELETE FROM origin_leases l USING unnest(p_release, p_release_tokens) AS r (b, t)
    WHERE l.bucket = r.b AND l.token = r.t AND l.owner = p_node;
  UPDATE origin_leases l SET lease_until = clock_timestamp() + p_lease_ms * interval '1 millisecond'
    FROM unnest(p_renew, p_renew_tokens) AS r (b, t)
    WHERE l.bucket = r.b AND l.token = r.t AND l.owner = p_node;
  INSERT INTO origin_leases AS l (bucket, owner, token, lease_until)
    SELECT a, p_node, nextval('origin_lease_tokens'), clock_timestamp() + p_lease_ms * interval '1 millisecond'
    FROM unnest(p_acquire) AS a ORDER BY a
    ON CONFLICT ON CONSTRAINT origin_leases_pkey DO UPDATE
      SET owner = excluded.owner, lease_until = excluded.lease_until,
          token = CASE WHEN l.owner = excluded.owner THEN l.token ELSE excluded.token END
      WHERE l.owner = excluded.owner OR l.lease_until < clock_timestamp();
  RETURN QUERY SELECT l.bucket, l.owner, l.token, floor(extract(epoch FROM l.lease_until) * 1000)::bigint,
      greatest(0, ceil(extract(epoch FROM l.lease_until - clock_timestamp()) * 1000))::bigint
    FROM origin_leases l WHERE l.bucket = ANY (p_acquire) OR l.bucket = ANY (p_renew);
END $$;
