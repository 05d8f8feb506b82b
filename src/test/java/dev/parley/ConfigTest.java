package dev.parley;

import dev.parley.config.ConfigException;
import dev.parley.config.ConfigLoader;
import dev.parley.config.ParleyConfig;
import dev.parley.support.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigTest {

  @Test
  void emptyConfigurationMeansEmbeddedSingleNodeWithEveryRole() {
    ParleyConfig config = ParleyConfig.fromJson(new JsonObject());
    assertEquals(8080, config.http().port());
    assertNull(config.databaseUrl());
    assertNull(config.redisUrl());
    assertNull(config.auth().jwtSecret());
    assertFalse(config.cluster().enabled());
    assertEquals(ParleyConfig.ALL_ROLES, config.roles());
    assertEquals("extractive", config.assistant().provider());
    assertEquals(86_400, config.auth().expirySeconds());
  }

  @Test
  void environmentStyleStringsAreParsed() {
    ParleyConfig config = ParleyConfig.fromJson(new JsonObject()
      .put("PORT", "9090")
      .put("CLUSTER", "true")
      .put("CLUSTER_MEMBERS", "10.0.0.1:5701, 10.0.0.2:5701")
      .put("ROLES", "ingress,store")
      .put("DATABASE_URL", "postgres://parley:secret@db:5432/parley")
      .put("REDIS_URL", "redis://cache:6379")
      .put("JWT_SECRET", "0123456789abcdef0123456789abcdef"));
    assertEquals(9090, config.http().port());
    assertTrue(config.cluster().enabled());
    assertEquals(List.of("10.0.0.1:5701", "10.0.0.2:5701"), config.cluster().members());
    assertEquals(Set.of("ingress", "store"), config.roles());
    assertEquals("redis://cache:6379", config.redisUrl());
  }

  @Test
  void everyInvalidValueStopsTheNodeNamingItsKey() {
    Map<String, Object> invalid = Map.ofEntries(
      Map.entry("PORT", "eighty"),
      Map.entry("DB_POOL_SIZE", 0),
      Map.entry("JWT_SECRET", "too-short"),
      Map.entry("CLUSTER", "maybe"),
      Map.entry("CLUSTER_MEMBERS", "no-port-here"),
      Map.entry("ROLES", "ingress,cook"),
      Map.entry("DATABASE_URL", "mysql://db/parley"),
      Map.entry("REDIS_URL", "not a url"),
      Map.entry("ASSISTANT_PROVIDER", "oracle"),
      Map.entry("TRANSPORT", "dpdk"),
      Map.entry("JWT_EXPIRY_SECONDS", -5),
      Map.entry("CORS_ORIGINS", "https://app.example.org/path"));
    invalid.forEach((key, value) -> {
      ConfigException error = assertThrows(ConfigException.class,
        () -> ParleyConfig.fromJson(new JsonObject().put(key, value)), key);
      assertTrue(error.getMessage().contains(key), error.getMessage());
    });
  }

  @Test
  void urlProblemsNeverEchoTheUrl() {
    ConfigException error = assertThrows(ConfigException.class,
      () -> ParleyConfig.fromJson(new JsonObject().put("DATABASE_URL", "mysql://root:hunter2@db/x")));
    assertFalse(error.getMessage().contains("hunter2"));
  }

  @Test
  void aClusterNeedsOneSharedJwtSecret() {
    ConfigException error = assertThrows(ConfigException.class,
      () -> ParleyConfig.fromJson(new JsonObject().put("CLUSTER", true)));
    assertTrue(error.getMessage().contains("JWT_SECRET"), error.getMessage());
  }

  @Test
  void theConfigFileIsReadAndOverridesWin() throws Exception {
    Path file = TestServices.tempDir("config").resolve("config.json");
    Files.writeString(file, new JsonObject().put("MAX_MESSAGE_CHARS", 777).put("NODE_NAME", "from-file")
      .put("DB_POOL_SIZE", 3).encode());
    Vertx vertx = Vertx.vertx();
    try {
      ParleyConfig config = ConfigLoader.load(vertx, file.toString(), new JsonObject().put("DB_POOL_SIZE", 5)).await();
      assertEquals(777, config.maxMessageChars());
      assertEquals("from-file", config.nodeName());
      assertEquals(5, config.dbPoolSize(), "overrides win over the file");
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void theShippedConfigFileIsValid() {
    Vertx vertx = Vertx.vertx();
    try {
      ParleyConfig config = ConfigLoader.load(vertx, ConfigLoader.DEFAULT_CONFIG_FILE, new JsonObject()).await();
      assertEquals("extractive", config.assistant().provider());
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void theClusterHostMayBeANameAndIsResolvedToAnAddress() throws Exception {
    ParleyConfig.Cluster named = new ParleyConfig.Cluster(true, "localhost", 5701, List.of("parley-2:5701"), 0);
    com.hazelcast.config.Config hazelcast = dev.parley.config.ClusterSetup.hazelcast(named);
    assertEquals(java.net.InetAddress.getByName("localhost").getHostAddress(),
      hazelcast.getProperty("hazelcast.local.localAddress"));
    assertEquals(List.of("parley-2:5701", "localhost:5701"),
      hazelcast.getNetworkConfig().getJoin().getTcpIpConfig().getMembers());

    ConfigException unknown = assertThrows(ConfigException.class, () -> dev.parley.config.ClusterSetup.hazelcast(
      new ParleyConfig.Cluster(true, "no-such-host.invalid", 5701, List.of(), 0)));
    assertTrue(unknown.getMessage().startsWith("invalid configuration CLUSTER_HOST"), unknown.getMessage());
  }

  @Test
  void theKubernetesClusterXmlKeepsItsDiscoveryAndTakesTheAddressFromTheConfig() throws Exception {
    com.hazelcast.config.Config hazelcast;
    try (var xml = Files.newInputStream(Path.of("docker", "kubernetes", "cluster.xml"))) {
      hazelcast = dev.parley.config.ClusterSetup.hazelcast(
        new ParleyConfig.Cluster(true, "127.0.0.1", 5701, List.of("ignored:5701"), 0),
        dev.parley.config.ClusterSetup.parse(xml));
    }
    com.hazelcast.config.JoinConfig join = hazelcast.getNetworkConfig().getJoin();
    assertTrue(join.getKubernetesConfig().isEnabled());
    assertEquals("parley-hazelcast.parley.svc.cluster.local", join.getKubernetesConfig().getProperty("service-dns"));
    assertFalse(join.getTcpIpConfig().isEnabled(), "no member list beside Kubernetes discovery");
    assertFalse(join.getMulticastConfig().isEnabled());
    assertEquals("127.0.0.1", hazelcast.getProperty("hazelcast.local.localAddress"));
    assertEquals("parley", hazelcast.getClusterName());
    assertTrue(hazelcast.getMultiMapConfigs().containsKey("__vertx.subs"), "the maps Vert.x needs are there too");
  }
}
