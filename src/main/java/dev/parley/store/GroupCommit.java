package dev.parley.store;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Json;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreClient.Appended;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.IntConsumer;

/**
 * Group commit of appended messages (DESIGN.md §8): messages that arrive while earlier ones are being written
 * wait, and go together in one transaction: one lock and one {@code last_seq} update per room, one multi-row
 * insert. Each is answered only after that transaction commits, exactly as a lone message is. Nothing waits for a
 * timer: a message that finds no transaction running is written at once, so batching costs no latency when idle,
 * and batches grow with the load.
 *
 * <p>Per message the outcome is the one a lone append would have: NOT_FOUND when the sender is not a member or
 * the room is gone, the original message for a {@code clientMsgId} seen before (in an earlier transaction or
 * earlier in the same batch). When PostgreSQL refuses the batch for what is in it (a concurrent writer on another
 * node took a {@code clientMsgId} first, or one message has something PostgreSQL rejects), its messages are
 * retried one by one, in order, so one bad message never fails the others. Not thread-safe: used on the store verticle's context.
 */
final class GroupCommit {

  /**
   * The batch's statements keep the plan PostgreSQL made for them once per connection. Left to choose, it planned
   * the duplicate check afresh for every small batch, as a plan costed for the batch's real size (often one
   * message) looks cheaper than one for any size, and planning cost more than running it (README, Performance).
   * The generic plans are index lookups and hash joins on the batch, right from one message to 500;
   * {@link Statistics} sees that they are not made for a table that was nearly empty.
   */
  private static final String GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan";
  /** The live rooms of the batch, locked in one order (by id) so that concurrent batches cannot deadlock. */
  private static final String LOCK = "SELECT id, assistant_mode FROM conversations "
    + "WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id FOR UPDATE";
  private static final String MEMBERS = "SELECT m.conversation_id, m.user_id, u.display_name "
    + "FROM conversation_members m JOIN users u ON u.id = m.user_id "
    + "JOIN unnest($1::uuid[], $2::uuid[]) AS d(c, s) ON m.conversation_id = d.c AND m.user_id = d.s";
  /**
   * The messages already stored under the batch's keys. Each key is one index lookup, in the unique index of
   * messages with a sender or in the one of those without: matching the sender with {@code IS NOT DISTINCT FROM}
   * instead would leave PostgreSQL only the room to look up by, and every message would read the whole room's
   * entries (a batch of 500 new messages in rooms of 235 took 8.1 ms instead of 4.4, and grew with the rooms).
   */
  private static final String EXISTING = "SELECT " + Rows.MESSAGE_COLUMNS
    + " FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d(c, s, k) "
    + "JOIN messages x ON x.conversation_id = d.c AND x.sender_id = NULLIF(d.s, '')::uuid AND x.client_msg_id = d.k "
    + "LEFT JOIN users u ON u.id = x.sender_id "
    + "UNION ALL SELECT " + Rows.MESSAGE_COLUMNS
    + " FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d(c, s, k) "
    + "JOIN messages x ON d.s = '' AND x.conversation_id = d.c AND x.sender_id IS NULL AND x.client_msg_id = d.k "
    + "LEFT JOIN users u ON u.id = x.sender_id";
  /**
   * Moves each room's {@code last_seq} on by its number of messages and inserts them with the seqs in between:
   * the k-th message of a room that had n gets {@code last_seq - n + k}.
   */
  private static final String WRITE = "WITH d AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS d(id, n)), "
    + "bumped AS (UPDATE conversations c SET last_seq = c.last_seq + d.n, last_message_at = now(), updated_at = now() "
    + "FROM d WHERE c.id = d.id RETURNING c.id, c.last_seq, d.n) "
    + "INSERT INTO messages (conversation_id, seq, sender_id, role, content, metadata, client_msg_id) "
    + "SELECT m.c, b.last_seq - b.n + m.k, NULLIF(m.s, '')::uuid, m.r, m.t, m.md::jsonb, NULLIF(m.cid, '') "
    + "FROM unnest($3::uuid[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) "
    + "AS m(c, k, s, r, t, md, cid) JOIN bumped b ON b.id = m.c "
    + "RETURNING id, conversation_id, seq, created_at";

  /** One message waiting to be written, and the caller waiting for it. */
  record Pending(UUID conversation, UUID sender, String role, String content, JsonObject metadata,
                 String clientMsgId, Promise<Appended> promise) {

    /** The idempotency key; null without a clientMsgId. */
    List<Object> key() {
      return clientMsgId == null ? null : java.util.Arrays.asList(conversation, sender, clientMsgId);
    }
  }

  private final Pool pool;
  private final Messages single;
  private final int maxBatch;
  private final int maxInFlight;
  private final IntConsumer batchSizes;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  /**
   * @param maxInFlight transactions written at once; more messages wait and join the next batch
   * @param batchSizes  told the size of every batch written (a metric)
   */
  GroupCommit(Pool pool, Messages single, int maxBatch, int maxInFlight, IntConsumer batchSizes) {
    this.pool = pool;
    this.single = single;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.batchSizes = batchSizes;
  }

  Future<Appended> append(UUID conversation, UUID sender, String role, String content, JsonObject metadata,
                          String clientMsgId) {
    Promise<Appended> promise = Promise.promise();
    queue.add(new Pending(conversation, sender, role, content, metadata, clientMsgId, promise));
    if (inFlight < maxInFlight) {
      writeNext();
    }
    return promise.future();
  }

  private void writeNext() {
    if (queue.isEmpty()) {
      return;
    }
    List<Pending> batch = new ArrayList<>(Math.min(queue.size(), maxBatch));
    while (!queue.isEmpty() && batch.size() < maxBatch) {
      batch.add(queue.poll());
    }
    inFlight++;
    batchSizes.accept(batch.size());
    write(batch).onComplete(done -> {
      inFlight--;
      writeNext();
    });
  }

  /** Writes one batch and settles every promise in it; the future completes when all are settled. */
  private Future<Void> write(List<Pending> batch) {
    // The same key twice in one batch: the first is written, the others answer as its retries.
    Map<List<Object>, Pending> firsts = new HashMap<>();
    Map<Pending, List<Pending>> repeats = new HashMap<>();
    List<Pending> distinct = new ArrayList<>();
    for (Pending pending : batch) {
      List<Object> key = pending.key();
      Pending first = key == null ? null : firsts.putIfAbsent(key, pending);
      if (first == null) {
        distinct.add(pending);
      } else {
        repeats.computeIfAbsent(first, f -> new ArrayList<>()).add(pending);
      }
    }
    for (Map.Entry<Pending, List<Pending>> entry : repeats.entrySet()) {
      entry.getKey().promise().future().onComplete(done -> entry.getValue().forEach(repeat -> {
        if (done.succeeded()) {
          repeat.promise().complete(new Appended(done.result().message(), true, null));
        } else {
          repeat.promise().fail(done.cause());
        }
      }));
    }
    Promise<Void> settled = Promise.promise();
    pool.withTransaction(tx -> transaction(tx, distinct)).onComplete(done -> {
      if (done.succeeded()) {
        done.result().forEach(Runnable::run);
        settled.complete();
      } else if (refusedForItsContent(done.cause())) {
        // Refused as a whole for what is in it: one by one, in order (a sender's messages keep their order), each
        // message gets the answer it would have had alone.
        Future<?> chain = Future.succeededFuture();
        for (Pending pending : distinct) {
          chain = chain.eventually(() -> alone(pending));
        }
        chain.onComplete(all -> settled.complete());
      } else {
        distinct.forEach(pending -> pending.promise().tryFail(done.cause()));
        settled.complete();
      }
    });
    return settled.future();
  }

  /**
   * A data exception (class 22: a NUL byte, an invalid value) or an integrity violation (class 23: another node
   * stored the same clientMsgId first) concerns single messages. Anything else (the database going away, out of
   * connections, shutting down) concerns them all, and retrying each would only add load: they fail together.
   */
  private static boolean refusedForItsContent(Throwable failure) {
    return failure instanceof PgException pg && pg.getSqlState() != null
      && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"));
  }

  private Future<Appended> alone(Pending pending) {
    return single.append(pending.conversation(), pending.sender(), pending.role(), pending.content(),
      pending.metadata(), pending.clientMsgId()).onComplete(pending.promise());
  }

  /**
   * The batch's transaction. Its result is the list of answers to give, run only after the commit: an answer
   * must never be given for a transaction that may still roll back.
   */
  private Future<List<Runnable>> transaction(SqlConnection tx, List<Pending> batch) {
    List<UUID> rooms = new ArrayList<>(batch.stream().map(Pending::conversation).distinct().toList());
    List<Pending> withSender = batch.stream().filter(p -> p.sender() != null).toList();
    List<Pending> withKey = batch.stream().filter(p -> p.clientMsgId() != null).toList();
    // Sent together: PostgreSQL runs them in order on the transaction's connection. (Arrays go in with addValue:
    // Tuple.of would spread an array over its varargs.)
    Future<?> plans = tx.query(GENERIC_PLANS).execute();
    Future<Map<UUID, String>> locked = tx.preparedQuery(LOCK).execute(Tuple.tuple().addValue(rooms.toArray(UUID[]::new)))
      .map(rows -> {
        Map<UUID, String> modes = new HashMap<>();
        rows.forEach(row -> modes.put(row.getUUID("id"), row.getString("assistant_mode")));
        return modes;
      });
    Future<Map<List<UUID>, String>> members = withSender.isEmpty() ? Future.succeededFuture(Map.of())
      : tx.preparedQuery(MEMBERS).execute(Tuple.tuple()
          .addValue(withSender.stream().map(Pending::conversation).toArray(UUID[]::new))
          .addValue(withSender.stream().map(Pending::sender).toArray(UUID[]::new)))
        .map(rows -> {
          Map<List<UUID>, String> names = new HashMap<>();
          rows.forEach(row -> names.put(List.of(row.getUUID("conversation_id"), row.getUUID("user_id")),
            row.getString("display_name")));
          return names;
        });
    Future<Map<List<Object>, ChatMessage>> existing = withKey.isEmpty() ? Future.succeededFuture(Map.of())
      : tx.preparedQuery(EXISTING).execute(Tuple.tuple()
          .addValue(withKey.stream().map(Pending::conversation).toArray(UUID[]::new))
          .addValue(withKey.stream().map(p -> p.sender() == null ? "" : p.sender().toString()).toArray(String[]::new))
          .addValue(withKey.stream().map(Pending::clientMsgId).toArray(String[]::new)))
        .map(rows -> {
          Map<List<Object>, ChatMessage> found = new HashMap<>();
          for (Row row : rows) {
            ChatMessage message = Rows.message(row);
            found.put(java.util.Arrays.asList(row.getUUID("conversation_id"), row.getUUID("sender_id"),
              message.clientMsgId()), message);
          }
          return found;
        });
    return Future.all(plans, locked, members, existing).compose(checked -> {
      List<Runnable> answers = new ArrayList<>();
      List<Pending> accepted = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Pending pending : batch) {
        String name = pending.sender() == null ? null
          : members.result().get(List.of(pending.conversation(), pending.sender()));
        ChatMessage original = pending.key() == null ? null : existing.result().get(pending.key());
        if (!locked.result().containsKey(pending.conversation()) || (pending.sender() != null && name == null)) {
          answers.add(() -> pending.promise().fail(ParleyException.notFound("conversation not found")));
        } else if (original != null) {
          answers.add(() -> pending.promise().complete(new Appended(original, true, null)));
        } else {
          accepted.add(pending);
          names.add(name);
        }
      }
      if (accepted.isEmpty()) {
        return Future.succeededFuture(answers);
      }
      return insert(tx, accepted).map(stored -> {
        for (int i = 0; i < accepted.size(); i++) {
          Pending pending = accepted.get(i);
          Row row = stored.get(i);
          ChatMessage message = new ChatMessage(row.getUUID("id").toString(), pending.conversation().toString(),
            row.getLong("seq"), pending.role(), pending.sender() == null ? null : pending.sender().toString(),
            names.get(i), pending.content(), pending.metadata(), pending.clientMsgId(),
            Json.time(row.getOffsetDateTime("created_at")), null, false);
          String mode = locked.result().get(pending.conversation());
          answers.add(() -> pending.promise().complete(new Appended(message, false, mode)));
        }
        return answers;
      });
    });
  }

  /** Inserts the messages; the rows come back in the order of {@code accepted}. */
  private Future<List<Row>> insert(SqlConnection tx, List<Pending> accepted) {
    Map<UUID, Integer> counts = new TreeMap<>();
    int size = accepted.size();
    UUID[] rooms = new UUID[size];
    Integer[] ordinals = new Integer[size];
    String[] senders = new String[size];
    String[] roles = new String[size];
    String[] contents = new String[size];
    String[] metadata = new String[size];
    String[] clientIds = new String[size];
    Map<List<Object>, Integer> index = new LinkedHashMap<>();
    for (int i = 0; i < size; i++) {
      Pending pending = accepted.get(i);
      int ordinal = counts.merge(pending.conversation(), 1, Integer::sum);
      rooms[i] = pending.conversation();
      ordinals[i] = ordinal;
      senders[i] = pending.sender() == null ? "" : pending.sender().toString();
      roles[i] = pending.role();
      contents[i] = pending.content();
      metadata[i] = pending.metadata().encode();
      clientIds[i] = pending.clientMsgId() == null ? "" : pending.clientMsgId();
      index.put(List.of(pending.conversation(), ordinal), i);
    }
    Tuple values = Tuple.tuple()
      .addValue(counts.keySet().toArray(UUID[]::new))
      .addValue(counts.values().toArray(Integer[]::new))
      .addValue(rooms).addValue(ordinals).addValue(senders).addValue(roles).addValue(contents).addValue(metadata)
      .addValue(clientIds);
    return tx.preparedQuery(WRITE).execute(values).map(rows -> {
      // The seqs each room got end at its new last_seq: the k-th message of the room is the one with ordinal k.
      Map<UUID, Long> firstSeq = new HashMap<>();
      List<Row> all = new ArrayList<>();
      rows.forEach(all::add);
      for (Row row : all) {
        firstSeq.merge(row.getUUID("conversation_id"), row.getLong("seq"), Math::min);
      }
      Row[] ordered = new Row[size];
      for (Row row : all) {
        UUID room = row.getUUID("conversation_id");
        int ordinal = (int) (row.getLong("seq") - firstSeq.get(room)) + 1;
        ordered[Objects.requireNonNull(index.get(List.of(room, ordinal)), "an inserted row matches a message")] = row;
      }
      if (all.size() != size) {
        throw new IllegalStateException("inserted " + all.size() + " of " + size + " messages");
      }
      return List.of(ordered);
    });
  }
}
