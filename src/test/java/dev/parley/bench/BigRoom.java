package dev.parley.bench;

import io.vertx.core.Vertx;
import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Scenario 4 of issue 7: one room of {@code --members} (5,000) at {@code --rate} messages a second (10), while the
 * assistant streams {@code --chunks-per-second} (20) pieces a second into {@code --answer-rooms} (10) rooms of
 * {@code --answer-room-size} (10). The model is {@link StreamingModel}, in this process, so each piece carries the
 * time it was written and every client that shows it records token-to-screen latency. Starts its own nodes (the
 * model must be theirs). One row: the big room's deliveries and latency, the chunks' latency, the server's CPU.
 */
final class BigRoom {

  private BigRoom() {
  }

  static void run(Bench bench, Vertx vertx) throws Exception {
    int members = bench.integer("members", 5_000);
    int answerRooms = bench.integer("answer-rooms", 10);
    int answerRoomSize = bench.integer("answer-room-size", 10);
    int rate = bench.integer("rate", 10);
    int perSecond = bench.integer("chunks-per-second", 20);
    int answerSeconds = bench.integer("answer-seconds", 10);
    int nodes = bench.integer("nodes", 1);
    try (StreamingModel model = new StreamingModel(vertx, perSecond * answerSeconds, perSecond)) {
      List<String> targets = bench.startCluster(nodes, Map.of("ASSISTANT_PROVIDER", "openai",
        "OPENAI_BASE_URL", model.baseUrl(), "OPENAI_API_KEY", "bench", "CHAT_MODEL", "bench-model",
        "RATE_LIMIT_ASSISTANT_PER_MIN", "1000000", "ASSISTANT_DAILY_TOKENS", "1000000000",
        "ASSISTANT_TIMEOUT_MS", "120000", "ASSISTANT_MAX_TOKENS", "100000"));
      try (Fleet fleet = new Fleet(vertx, targets)) {
        long setup = System.nanoTime();
        fleet.createRooms(1, members);
        fleet.createRooms(answerRooms, answerRoomSize);
        fleet.connectAll(200);
        Fleet.Room big = fleet.rooms.get(0);
        List<Fleet.Room> asked = fleet.rooms.subList(1, fleet.rooms.size());
        System.out.printf(Locale.ROOT, "# bigroom: a room of %d at %d msg/s; the assistant streaming %d pieces/s into "
            + "%d rooms of %d; %d node(s); set up in %.0f s%n", members, rate, perSecond, answerRooms, answerRoomSize,
          targets.size(), (System.nanoTime() - setup) / 1e9);
        // A question in every answer room as soon as the last answer has ended (it lasts answerSeconds).
        long[] nextQuestion = {0};
        long pause = TimeUnit.SECONDS.toNanos(answerSeconds + 1);
        Runnable asker = () -> {
          long now = System.nanoTime();
          if (now >= nextQuestion[0]) {
            asked.forEach(fleet::ask);
            nextQuestion[0] = now + pause;
          }
        };
        fleet.chunkLatency.getIntervalHistogram();
        Bench.Result result = bench.measure(fleet, List.of(big), rate, bench.integer("seconds", 30),
          bench.integer("warmup", Bench.WARMUP_SECONDS), asker);
        Histogram chunks = fleet.chunkLatency.getIntervalHistogram();
        System.out.println(Bench.Result.HEADER);
        System.out.println(result.row("bigroom", members, targets.size()));
        System.out.printf(Locale.ROOT, "# assistant chunks to clients: %d in %.0f s (%.0f/s), p50 %.1f ms, p95 %.1f ms, "
            + "p99 %.1f ms, max %.1f ms%n", fleet.chunks.get(), result.window(), fleet.chunks.get() / result.window(),
          chunks.getValueAtPercentile(50) / 1e3, chunks.getValueAtPercentile(95) / 1e3,
          chunks.getValueAtPercentile(99) / 1e3, chunks.getMaxValue() / 1e3);
      }
    }
  }
}
