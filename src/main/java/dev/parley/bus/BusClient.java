package dev.parley.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * Request/reply on one service address, with the action in a header, a send timeout on every request,
 * and every failure turned into a {@link ParleyException}.
 */
public class BusClient {

  private final Vertx vertx;
  private final String address;
  private final DeliveryOptions template;

  /** @param preferLocal true on a node that runs the service itself: requests then stay in the process */
  public BusClient(Vertx vertx, String address, boolean preferLocal, long timeoutMs) {
    this.vertx = vertx;
    this.address = address;
    this.template = new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(preferLocal);
  }

  public Future<JsonObject> request(String action, JsonObject body) {
    DeliveryOptions options = new DeliveryOptions(template).addHeader(Addresses.ACTION, action);
    return vertx.eventBus().<JsonObject>request(address, body, options)
      .map(reply -> reply.body())
      .recover(failure -> Future.failedFuture(ParleyException.from(failure)));
  }

  /** Succeeds once the service answers and its backend is usable. */
  public Future<Void> ping() {
    return request(Addresses.PING, new JsonObject()).mapEmpty();
  }
}
