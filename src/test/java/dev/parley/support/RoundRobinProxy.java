package dev.parley.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyOptions;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A load balancer as operators put in front of Parley: plain round robin over the nodes, HTTP and WebSocket
 * alike, no session affinity; a node that refuses the connection is skipped for that request (as nginx's
 * {@code proxy_next_upstream} does). Built on vertx-http-proxy, on port 0. A request that was already on its way
 * to a node when the node died is not retried: the tests speak to the survivor directly after a crash.
 */
public final class RoundRobinProxy implements AutoCloseable {

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final List<Integer> ports;
  private final java.util.Set<Integer> down = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicInteger next = new AtomicInteger();

  public RoundRobinProxy(List<Integer> ports) {
    this.ports = List.copyOf(ports);
    // Every proxied WebSocket holds an upstream connection for its whole life: room for many, not the default 5.
    HttpClient client = vertx.createHttpClient(new io.vertx.core.http.PoolOptions().setHttp1MaxSize(200));
    HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client)
      .origin(this::origin);
    server = vertx.createHttpServer().requestHandler(proxy).listen(0, "127.0.0.1").await();
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * Takes a node out of the rotation, as a balancer's health check does once the node stops answering: requests
   * then go to the others only (a pooled connection to a dead node would otherwise fail a request mid-way).
   */
  public void markDown(int port) {
    down.add(port);
  }

  private Future<HttpClientRequest> origin(ProxyContext context) {
    List<Integer> up = ports.stream().filter(port -> !down.contains(port)).toList();
    int first = Math.floorMod(next.getAndIncrement(), up.size());
    Future<HttpClientRequest> attempt = connect(context, up.get(first));
    for (int i = 1; i < up.size(); i++) {
      int port = up.get((first + i) % up.size());
      attempt = attempt.recover(refused -> connect(context, port));
    }
    return attempt;
  }

  private static Future<HttpClientRequest> connect(ProxyContext context, int port) {
    return context.client().request(new RequestOptions().setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1")));
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
