package io.fetchbus.bus;

import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Rendezvous (highest random weight) hashing: the owner of a key among some nodes is the node with the highest
 * score for it. Every node that knows the same nodes picks the same owner, and when a node joins or leaves only
 * the keys it wins or held move. Part of the contract between fetch nodes (they must agree on the owner of an
 * origin), so the hash is fixed: FNV-1a over the UTF-8 bytes of key, a newline and node, then the SplitMix64
 * finalizer; scores compare unsigned, ties go to the greater node id.
 * <p>
 * Origins are owned by <em>bucket</em>: an origin hashes (the same FNV-1a and finalizer over its UTF-8 bytes) into one
 * of {@link #BUCKETS} buckets, and a bucket is owned by the node with the highest score for its number. In cluster
 * mode a fetch node must hold its bucket's lease in PostgreSQL to fetch an origin, and a fixed, small number of
 * buckets keeps those leases few: a node renews all of its own in one statement.
 */
public final class Rendezvous {
  /** How many buckets the origins hash into. Part of the contract between fetch nodes and the origin leases. */
  public static final int BUCKETS = 256;

  private Rendezvous() {}

  /** The bucket of {@code origin} (scheme, host and port, as {@link WebUrl#origin()} spells it): 0 to BUCKETS - 1. */
  public static int bucket(String origin) {
    return (int) Long.remainderUnsigned(mix(fnv(origin)), BUCKETS);
  }

  /** The key bucket {@code b} is hashed by among the nodes. */
  public static String bucketKey(int b) {
    return "bucket/" + b;
  }

  /** The node among {@code nodes} (not empty) that owns the bucket of {@code origin}. */
  public static String ownerOfOrigin(String origin, Collection<String> nodes) {
    return owner(bucketKey(bucket(origin)), nodes);
  }

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
    return mix(fnv(key + '\n' + node));
  }

  private static long fnv(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  private static long mix(long h) {
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
