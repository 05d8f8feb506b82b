package dev.parley.presence;

import dev.parley.bus.Addresses;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.config.ConfigException;
import dev.parley.config.ParleyConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.List;

/**
 * Owns Redis: cluster-wide presence and rate limits live here. It serves {@link Addresses#PRESENCE}; today
 * the only action is {@code ping}, which answers once Redis does.
 */
public final class PresenceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceVerticle.class);

  private final ParleyConfig config;
  private Redis redis;
  private RedisAPI api;
  private MessageConsumer<JsonObject> consumer;

  public PresenceVerticle(ParleyConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    redis = Redis.createClient(vertx, new RedisOptions()
      .setConnectionString(config.redisUrl())
      .setMaxPoolSize(8)
      .setMaxPoolWaiting(256));
    api = RedisAPI.api(redis);
    consumer = vertx.eventBus().consumer(Addresses.PRESENCE, this::handle);
    // Start only once Redis answers, so a wrong REDIS_URL fails the start instead of the first request.
    return Future.join(consumer.completion(), api.ping(List.of())
      .recover(failure -> Future.failedFuture(new ConfigException("REDIS_URL",
        "Redis at " + URI.create(config.redisUrl()).getHost() + ":" + URI.create(config.redisUrl()).getPort()
          + " is not reachable: " + failure.getMessage()))));
  }

  @Override
  public Future<?> stop() {
    return consumer.unregister().eventually(() -> {
      redis.close();
      return Future.succeededFuture();
    });
  }

  private void handle(Message<JsonObject> message) {
    String action = message.headers().get(Addresses.ACTION);
    if (Addresses.PING.equals(action)) {
      api.ping(List.of()).onComplete(done -> {
        if (done.succeeded()) {
          message.reply(new JsonObject());
        } else {
          LOG.warn("Redis ping failed: {}", done.cause().getMessage());
          new ParleyException(ErrorCode.UNAVAILABLE, "Redis is not reachable").failTo(message);
        }
      });
    } else {
      ParleyException.invalid("unknown presence action '" + action + "'").failTo(message);
    }
  }
}
