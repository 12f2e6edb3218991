package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A real DNS server on 127.0.0.1 (UDP) for tests: A queries for the names it knows get all their addresses,
 * anything else gets NXDOMAIN. Point a Vert.x resolver at it to get mistyped hosts, or a name with several
 * addresses, without touching the machine's DNS.
 */
public final class TestDns {
  private final DatagramSocket socket;

  private TestDns(DatagramSocket socket) {
    this.socket = socket;
  }

  /** {@code records}: lower-case name -> its IPv4 addresses. */
  public static Future<TestDns> start(Vertx vertx, Map<String, List<String>> records) {
    DatagramSocket socket = vertx.createDatagramSocket();
    socket.handler(packet -> {
      Buffer reply = answer(packet.data(), records);
      if (reply != null) {
        socket.send(reply, packet.sender().port(), packet.sender().host());
      }
    });
    return socket.listen(0, "127.0.0.1").map(s -> new TestDns(s));
  }

  public int port() {
    return socket.localAddress().port();
  }

  public Future<Void> close() {
    return socket.close();
  }

  /** The query's header and question, as a response: the A records of a known name, else RCODE 3 (NXDOMAIN). */
  private static Buffer answer(Buffer query, Map<String, List<String>> records) {
    if (query.length() < 12) {
      return null;
    }
    StringBuilder name = new StringBuilder();
    int pos = 12;
    while (pos < query.length() && query.getUnsignedByte(pos) != 0) {
      int len = query.getUnsignedByte(pos);
      if (pos + 1 + len > query.length()) {
        return null;
      }
      name.append(name.length() == 0 ? "" : ".").append(query.getString(pos + 1, pos + 1 + len));
      pos += len + 1;
    }
    int end = pos + 1 + 4; // the root label, QTYPE, QCLASS
    if (end > query.length()) {
      return null;
    }
    int qtype = query.getUnsignedShort(pos + 1);
    List<String> addresses = records.getOrDefault(name.toString().toLowerCase(Locale.ROOT), List.of());
    Buffer reply = query.getBuffer(0, end);
    reply.setUnsignedByte(2, (short) (0x80 | (query.getUnsignedByte(2) & 0x79))); // QR, opcode, RD
    reply.setUnsignedByte(3, (short) (addresses.isEmpty() ? 0x83 : 0x80)); // RA, NXDOMAIN or NOERROR
    reply.setUnsignedShort(8, 0).setUnsignedShort(10, 0);
    int answers = 0;
    if (qtype == 1) {
      for (String a : addresses) {
        reply.appendUnsignedShort(0xC00C).appendUnsignedShort(1).appendUnsignedShort(1).appendInt(60)
            .appendUnsignedShort(4).appendBytes(ipv4(a));
        answers++;
      }
    }
    reply.setUnsignedShort(6, answers);
    return reply;
  }

  private static byte[] ipv4(String literal) {
    try {
      return InetAddress.getByName(literal).getAddress();
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("not an IPv4 literal: " + literal, e);
    }
  }
}
