package io.fetchbus.bridge;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import java.util.function.LongConsumer;

/**
 * Splits a connection's bytes into frames, holding at most one frame of at most {@code maxFrameBytes}: the length
 * prefix is checked as soon as its 4 bytes arrive, before any of the frame is kept, so a peer that announces 2 GB
 * is turned away at its first bytes instead of being buffered until the heap runs out. After {@link #stop} (a
 * frame too long, or the connection given up) nothing more is delivered.
 */
final class FrameReader implements Handler<Buffer> {
  private static final int PREFIX_BYTES = 4;

  private final RecordParser parser = RecordParser.newFixed(PREFIX_BYTES);
  private final long maxFrameBytes;
  private final Handler<Buffer> frames;
  private final LongConsumer tooLong;
  private boolean readingPrefix = true;
  private boolean stopped;

  /**
   * @param frames gets the bytes of each frame (the JSON, without its prefix); an empty frame is delivered empty
   * @param tooLong gets the length a prefix announced over the limit; nothing is read after it
   */
  FrameReader(long maxFrameBytes, Handler<Buffer> frames, LongConsumer tooLong) {
    this.maxFrameBytes = maxFrameBytes;
    this.frames = frames;
    this.tooLong = tooLong;
    parser.handler(this::record);
  }

  @Override
  public void handle(Buffer bytes) {
    if (!stopped) {
      parser.handle(bytes);
    }
  }

  void stop() {
    stopped = true;
    parser.pause(); // the rest of a chunk being split is not cut into records only to be dropped
  }

  private void record(Buffer record) {
    if (stopped) {
      return; // the parser may still hold records of the chunk that was being split
    }
    if (!readingPrefix) {
      readingPrefix = true;
      parser.fixedSizeMode(PREFIX_BYTES);
      frames.handle(record);
      return;
    }
    long length = record.getUnsignedInt(0);
    if (length > maxFrameBytes) {
      stop();
      tooLong.accept(length);
    } else if (length == 0) {
      frames.handle(Buffer.buffer()); // the parser has no empty records: an empty frame is one of its own
    } else {
      readingPrefix = false;
      parser.fixedSizeMode((int) length);
    }
  }
}
