package io.fetchbus.api.http;

import io.fetchbus.bus.Failure;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Refuses a request body that is not well-formed UTF-8 (RFC 8259 requires it of JSON), before anything parses it.
 * The JSON parser decodes UTF-8 leniently: an overlong {@code C0 AE} became a '.', and a URL that was checked as
 * {@code /a/<junk>/secret} reached the upstream as {@code /a/../secret}. Java's strict decoder refuses overlong forms,
 * encoded surrogates and truncated sequences alike.
 */
public final class Utf8Bodies implements Handler<RoutingContext> {

  @Override
  public void handle(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    int invalid = body == null ? -1 : firstInvalidByte(body);
    if (invalid >= 0) {
      ctx.fail(Failure.INVALID.exception("body: is not valid UTF-8 (byte " + invalid + ")"));
      return;
    }
    ctx.next();
  }

  /** The offset of the first byte that is not part of well-formed UTF-8, or -1 when all of it is. */
  static int firstInvalidByte(Buffer body) {
    int n = body.length();
    int i = 0;
    while (i < n && body.getByte(i) >= 0) {
      i++; // ASCII, the usual case, needs no decoder
    }
    if (i == n) {
      return -1;
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body.getBytes(i, n));
    CharBuffer out = CharBuffer.allocate(Math.min(n - i, 4096));
    while (true) {
      CoderResult result = decoder.decode(in, out, true);
      if (result.isError()) {
        return i + in.position();
      }
      if (result.isUnderflow()) {
        return -1;
      }
      out.clear(); // overflow: the decoded text is not needed, only whether it decodes
    }
  }
}
