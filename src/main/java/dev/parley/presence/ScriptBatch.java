package dev.parley.presence;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Requests of one kind that go to Redis as one script call: while a call is out, the requests that arrive wait
 * and then go together in the next one. A lone request goes at once; a burst (a thousand sockets closing with
 * their node's clients, a big room filling) costs a few round trips instead of one each, and never more calls
 * in flight than one, so it cannot flood the client's queue. Runs on the verticle's event loop only.
 *
 * @param <I> one request
 * @param <O> its answer
 */
final class ScriptBatch<I, O> {

  private record Pending<I, O>(I request, Promise<O> answer) {
  }

  private final int maxBatch;
  /** Sends a batch and answers with one result per request, in the same order. */
  private final Function<List<I>, Future<List<O>>> call;
  private List<Pending<I, O>> waiting = new ArrayList<>();
  private boolean calling;

  ScriptBatch(int maxBatch, Function<List<I>, Future<List<O>>> call) {
    this.maxBatch = maxBatch;
    this.call = call;
  }

  Future<O> add(I request) {
    Promise<O> answer = Promise.promise();
    waiting.add(new Pending<>(request, answer));
    if (!calling) {
      next();
    }
    return answer.future();
  }

  private void next() {
    if (waiting.isEmpty()) {
      calling = false;
      return;
    }
    List<Pending<I, O>> batch;
    if (waiting.size() <= maxBatch) {
      batch = waiting;
      waiting = new ArrayList<>();
    } else {
      batch = new ArrayList<>(waiting.subList(0, maxBatch));
      waiting = new ArrayList<>(waiting.subList(maxBatch, waiting.size()));
    }
    calling = true;
    Future<List<O>> sent;
    try {
      sent = call.apply(batch.stream().map(Pending::request).toList());
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    sent.onComplete(done -> {
      Throwable failure = done.failed() ? done.cause() : done.result().size() == batch.size() ? null
        : new IllegalStateException(batch.size() + " requests got " + done.result().size() + " answers");
      for (int i = 0; i < batch.size(); i++) {
        if (failure == null) {
          batch.get(i).answer().complete(done.result().get(i));
        } else {
          batch.get(i).answer().fail(failure);
        }
      }
      next();
    });
  }
}
