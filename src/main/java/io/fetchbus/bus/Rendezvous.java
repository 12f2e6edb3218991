package io.fetchbus.bus;

import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Rendezvous (highest random weight) hashing: the owner of a key among some nodes is the node with the highest
 * score for it. Every node that knows the same nodes picks the same owner, and when a node joins or leaves only
 * the keys it wins or held move. Part of the contract between fetch nodes (they must agree on the owner of an
 * origin), so the hash is fixed: FNV-1a over the UTF-8 bytes of key, a newline and node, then the SplitMix64
 * finalizer; scores compare unsigned, ties go to the greater node id.
 */
public final class Rendezvous {
  private Rendezvous() {}

  /** The owner of {@code key} among {@code nodes} (not empty). */
  public static String owner(String key, Collection<String> nodes) {
    String best = null;
    long bestScore = 0;
    for (String node : nodes) {
      long s = score(key, node);
      int cmp = best == null ? 1 : Long.compareUnsigned(s, bestScore);
      if (cmp > 0 || (cmp == 0 && node.compareTo(best) > 0)) {
        best = node;
        bestScore = s;
      }
    }
    if (best == null) {
      throw new IllegalArgumentException("no nodes");
    }
    return best;
  }

  public static long score(String key, String node) {
    long h = 0xcbf29ce484222325L;
    for (byte b : (key + '\n' + node).getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
