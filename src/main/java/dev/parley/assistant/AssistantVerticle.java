package dev.parley.assistant;

import dev.parley.bus.Addresses;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.config.ParleyConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

/**
 * The assistant's home on a node. It serves {@link Addresses#ASSISTANT}: today {@code ping} answers with the
 * configured provider; every other action is ASSISTANT_UNAVAILABLE until the pipeline of DESIGN.md §6 lands.
 */
public final class AssistantVerticle extends VerticleBase {

  private final ParleyConfig config;
  private MessageConsumer<JsonObject> consumer;

  public AssistantVerticle(ParleyConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(Addresses.ASSISTANT, this::handle);
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer.unregister();
  }

  private void handle(Message<JsonObject> message) {
    if (Addresses.PING.equals(message.headers().get(Addresses.ACTION))) {
      message.reply(new JsonObject().put("provider", config.assistant().provider()));
    } else {
      new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the assistant is not available yet").failTo(message);
    }
  }
}
