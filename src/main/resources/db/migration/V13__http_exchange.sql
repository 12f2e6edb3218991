-- What went over the wire for a fetch, for the WARC export: the request line and headers sent, the status line and
-- headers received (framed for the body as stored), and the address of the server. Null for failed attempts, for
-- pages saved before this version and for pages saved over the bus without them.
ALTER TABLE pages ADD COLUMN request_head text, ADD COLUMN response_head text, ADD COLUMN peer_ip text;
