package dev.parley.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The node's meters, scraped at {@code GET /metrics} with Vert.x's own (HTTP, event bus, pools) and the JVM's.
 * Every name starts with {@code parley_}; labels are few and bounded (an action, a provider, a kind), never a user
 * or a conversation.
 */
public final class Meters {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  public final AtomicInteger webSockets = new AtomicInteger();
  public final AtomicInteger eventStreams = new AtomicInteger();
  public final AtomicInteger rooms = new AtomicInteger();
  public final Counter received;
  public final Counter stored;
  public final Counter delivered;
  public final Counter slowConsumers;
  public final Timer fanOut;
  private static final String FAILED_SUFFIX = " failed";
  private final java.util.Map<String, Timer> storeTimers = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<String, Counter> stuckCounters = new java.util.concurrent.ConcurrentHashMap<>();
  public final io.micrometer.core.instrument.DistributionSummary appendBatch;
  /** The node's log of each message's steps (off unless LOG_MESSAGES=INFO). */
  public final MessageTrail trail;

  public Meters(String node) {
    this.trail = new MessageTrail(node);
    Gauge.builder("parley_websocket_connections", webSockets, AtomicInteger::get)
      .description("open WebSocket connections").register(registry);
    Gauge.builder("parley_sse_connections", eventStreams, AtomicInteger::get)
      .description("open Server-Sent Events streams").register(registry);
    Gauge.builder("parley_rooms_local", rooms, AtomicInteger::get)
      .description("rooms with local subscribers (one event-bus consumer each)").register(registry);
    received = Counter.builder("parley_messages_received").description("messages clients sent to this node")
      .register(registry);
    stored = Counter.builder("parley_messages_stored").description("messages this node's store committed")
      .register(registry);
    delivered = Counter.builder("parley_messages_delivered").description("message events written to local clients")
      .register(registry);
    slowConsumers = Counter.builder("parley_slow_consumers_closed").description("clients closed for reading too slowly")
      .register(registry);
    appendBatch = io.micrometer.core.instrument.DistributionSummary.builder("parley_store_append_batch_size")
      .description("messages written by one group-commit transaction").baseUnit("messages")
      .serviceLevelObjectives(1, 2, 5, 10, 20, 50, 100, 200, 500).register(registry);
    fanOut = Timer.builder("parley_fanout_latency")
      .description("from the store's commit to the write to the last local client of an event loop")
      .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
      .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public PrometheusMeterRegistry prometheus() {
    return registry;
  }

  public void storeRequest(String action, long nanos, boolean ok) {
    // Looked up in a map of our own: the registry's own lookup (builder, tags, id) costs more than the recording.
    storeTimers.computeIfAbsent(ok ? action : action + FAILED_SUFFIX, key -> Timer.builder("parley_store_request")
        .description("store requests by action").tag("action", action).tag("outcome", ok ? "ok" : "failed")
        .register(registry))
      .record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A message unanswered for 5 s, in {@code step}: "its turn", "the rate check", "the message before it" or
   * "the store".
   */
  public void stuck(String step) {
    stuckCounters.computeIfAbsent(step, key -> Counter.builder("parley_messages_stuck")
      .description("messages unanswered for 5 s, by the step they waited in")
      .tag("step", key.replaceFirst("^the ", "").replace(' ', '_')).register(registry)).increment();
  }

  public void rateLimited(String kind) {
    Counter.builder("parley_rate_limit_rejections").description("actions refused by a rate limit").tag("kind", kind)
      .register(registry).increment();
  }

  public void answer(String provider, String model, String outcome, long nanos, long inputTokens, long outputTokens) {
    Timer.builder("parley_assistant_answer").description("assistant answers by provider, model and outcome")
      .tag("provider", provider).tag("model", model).tag("outcome", outcome).register(registry)
      .record(nanos, TimeUnit.NANOSECONDS);
    Counter.builder("parley_assistant_tokens").tag("provider", provider).tag("model", model).tag("direction", "in")
      .register(registry).increment(inputTokens);
    Counter.builder("parley_assistant_tokens").tag("provider", provider).tag("model", model).tag("direction", "out")
      .register(registry).increment(outputTokens);
  }

  /** The breaker of a provider: 0 closed, 1 half open, 2 open. */
  public void breaker(String provider, Supplier<Number> state) {
    Gauge.builder("parley_assistant_breaker_state", state).description("0 closed, 1 half open, 2 open")
      .tag("provider", provider).register(registry);
  }
}
