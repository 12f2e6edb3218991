package io.fetchbus.fetch;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Collects a body chunk by chunk and hashes it as it arrives: each chunk costs microseconds on the event loop,
 * where hashing a finished 10 MB body in one go would hold it for tens of milliseconds.
 */
final class BodyAccumulator {
  private final Buffer buffer;
  private final MessageDigest digest;

  BodyAccumulator(int initialCapacity) {
    buffer = Buffer.buffer(Math.max(256, Math.min(initialCapacity, 1 << 20)));
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  void append(Buffer chunk) {
    buffer.appendBuffer(chunk);
    // The public Buffer gives bytes only as a copy; the internal ByteBuf gives a view: no copy of each chunk.
    digest.update(((BufferInternal) chunk).getByteBuf().nioBuffer());
  }

  int size() {
    return buffer.length();
  }

  /**
   * The body. A buffer grown chunk by chunk can hold far more capacity than content (growth steps are up to
   * 4 MiB); a copy of the exact size keeps what the cache weighs equal to what it holds.
   */
  Buffer buffer() {
    // Internal API: the public Buffer tells its length, never its capacity.
    int capacity = ((BufferInternal) buffer).getByteBuf().capacity();
    return capacity - buffer.length() > 64 * 1024 ? buffer.copy() : buffer;
  }

  String sha256() {
    return HexFormat.of().formatHex(digest.digest());
  }
}
