package dev.parley.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scenario 1: the connection ramp. WebSockets open at a fixed rate (each joins its room) while some of the open
 * ones are closed and reopened (churn), then Server-Sent Events streams; then everything stays open and idle,
 * and the nodes' live heap is measured after a full GC ({@code jcmd GC.run}) against the same before the ramp.
 */
final class Capacity {

  private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

  private Capacity() {
  }

  static void run(Vertx vertx, Fleet fleet, List<Long> serverPids, int streams, int connectRate, int churnRate,
                  int holdSeconds, int warmupSeconds) throws InterruptedException {
    List<Fleet.Room> rooms = fleet.rooms;
    List<Object[]> everyone = new ArrayList<>();
    for (Fleet.Room room : rooms) {
      for (Fleet.User user : room.members) {
        everyone.add(new Object[] {room, user});
      }
    }
    warmUp(fleet, everyone.subList(0, Math.min(everyone.size(), WARMUP_SOCKETS)), connectRate, warmupSeconds);
    long heapBefore = liveHeap(serverPids);
    long rssBefore = Probe.rssBytes(serverPids);
    long cpuBefore = Probe.cpuNanos(serverPids);
    Histogram connectTimes = new Histogram(60_000_000L, 3);
    AtomicLong failed = new AtomicLong();
    AtomicLong churned = new AtomicLong();
    List<WebSocket> open = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Object[]> openOwners = java.util.Collections.synchronizedList(new ArrayList<>());

    long start = System.nanoTime();
    long interval = 1_000_000_000L / connectRate;
    long churnInterval = churnRate == 0 ? Long.MAX_VALUE : 1_000_000_000L / churnRate;
    long nextChurn = start + churnInterval;
    List<Future<WebSocket>> pending = new ArrayList<>();
    for (int i = 0; i < everyone.size(); i++) {
      waitUntil(start + i * interval);
      Object[] owner = everyone.get(i);
      pending.add(timed(fleet, owner, connectTimes, failed, open, openOwners));
      if (System.nanoTime() >= nextChurn) {
        churn(fleet, open, openOwners, connectTimes, failed, churned);
        nextChurn += churnInterval;
      }
    }
    Future.join(new ArrayList<>(pending)).otherwiseEmpty().await();
    double rampSeconds = (System.nanoTime() - start) / 1e9;

    HttpClient http = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setKeepAlive(true),
      new io.vertx.core.http.PoolOptions().setHttp1MaxSize(streams + 10));
    List<Future<HttpClientResponse>> opened = new ArrayList<>();
    for (int i = 0; i < Math.min(streams, everyone.size()); i++) {
      Fleet.Room room = (Fleet.Room) everyone.get(i)[0];
      Fleet.User user = (Fleet.User) everyone.get(i)[1];
      RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET).setHost(fleet.host(user.node()))
        .setPort(fleet.port(user.node())).setURI("/api/conversations/" + room.id + "/events")
        .putHeader("Authorization", "Bearer " + user.token()).putHeader("Accept", "text/event-stream");
      opened.add(http.request(request).compose(r -> r.send()).map(response -> {
        response.handler(chunk -> { });
        return response;
      }));
    }
    Future.join(new ArrayList<>(opened)).otherwiseEmpty().await();
    long streamsOpen = opened.stream().filter(f -> f.succeeded() && f.result().statusCode() == 200).count();

    // Churn goes on while everything is open, then all is left idle.
    long holdUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(holdSeconds);
    while (System.nanoTime() < holdUntil) {
      churn(fleet, open, openOwners, connectTimes, failed, churned);
      TimeUnit.NANOSECONDS.sleep(Math.min(churnInterval, 1_000_000_000L));
    }
    TimeUnit.SECONDS.sleep(2);
    double cpuMicrosPerConnect = (Probe.cpuNanos(serverPids) - cpuBefore) / 1e3
      / Math.max(1, connectTimes.getTotalCount());
    long heapAfter = liveHeap(serverPids);
    long rssAfter = Probe.rssBytes(serverPids);
    long connections = open.size() + streamsOpen;
    System.out.println("| scenario | WebSockets | SSE | connects/s | churned | failed | connect p50 ms | connect p99 ms "
      + "| server CPU µs/connect | live heap KB/connection | RSS KB/connection |");
    System.out.printf(Locale.ROOT, "| capacity | %d | %d | %.0f | %d | %d | %.1f | %.1f | %.0f | %.1f | %.1f |%n",
      open.size(), streamsOpen, everyone.size() / rampSeconds, churned.get(), failed.get(),
      connectTimes.getValueAtPercentile(50) / 1e3, connectTimes.getValueAtPercentile(99) / 1e3, cpuMicrosPerConnect,
      (heapAfter - heapBefore) / 1024.0 / connections, (rssAfter - rssBefore) / 1024.0 / connections);
    http.close();
  }

  /** Sockets opened and closed again and again before the measured ramp. */
  private static final int WARMUP_SOCKETS = 1_000;

  /**
   * Opens these users' sockets at the connect rate, closes them all, and again, for {@code seconds}: a node
   * that has been up a while has its join path compiled, while a cold one spends a third of its CPU in the JIT
   * during the ramp (async-profiler). {@code --warmup 0} measures a cold node.
   */
  private static void warmUp(Fleet fleet, List<Object[]> users, int connectRate, int seconds) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long interval = 1_000_000_000L / connectRate;
    int rounds = 0;
    while (System.nanoTime() < until) {
      long start = System.nanoTime();
      List<Future<WebSocket>> opened = new ArrayList<>();
      for (int i = 0; i < users.size(); i++) {
        waitUntil(start + i * interval);
        opened.add(fleet.connect((Fleet.Room) users.get(i)[0], (Fleet.User) users.get(i)[1]));
      }
      Future.join(new ArrayList<>(opened)).otherwiseEmpty().await();
      Future.join(opened.stream().filter(Future::succeeded).map(ws -> ws.result().close()).toList())
        .otherwiseEmpty().await();
      rounds++;
    }
    if (seconds > 0) {
      System.out.printf(Locale.ROOT, "# warmed up: %d rounds of %d sockets opened and closed in %d s%n", rounds,
        users.size(), seconds);
    }
  }

  /** Until {@code System.nanoTime()} reaches {@code due}: the open loop's pacing. */
  private static void waitUntil(long due) {
    while (System.nanoTime() < due) {
      LockSupport.parkNanos(Math.min(due - System.nanoTime(), 500_000));
    }
  }

  private static Future<WebSocket> timed(Fleet fleet, Object[] owner, Histogram times, AtomicLong failed,
                                         List<WebSocket> open, List<Object[]> owners) {
    long began = System.nanoTime();
    return fleet.connect((Fleet.Room) owner[0], (Fleet.User) owner[1]).onComplete(done -> {
      if (done.succeeded()) {
        synchronized (times) {
          times.recordValue((System.nanoTime() - began) / 1_000);
        }
        synchronized (open) {
          open.add(done.result());
          owners.add(owner);
        }
      } else {
        failed.incrementAndGet();
      }
    });
  }

  /** Closes one open socket at random and opens its user's again, as a client that reconnects. */
  private static void churn(Fleet fleet, List<WebSocket> open, List<Object[]> owners, Histogram times,
                            AtomicLong failed, AtomicLong churned) {
    WebSocket victim;
    Object[] owner;
    synchronized (open) {
      if (open.isEmpty()) {
        return;
      }
      int index = ThreadLocalRandom.current().nextInt(open.size());
      victim = open.remove(index);
      owner = owners.remove(index);
    }
    churned.incrementAndGet();
    victim.close().onComplete(closed -> timed(fleet, owner, times, failed, open, owners));
  }

  /** The nodes' heap in use right after a full collection, in bytes (jcmd GC.run, then GC.heap_info). */
  static long liveHeap(List<Long> pids) {
    long total = 0;
    for (long pid : pids) {
      jcmd(pid, "GC.run");
      Matcher used = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
      if (used.find()) {
        total += Long.parseLong(used.group(1)) * 1024;
      }
    }
    return total;
  }

  private static String jcmd(long pid, String command) {
    try {
      Process process = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      process.waitFor(60, TimeUnit.SECONDS);
      return output;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
