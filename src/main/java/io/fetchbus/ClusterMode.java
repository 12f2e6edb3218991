package io.fetchbus;

import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import io.fetchbus.config.Settings;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the launcher needs for {@code -cluster}: the Hazelcast cluster manager, configured from
 * {@code cluster.config}, else {@code conf/cluster.xml}, else the copy of it in the jar; and the event bus's own
 * host and port from {@code cluster.*} (the launcher's {@code -cluster-host}, {@code -cluster-port},
 * {@code -cluster-public-host} and {@code -cluster-public-port} are applied after these, so they win).
 * Runs on the launcher's main thread, before Vert.x exists: reading a file here blocks nothing.
 */
final class ClusterMode {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterMode.class);
  static final String DEFAULT_FILE = "conf/cluster.xml";
  static final String RESOURCE = "cluster.xml";

  private ClusterMode() {}

  /**
   * A cluster manager for the configuration's {@code cluster} part. {@code config} is null when the configuration
   * cannot be read yet: Hazelcast's own settings then, and MainVerticle, reading it again, reports what is wrong.
   */
  static HazelcastClusterManager clusterManager(JsonObject config) {
    return new HazelcastClusterManager(hazelcastConfig(config));
  }

  static Config hazelcastConfig(JsonObject config) {
    String file = config == null ? "" : Settings.string(config, "cluster", "config");
    Config hz;
    String source;
    try {
      if (!file.isBlank()) {
        hz = new FileSystemXmlConfig(file);
        source = file;
      } else if (Files.isRegularFile(Path.of(DEFAULT_FILE))) {
        hz = new FileSystemXmlConfig(DEFAULT_FILE);
        source = DEFAULT_FILE;
      } else {
        hz = new ClasspathXmlConfig(RESOURCE);
        source = "the jar's " + RESOURCE;
      }
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException("cluster.config: " + file + " cannot be read", e);
    }
    String name = config == null ? "" : Settings.string(config, "cluster", "name");
    if (!name.isBlank()) {
      hz.setClusterName(name);
    }
    LOG.info("cluster mode: Hazelcast configured by {}, cluster {}", source, hz.getClusterName());
    return hz;
  }

  /**
   * The event bus's host and port from {@code cluster.host}, {@code .port}, {@code .publicHost}, {@code .publicPort};
   * none when {@code config} is null (not readable yet, see {@link #clusterManager}).
   */
  static void applyTo(EventBusOptions eventBus, JsonObject config) {
    if (config == null) {
      return;
    }
    String host = Settings.string(config, "cluster", "host");
    if (!host.isBlank()) {
      eventBus.setHost(host);
    }
    int port = Settings.number(config, "cluster", "port").intValue();
    if (port > 0) {
      eventBus.setPort(port);
    }
    String publicHost = Settings.string(config, "cluster", "publicHost");
    if (!publicHost.isBlank()) {
      eventBus.setClusterPublicHost(publicHost);
    }
    int publicPort = Settings.number(config, "cluster", "publicPort").intValue();
    if (publicPort > 0) {
      eventBus.setClusterPublicPort(publicPort);
    }
  }
}
