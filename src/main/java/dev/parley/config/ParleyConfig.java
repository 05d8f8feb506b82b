package dev.parley.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The whole configuration of a node, bound once at start-up and validated. The keys are the environment
 * variable names (DESIGN.md §2); {@code conf/config.json} uses the same keys and the environment overrides
 * it. {@link #KEYS} lists every key read.
 */
public record ParleyConfig(
  Http http,
  Path dataDir,
  String databaseUrl,
  int dbPoolSize,
  String redisUrl,
  Auth auth,
  Cluster cluster,
  Set<String> roles,
  String nodeName,
  int maxMessageChars,
  long busTimeoutMs,
  long shutdownGraceMs,
  Realtime realtime,
  Knowledge knowledge,
  Assistant assistant) {

  /**
   * @param port          the HTTP/WebSocket port; 0 picks a free one (tests)
   * @param instances     IngressVerticle instances, one per event loop by default
   * @param maxBodyBytes  larger request bodies are refused with 413 TOO_LARGE
   * @param corsOrigins   web origins allowed to call the API from a browser; empty: none, {@code *}: any
   * @param trustForwarded take the client's address from {@code X-Forwarded-For} (the access and audit logs): only
   *                       when every request comes through a proxy that sets it, or anyone may claim any address
   * @param transport      the event loops' I/O: {@code auto} (epoll where it loads, else Java NIO), or
   *                       {@code io_uring}, {@code epoll} or {@code nio} by name, which the node then requires
   */
  public record Http(String host, int port, int instances, long maxBodyBytes, List<String> corsOrigins,
                     boolean trustForwarded, String transport) {
  }

  public static final List<String> TRANSPORTS = List.of("auto", "io_uring", "epoll", "nio");

  /**
   * @param jwtSecret      the HS256 key; null means "use or generate DATA_DIR/jwt-secret"
   * @param expirySeconds  lifetime of an issued token
   * @param bcryptCost     log2 of the bcrypt work factor
   */
  public record Auth(String jwtSecret, String issuer, String audience, long expirySeconds, int bcryptCost) {
  }

  /**
   * @param members  seeds of the TCP/IP join, {@code host:port}
   * @param eventBusPort  the clustered event bus's own TCP port; 0 picks a free one
   */
  public record Cluster(boolean enabled, String host, int port, List<String> members, int eventBusPort) {
  }

  /**
   * The real-time surface: WebSocket protocol v1, SSE, presence, typing and rate limits (README, "Real time").
   *
   * @param pingIntervalMs     server heartbeat: a ping every interval; a peer silent for two intervals is closed
   * @param authTimeoutMs      how long a socket that gave no token at the upgrade has to send its {@code auth} frame
   * @param wsOrigins          browser origins allowed to open a socket; empty: any (non-browser clients send none)
   * @param maxFrameBytes      a larger WebSocket frame or message closes the socket with 1009
   * @param maxMessageBytes    message content over this many UTF-8 bytes is TOO_LARGE
   * @param slowConsumerBytes  a socket that falls this far behind is closed with 4002
   * @param slowConsumerMs     ... as is one whose write queue stays full this long
   * @param resumeMaxMessages  the most messages one {@code join} with {@code lastSeq} replays
   * @param presenceTtlMs      a connection not refreshed for this long is offline (a crashed node's users)
   * @param presenceMaxListed  up to this many users online, a room names each one (presence events, the list in
   *                           {@code joined}); above it, members get counts ({@code occupancy})
   * @param typingTimeoutMs    a typing indicator not refreshed for this long ends by itself
   * @param typingThrottleMs   at most one "typing" broadcast per connection and room per this interval
   * @param messagesPerMinute  user messages a user may send per minute, cluster-wide
   * @param assistantPerMinute assistant requests a user may make per minute, cluster-wide
   * @param rateLimitFailOpen  true: while Redis is unusable, limits let everything through; false: refuse
   * @param maxMessagesInFlight messages a node's sockets may have between read and answer (rate check, store),
   *                           shared out among its event loops; past it, sockets wait unread until some are answered
   */
  public record Realtime(long pingIntervalMs, long authTimeoutMs, List<String> wsOrigins, int maxFrameBytes,
                         int maxMessageBytes, long slowConsumerBytes, long slowConsumerMs, int resumeMaxMessages,
                         long presenceTtlMs, int presenceMaxListed, long typingTimeoutMs, long typingThrottleMs,
                         int messagesPerMinute, int assistantPerMinute, boolean rateLimitFailOpen,
                         int maxMessagesInFlight) {
  }

  /**
   * @param maxDocumentBytes larger uploads are refused with 413 TOO_LARGE
   * @param searchLanguage   the PostgreSQL text search configuration of the knowledge base ({@code simple} treats
   *                         every language alike); fixed when the schema is first created
   * @param adminEmails      accounts registered with these emails get the {@code admin} role (may upload
   *                         documents every user's assistant can read)
   */
  public record Knowledge(long maxDocumentBytes, String searchLanguage, List<String> adminEmails) {
  }

  /**
   * @param timeoutMs   an answer not finished within this time fails with ASSISTANT_UNAVAILABLE
   * @param dailyTokens assistant tokens (in and out) one user may spend per day (UTC)
   * @param fallback    when the provider fails: answer from retrieval alone, marked as such, instead of an error
   * @param breakerFailures failures in a row after which a provider's circuit breaker opens (fails fast)
   * @param breakerResetMs  how long an open breaker waits before it lets one request through to probe
   * @param maxTokens   the most tokens a model may write for one answer
   * @param contextTimeoutMs how long an answer waits for context from other verticles
   */
  public record Assistant(String provider, String openaiBaseUrl, String openaiApiKey, String anthropicBaseUrl,
                          String anthropicApiKey, String chatModel, String ragServiceUrl, long timeoutMs,
                          long dailyTokens, boolean fallback, int breakerFailures, long breakerResetMs,
                          int maxTokens, long contextTimeoutMs) {
  }

  public static final String ROLE_INGRESS = "ingress";
  public static final String ROLE_STORE = "store";
  public static final String ROLE_PRESENCE = "presence";
  public static final String ROLE_ASSISTANT = "assistant";
  public static final Set<String> ALL_ROLES = Set.of(ROLE_INGRESS, ROLE_STORE, ROLE_PRESENCE, ROLE_ASSISTANT);
  public static final Set<String> PROVIDERS = Set.of("extractive", "openai", "anthropic", "http");

  public static final List<String> KEYS = List.of(
    "HOST", "PORT", "HTTP_INSTANCES", "MAX_BODY_BYTES", "CORS_ORIGINS", "TRUST_FORWARDED", "TRANSPORT", "DATA_DIR", "DATABASE_URL", "DB_POOL_SIZE", "REDIS_URL",
    "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_EXPIRY_SECONDS", "BCRYPT_COST",
    "CLUSTER", "CLUSTER_HOST", "CLUSTER_PORT", "CLUSTER_MEMBERS", "EVENTBUS_PORT",
    "ROLES", "NODE_NAME", "MAX_MESSAGE_CHARS", "BUS_TIMEOUT_MS", "SHUTDOWN_GRACE_MS",
    "WS_PING_INTERVAL_MS", "WS_AUTH_TIMEOUT_MS", "WS_ORIGINS", "WS_MAX_FRAME_BYTES", "MAX_MESSAGE_BYTES",
    "WS_SLOW_CONSUMER_BYTES", "WS_SLOW_CONSUMER_MS", "RESUME_MAX_MESSAGES", "PRESENCE_TTL_MS", "PRESENCE_MAX_LISTED",
    "TYPING_TIMEOUT_MS", "TYPING_THROTTLE_MS", "RATE_LIMIT_MESSAGES_PER_MIN", "RATE_LIMIT_ASSISTANT_PER_MIN", "RATE_LIMIT_FAIL_OPEN",
    "MAX_MESSAGES_IN_FLIGHT",
    "MAX_DOCUMENT_BYTES", "SEARCH_LANGUAGE", "ADMIN_EMAILS", "ASSISTANT_TIMEOUT_MS", "ASSISTANT_DAILY_TOKENS",
    "ASSISTANT_FALLBACK", "ASSISTANT_BREAKER_FAILURES", "ASSISTANT_BREAKER_RESET_MS", "ASSISTANT_MAX_TOKENS",
    "ASSISTANT_CONTEXT_TIMEOUT_MS",
    "ASSISTANT_PROVIDER", "OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY",
    "CHAT_MODEL", "RAG_SERVICE_URL");

  /**
   * The configuration as the node runs it: the database and Redis actually used (embedded ones when none
   * was configured), the JWT key actually used and the node's name.
   */
  public ParleyConfig resolved(String databaseUrl, String redisUrl, String jwtSecret, String nodeName) {
    return new ParleyConfig(http, dataDir, databaseUrl,
      dbPoolSize, redisUrl, new Auth(jwtSecret, auth.issuer, auth.audience, auth.expirySeconds, auth.bcryptCost),
      cluster, roles, nodeName, maxMessageChars, busTimeoutMs, shutdownGraceMs, realtime, knowledge, assistant);
  }

  public boolean hasRole(String role) {
    return roles.contains(role);
  }

  /** Binds and validates; the first invalid value throws a {@link ConfigException} naming its key. */
  public static ParleyConfig fromJson(JsonObject json) {
    Reader in = new Reader(json);
    Http http = new Http(
      in.string("HOST", "0.0.0.0"),
      in.integer("PORT", 8080, 0, 65535),
      in.integer("HTTP_INSTANCES", Runtime.getRuntime().availableProcessors(), 1, 64),
      in.longValue("MAX_BODY_BYTES", 1_048_576, 1024, 1L << 30),
      in.list("CORS_ORIGINS").stream().map(origin -> origin("CORS_ORIGINS", origin)).toList(),
      in.bool("TRUST_FORWARDED", false),
      in.string("TRANSPORT", "auto").toLowerCase(Locale.ROOT));
    if (!TRANSPORTS.contains(http.transport())) {
      throw new ConfigException("TRANSPORT", "unknown transport '" + http.transport() + "', expected one of " + TRANSPORTS);
    }
    String secret = in.string("JWT_SECRET", null);
    if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new ConfigException("JWT_SECRET", "must be at least 32 bytes long, it has "
        + secret.getBytes(StandardCharsets.UTF_8).length);
    }
    Auth auth = new Auth(secret,
      in.string("JWT_ISSUER", "parley"),
      in.string("JWT_AUDIENCE", "parley"),
      in.longValue("JWT_EXPIRY_SECONDS", 86_400, 60, 31_536_000),
      in.integer("BCRYPT_COST", 12, 4, 16));
    Cluster cluster = new Cluster(
      in.bool("CLUSTER", false),
      in.string("CLUSTER_HOST", "127.0.0.1"),
      in.integer("CLUSTER_PORT", 5701, 1, 65535),
      in.list("CLUSTER_MEMBERS").stream().map(member -> hostPort("CLUSTER_MEMBERS", member)).toList(),
      in.integer("EVENTBUS_PORT", 0, 0, 65535));
    if (cluster.enabled() && secret == null) {
      // Each node would generate a key of its own, and a token from one node would be refused by the next.
      throw new ConfigException("JWT_SECRET", "is required when CLUSTER=true, the same on every node");
    }
    Set<String> roles = new LinkedHashSet<>(in.list("ROLES"));
    if (roles.isEmpty()) {
      roles.addAll(List.of(ROLE_INGRESS, ROLE_STORE, ROLE_PRESENCE, ROLE_ASSISTANT));
    }
    for (String role : roles) {
      if (!ALL_ROLES.contains(role)) {
        throw new ConfigException("ROLES", "unknown role '" + role + "', expected some of " + ALL_ROLES);
      }
    }
    String provider = in.string("ASSISTANT_PROVIDER", "extractive").toLowerCase(Locale.ROOT);
    if (!PROVIDERS.contains(provider)) {
      throw new ConfigException("ASSISTANT_PROVIDER", "unknown provider '" + provider + "', expected one of " + PROVIDERS);
    }
    Assistant assistant = new Assistant(provider,
      in.url("OPENAI_BASE_URL", "https://api.openai.com/v1", "http", "https"),
      in.string("OPENAI_API_KEY", null),
      in.url("ANTHROPIC_BASE_URL", "https://api.anthropic.com", "http", "https"),
      in.string("ANTHROPIC_API_KEY", null),
      in.string("CHAT_MODEL", null),
      in.url("RAG_SERVICE_URL", null, "http", "https"),
      in.longValue("ASSISTANT_TIMEOUT_MS", 30_000, 100, 600_000),
      in.longValue("ASSISTANT_DAILY_TOKENS", 200_000, 1, Long.MAX_VALUE),
      in.bool("ASSISTANT_FALLBACK", false),
      in.integer("ASSISTANT_BREAKER_FAILURES", 5, 1, 1000),
      in.longValue("ASSISTANT_BREAKER_RESET_MS", 30_000, 10, 3_600_000),
      in.integer("ASSISTANT_MAX_TOKENS", 1024, 1, 1_000_000),
      in.longValue("ASSISTANT_CONTEXT_TIMEOUT_MS", 300, 10, 60_000));
    if ("http".equals(provider) && assistant.ragServiceUrl() == null) {
      throw new ConfigException("RAG_SERVICE_URL", "is required with ASSISTANT_PROVIDER=http");
    }
    Realtime realtime = new Realtime(
      in.longValue("WS_PING_INTERVAL_MS", 30_000, 100, 3_600_000),
      in.longValue("WS_AUTH_TIMEOUT_MS", 5_000, 100, 600_000),
      in.list("WS_ORIGINS").stream().map(origin -> origin("WS_ORIGINS", origin)).toList(),
      in.integer("WS_MAX_FRAME_BYTES", 65_536, 1024, 16 * 1024 * 1024),
      in.integer("MAX_MESSAGE_BYTES", 16_384, 16, 4 * 1024 * 1024),
      in.longValue("WS_SLOW_CONSUMER_BYTES", 1_048_576, 4096, 1L << 30),
      in.longValue("WS_SLOW_CONSUMER_MS", 10_000, 100, 600_000),
      in.integer("RESUME_MAX_MESSAGES", 1000, 1, 100_000),
      in.longValue("PRESENCE_TTL_MS", 20_000, 1000, 3_600_000),
      in.integer("PRESENCE_MAX_LISTED", 200, 1, 10_000),
      in.longValue("TYPING_TIMEOUT_MS", 5_000, 100, 600_000),
      in.longValue("TYPING_THROTTLE_MS", 1_000, 0, 600_000),
      in.integer("RATE_LIMIT_MESSAGES_PER_MIN", 120, 1, 1_000_000),
      in.integer("RATE_LIMIT_ASSISTANT_PER_MIN", 10, 1, 1_000_000),
      in.bool("RATE_LIMIT_FAIL_OPEN", true),
      in.integer("MAX_MESSAGES_IN_FLIGHT", 2_048, 1, 1_000_000));
    String language = in.string("SEARCH_LANGUAGE", "simple").toLowerCase(Locale.ROOT);
    if (!language.matches("[a-z_]{1,63}")) {
      throw new ConfigException("SEARCH_LANGUAGE", "'" + language + "' is not a text search configuration name");
    }
    Knowledge knowledge = new Knowledge(
      in.longValue("MAX_DOCUMENT_BYTES", 10_485_760, 1024, 1L << 30),
      language,
      in.list("ADMIN_EMAILS").stream().map(email -> email.toLowerCase(Locale.ROOT)).toList());
    return new ParleyConfig(
      http,
      Path.of(in.string("DATA_DIR", "./data")).toAbsolutePath().normalize(),
      in.url("DATABASE_URL", null, "postgres", "postgresql"),
      in.integer("DB_POOL_SIZE", 8, 1, 200),
      in.url("REDIS_URL", null, "redis", "rediss"),
      auth,
      cluster,
      java.util.Collections.unmodifiableSet(roles),
      in.string("NODE_NAME", null),
      in.integer("MAX_MESSAGE_CHARS", 8000, 1, 1_000_000),
      in.longValue("BUS_TIMEOUT_MS", 10_000, 100, 600_000),
      in.longValue("SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
      realtime,
      knowledge,
      assistant);
  }

  /** {@code *}, or an origin as browsers send it: scheme, host and optional port, nothing else. */
  private static String origin(String key, String value) {
    if (value.equals("*") || value.matches("https?://[A-Za-z0-9.\\-]+(:[0-9]{1,5})?")) {
      return value;
    }
    throw new ConfigException(key, "'" + value + "' is not an origin such as https://app.example.org");
  }

  private static String hostPort(String key, String value) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0) {
      throw new ConfigException(key, "'" + value + "' is not host:port");
    }
    try {
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new ConfigException(key, "port of '" + value + "' is out of range");
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(key, "'" + value + "' is not host:port");
    }
    return value;
  }

  /**
   * Reads typed values from the merged JSON. Values from the environment are strings, values from the file
   * may be numbers or booleans: both are accepted. A blank value counts as absent.
   */
  private record Reader(JsonObject json) {

    String string(String key, String fallback) {
      Object value = json.getValue(key);
      if (value == null || value.toString().isBlank()) {
        return fallback;
      }
      if (value instanceof JsonObject || value instanceof JsonArray) {
        throw new ConfigException(key, "must be a string");
      }
      return value.toString().trim();
    }

    long longValue(String key, long fallback, long min, long max) {
      String value = string(key, null);
      if (value == null) {
        return fallback;
      }
      long parsed;
      try {
        parsed = Long.parseLong(value);
      } catch (NumberFormatException e) {
        throw new ConfigException(key, "'" + value + "' is not a whole number");
      }
      if (parsed < min || parsed > max) {
        throw new ConfigException(key, parsed + " is out of range [" + min + ", " + max + "]");
      }
      return parsed;
    }

    int integer(String key, int fallback, int min, int max) {
      return (int) longValue(key, fallback, min, max);
    }

    boolean bool(String key, boolean fallback) {
      String value = string(key, null);
      if (value == null) {
        return fallback;
      }
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "true", "1", "yes", "on" -> true;
        case "false", "0", "no", "off" -> false;
        default -> throw new ConfigException(key, "'" + value + "' is not true or false");
      };
    }

    /** A JSON array, or a comma-separated string as the environment gives it. */
    List<String> list(String key) {
      Object value = json.getValue(key);
      if (value instanceof JsonArray array) {
        return array.stream().map(String::valueOf).map(String::trim).filter(s -> !s.isEmpty()).toList();
      }
      String text = string(key, "");
      return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    String url(String key, String fallback, String... schemes) {
      String value = string(key, fallback);
      if (value == null) {
        return null;
      }
      try {
        URI uri = new URI(value);
        if (uri.getScheme() == null || !List.of(schemes).contains(uri.getScheme().toLowerCase(Locale.ROOT))
          || uri.getHost() == null) {
          throw new ConfigException(key, "expected a " + String.join(" or ", schemes) + " URL with a host");
        }
      } catch (java.net.URISyntaxException e) {
        // never echo the value: it may hold a password
        throw new ConfigException(key, "is not a valid URL");
      }
      return value;
    }
  }
}
