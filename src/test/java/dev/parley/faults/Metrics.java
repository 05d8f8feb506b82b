package dev.parley.faults;

import dev.parley.support.Api;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A node's meters, read from its {@code /metrics} as Prometheus scrapes them. */
final class Metrics implements AutoCloseable {

  static final String HEAP_USED = "jvm_memory_used_bytes";
  static final String HEAP = "area=\"heap\"";

  private final Api api;

  Metrics(int port) {
    this.api = new Api(port);
  }

  /** The sum of every sample of {@code name} whose labels contain {@code labels} (empty: all of them). */
  double sum(String name, String labels) {
    double total = 0;
    for (String line : api.get("/metrics", null).text().split("\n")) {
      if (line.startsWith(name) && (line.charAt(name.length()) == '{' || line.charAt(name.length()) == ' ')
        && line.contains(labels)) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  /** The highest heap use and when {@code event} first held (System.nanoTime, -1 if it never did). */
  record Peak(double heapBytes, long eventAt) {
  }

  /** Samples the heap every 200 ms for {@code seconds}, and watches for {@code event}. */
  Peak heapPeak(int seconds, BooleanSupplier event) throws InterruptedException {
    double max = 0;
    long eventAt = -1;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      max = Math.max(max, sum(HEAP_USED, HEAP));
      if (eventAt < 0 && event.getAsBoolean()) {
        eventAt = System.nanoTime();
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    return new Peak(max, eventAt);
  }

  @Override
  public void close() {
    api.close();
  }
}
