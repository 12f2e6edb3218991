// Reads a WARC file with webrecorder's warcio (a reader Fetchbus did not write) and checks every record's digests.
// Prints one JSON object a line per record; exits non-zero at the first record that does not parse or verify.
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { WARCParser } from "warcio";

const file = process.argv[2];
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes) {
  let bits = 0, value = 0, out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest();
}

// "sha256:<base32>": the digest header must name SHA-256 and match the bytes.
function verify(header, bytes, what, record) {
  if (!header) throw new Error(`${what} missing on ${record}`);
  const [algo, value] = header.split(":");
  const expected = base32(sha256(bytes));
  if (algo.toLowerCase() !== "sha256" || value.replace(/=+$/, "") !== expected) {
    throw new Error(`${what} ${header} does not match the bytes (sha256:${expected}) on ${record}`);
  }
}

// Pass 1, HTTP unparsed: each record's block, whole, against WARC-Block-Digest.
const blocks = [];
for await (const record of new WARCParser(createReadStream(file), { parseHttp: false })) {
  const block = await record.readFully(false);
  const id = record.warcHeaders.headers.get("WARC-Record-ID");
  verify(record.warcHeaders.headers.get("WARC-Block-Digest"), block, "WARC-Block-Digest", id);
  blocks.push(id);
}

// Pass 2, HTTP parsed: payload digests, heads and bodies.
let n = 0;
for await (const record of new WARCParser(createReadStream(file), { keepHeadersCase: true })) {
  const h = record.warcHeaders.headers;
  const id = h.get("WARC-Record-ID");
  if (id !== blocks[n++]) throw new Error(`record ${n} is ${id} in one pass and ${blocks[n - 1]} in the other`);
  const out = {
    type: record.warcType, id, target: record.warcTargetURI ?? null, date: h.get("WARC-Date"),
    version: record.warcHeaders.protocol, concurrentTo: h.get("WARC-Concurrent-To") ?? null,
    refersTo: h.get("WARC-Refers-To") ?? null, refersToTarget: h.get("WARC-Refers-To-Target-URI") ?? null,
    profile: h.get("WARC-Profile") ?? null, ip: h.get("WARC-IP-Address") ?? null,
  };
  if (record.warcType === "response" || record.warcType === "resource") {
    const payload = await record.readFully(false);
    verify(h.get("WARC-Payload-Digest"), payload, "WARC-Payload-Digest", id);
    out.payloadSha256 = sha256(payload).toString("hex");
    out.payloadBytes = payload.length;
  }
  if (record.warcType === "revisit") {
    out.payloadDigest = h.get("WARC-Payload-Digest");
  }
  if (record.httpHeaders) {
    out.statusline = record.httpHeaders.statusline;
    out.headers = Object.fromEntries(record.httpHeaders.headers);
  }
  if (record.warcType === "warcinfo") {
    out.info = new TextDecoder().decode(await record.readFully(false));
  }
  console.log(JSON.stringify(out));
}
