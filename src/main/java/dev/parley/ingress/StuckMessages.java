package dev.parley.ingress;

import dev.parley.metrics.Meters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Messages of a node unanswered for {@link #AFTER_MS}. Each one is counted ({@code parley_messages_stuck}, by the
 * step it waits in); the log hears of the first in every {@link #LOG_EVERY_MS}, with how many followed the one
 * before. A line for each would be thousands a second on an overloaded node: writing them from the event loops
 * kept a node 8 ms of CPU per message busy and it never caught up (the store benchmark at 5,000 msg/s).
 * Thread-safe: the sockets of every event loop report here.
 */
final class StuckMessages {

  static final long AFTER_MS = 5_000;
  static final long LOG_EVERY_MS = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(ChatSocket.class);

  private final Meters meters;
  /** When (System.nanoTime) the next line may be logged. */
  private final AtomicLong nextLineAt = new AtomicLong(System.nanoTime());
  private final LongAdder notLogged = new LongAdder();

  StuckMessages(Meters meters) {
    this.meters = meters;
  }

  void report(String connectionId, String userId, String room, String clientMsgId, long waitedMs, String step) {
    meters.stuck(step);
    long now = System.nanoTime();
    long due = nextLineAt.get();
    if (now - due < 0 || !nextLineAt.compareAndSet(due, now + TimeUnit.MILLISECONDS.toNanos(LOG_EVERY_MS))) {
      notLogged.increment();
      return;
    }
    long more = notLogged.sumThenReset();
    LOG.warn("socket {} of user {}: a message to {} (clientMsgId {}) has waited {} ms for {}{}", connectionId, userId,
      room, clientMsgId, waitedMs, step, more == 0 ? ""
        : "; " + more + " more messages waited over " + AFTER_MS / 1000 + " s since the last such warning");
  }
}
