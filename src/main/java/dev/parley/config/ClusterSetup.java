package dev.parley.config;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the Hazelcast configuration: {@code conf/cluster.xml} (from the working directory, else the copy in
 * the jar) with the network taken from the typed config: bind address and port, TCP/IP join to the given
 * seeds, no multicast. When {@code cluster.xml} enables Hazelcast's Kubernetes discovery instead, that join
 * is kept as written and the seeds are not used (README, "Kubernetes"). Members do not authenticate each
 * other, so the cluster port must be reachable only from the cluster's own hosts (README, Operations).
 */
public final class ClusterSetup {

  public static final String CLUSTER_XML = "conf/cluster.xml";
  /** Names another Hazelcast XML file than {@link #CLUSTER_XML}, as {@code PARLEY_CONFIG} does for the settings. */
  public static final String CLUSTER_CONFIG_VARIABLE = "PARLEY_CLUSTER_CONFIG";

  private ClusterSetup() {
  }

  public static Config hazelcast(ParleyConfig.Cluster cluster) {
    return hazelcast(cluster, load());
  }

  /** Applies the typed settings to a Hazelcast configuration read from {@code cluster.xml}. Blocking (DNS). */
  public static Config hazelcast(ParleyConfig.Cluster cluster, Config config) {
    // Hazelcast wants an address here; a name (a container's service name, a pod's host name) is resolved first.
    config.setProperty("hazelcast.local.localAddress", address(cluster.host()));
    // Open-source Hazelcast has no member authentication: listen on CLUSTER_HOST only, never on every interface.
    config.setProperty("hazelcast.socket.bind.any", "false");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(false);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    if (join.getKubernetesConfig().isEnabled()) {
      join.getTcpIpConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      return config;
    }
    join.getAutoDetectionConfig().setEnabled(false);
    List<String> members = new ArrayList<>(cluster.members());
    String self = cluster.host() + ":" + cluster.port();
    if (!members.contains(self)) {
      members.add(self);
    }
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    return config;
  }

  private static String address(String host) {
    try {
      return java.net.InetAddress.getByName(host).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      throw new ConfigException("CLUSTER_HOST", "'" + host + "' does not resolve to an address");
    }
  }

  /** Parses a Hazelcast XML configuration. */
  public static Config parse(InputStream xml) {
    return new XmlConfigBuilder(xml).build();
  }

  private static Config load() {
    String named = System.getenv(CLUSTER_CONFIG_VARIABLE);
    if (named != null && !named.isBlank() && !Files.isReadable(Path.of(named))) {
      throw new ConfigException(CLUSTER_CONFIG_VARIABLE, "cannot read " + named);
    }
    Path file = Path.of(named == null || named.isBlank() ? CLUSTER_XML : named);
    try (InputStream in = Files.exists(file)
      ? Files.newInputStream(file)
      : ClusterSetup.class.getClassLoader().getResourceAsStream(CLUSTER_XML)) {
      if (in == null) {
        throw new ConfigException("CLUSTER", CLUSTER_XML + " is missing from the working directory and the jar");
      }
      return parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
