package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;

/**
 * A real DNS server on 127.0.0.1 (UDP) that answers every query with NXDOMAIN: point a Vert.x resolver at it
 * and every name fails to resolve, as it would for a mistyped host, without touching the machine's DNS.
 */
public final class NxDomainDns {
  private final DatagramSocket socket;

  private NxDomainDns(DatagramSocket socket) {
    this.socket = socket;
  }

  public static Future<NxDomainDns> start(Vertx vertx) {
    DatagramSocket socket = vertx.createDatagramSocket();
    socket.handler(packet -> {
      Buffer reply = answer(packet.data());
      if (reply != null) {
        socket.send(reply, packet.sender().port(), packet.sender().host());
      }
    });
    return socket.listen(0, "127.0.0.1").map(s -> new NxDomainDns(s));
  }

  public int port() {
    return socket.localAddress().port();
  }

  public Future<Void> close() {
    return socket.close();
  }

  /** The query's header and question, flagged as a response with RCODE 3 (NXDOMAIN) and no records. */
  private static Buffer answer(Buffer query) {
    if (query.length() < 12) {
      return null;
    }
    int pos = 12;
    while (pos < query.length() && query.getUnsignedByte(pos) != 0) {
      pos += query.getUnsignedByte(pos) + 1;
    }
    int end = pos + 1 + 4; // the root label, QTYPE, QCLASS
    if (end > query.length()) {
      return null;
    }
    Buffer reply = query.getBuffer(0, end);
    reply.setUnsignedByte(2, (short) (0x80 | (query.getUnsignedByte(2) & 0x79))); // QR, opcode, RD
    reply.setUnsignedByte(3, (short) 0x83); // RA, NXDOMAIN
    reply.setUnsignedShort(6, 0).setUnsignedShort(8, 0).setUnsignedShort(10, 0);
    return reply;
  }
}
