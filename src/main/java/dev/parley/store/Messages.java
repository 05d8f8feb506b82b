package dev.parley.store;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Json;
import dev.parley.bus.Member;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreClient.Appended;
import dev.parley.bus.StoreClient.MessagePage;
import dev.parley.bus.StoreClient.Since;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Messages. A message gets the next {@code seq} of its conversation in the transaction that stores it, so
 * sequence numbers have no gaps and no two messages share one; a retried {@code clientMsgId} stores nothing
 * and returns the original.
 */
final class Messages {

  /** Takes the next seq for a user sender, proving membership in the same statement; returns the sender's name. */
  private static final String NEXT_SEQ_AS_MEMBER = "UPDATE conversations c SET last_seq = c.last_seq + 1, "
    + "last_message_at = now(), updated_at = now() FROM conversation_members m JOIN users u ON u.id = m.user_id "
    + "WHERE c.id = $1 AND c.deleted_at IS NULL AND m.conversation_id = c.id AND m.user_id = $2 "
    + "RETURNING c.last_seq, u.display_name, c.assistant_mode";
  /** Takes the next seq for an assistant or system message, which has no sender. */
  private static final String NEXT_SEQ = "UPDATE conversations c SET last_seq = c.last_seq + 1, "
    + "last_message_at = now(), updated_at = now() WHERE c.id = $1 AND c.deleted_at IS NULL "
    + "RETURNING c.last_seq, NULL::text AS display_name, c.assistant_mode";
  private static final String INSERT = "INSERT INTO messages AS x (conversation_id, seq, sender_id, role, content, "
    + "metadata, client_msg_id) VALUES ($1, $2, $3, $4, $5, $6, $7) "
    + "ON CONFLICT DO NOTHING "
    + "RETURNING x.id, x.created_at";
  private static final String FROM = " FROM messages x LEFT JOIN users u ON u.id = x.sender_id ";
  /** One index lookup either way (see GroupCommit's EXISTING): with a sender, or without one. */
  private static final String BY_CLIENT_ID = "SELECT " + Rows.MESSAGE_COLUMNS + FROM
    + "WHERE x.conversation_id = $1 AND x.sender_id = $2 AND x.client_msg_id = $3 "
    + "UNION ALL SELECT " + Rows.MESSAGE_COLUMNS + FROM
    + "WHERE $2::uuid IS NULL AND x.conversation_id = $1 AND x.sender_id IS NULL AND x.client_msg_id = $3";
  private static final String BY_ID = "SELECT " + Rows.MESSAGE_COLUMNS + FROM
    + "WHERE x.conversation_id = $1 AND x.id = $2";
  private static final String LATEST = "SELECT " + Rows.MESSAGE_COLUMNS + FROM
    + "WHERE x.conversation_id = $1 AND x.seq < $2 ORDER BY x.seq DESC LIMIT $3";
  private static final String AFTER = "SELECT " + Rows.MESSAGE_COLUMNS + FROM
    + "WHERE x.conversation_id = $1 AND x.seq > $2 AND x.seq < $3 ORDER BY x.seq ASC LIMIT $4";
  /** Re-checks sender and tombstone in the statement itself: an edit racing a delete changes nothing. */
  private static final String EDIT = "UPDATE messages SET content = $3, edited_at = now() "
    + "WHERE conversation_id = $1 AND id = $2 AND sender_id = $4 AND deleted_at IS NULL";
  private static final String DELETE = "UPDATE messages SET content = '', metadata = '{}'::jsonb, deleted_at = now() "
    + "WHERE conversation_id = $1 AND id = $2";

  private static final String LAST_SEQ = "SELECT last_seq FROM conversations WHERE id = $1 AND deleted_at IS NULL";
  /** Moves the marker forward only, and never past the last message; no row when it does not move. */
  private static final String READ = "UPDATE conversation_members m SET last_read_seq = LEAST($3, c.last_seq) "
    + "FROM conversations c, users u WHERE m.conversation_id = $1 AND m.user_id = $2 AND c.id = m.conversation_id "
    + "AND c.deleted_at IS NULL AND u.id = m.user_id AND m.last_read_seq < LEAST($3, c.last_seq) "
    + "RETURNING m.last_read_seq, u.display_name";
  private static final String READ_MARKER = "SELECT m.last_read_seq, u.display_name FROM conversation_members m "
    + "JOIN conversations c ON c.id = m.conversation_id AND c.deleted_at IS NULL JOIN users u ON u.id = m.user_id "
    + "WHERE m.conversation_id = $1 AND m.user_id = $2";

  private final Pool pool;

  Messages(Pool pool) {
    this.pool = pool;
  }

  Future<Appended> append(UUID conversation, UUID sender, String role, String content, JsonObject metadata,
                          String clientMsgId) {
    return pool.withTransaction(tx -> {
      Future<Row> next = sender == null
        ? tx.preparedQuery(NEXT_SEQ).execute(Tuple.of(conversation)).map(rows -> Users.single(rows, "conversation"))
        : tx.preparedQuery(NEXT_SEQ_AS_MEMBER).execute(Tuple.of(conversation, sender))
          .map(rows -> Users.single(rows, "conversation"));
      return next.compose(seqRow -> {
        long seq = seqRow.getLong("last_seq");
        String senderName = seqRow.getString("display_name");
        String mode = seqRow.getString("assistant_mode");
        return tx.preparedQuery(INSERT)
          .execute(Tuple.of(conversation, seq, sender, role, content, metadata).addValue(clientMsgId))
          .compose(rows -> {
            if (rows.size() == 0) {
              // The clientMsgId was used before: undo the seq we took and answer with the original.
              return Future.failedFuture(new Duplicate());
            }
            Row row = rows.iterator().next();
            return Future.succeededFuture(new Appended(new ChatMessage(row.getUUID("id").toString(),
              conversation.toString(), seq, role, sender == null ? null : sender.toString(), senderName, content,
              metadata, clientMsgId, Json.time(row.getOffsetDateTime("created_at")), null, false),
              false, mode));
          });
      });
    }).recover(failure -> failure instanceof Duplicate
      ? pool.preparedQuery(BY_CLIENT_ID).execute(Tuple.of(conversation, sender, clientMsgId))
        .map(rows -> new Appended(Rows.message(Users.single(rows, "message")), true, null))
      : Future.failedFuture(failure));
  }

  /**
   * A page in ascending seq. Without bounds: the newest {@code limit}. With {@code after}: the oldest
   * {@code limit} after it (up to {@code before} if given). With only {@code before}: the newest before it.
   */
  Future<MessagePage> list(UUID actor, UUID conversation, Long after, Long before, int limit) {
    long upper = before == null ? Long.MAX_VALUE : before;
    return Conversations.membership(pool, actor, conversation).compose(member -> {
      if (after != null) {
        return pool.preparedQuery(AFTER).execute(Tuple.of(conversation, after, upper, limit + 1))
          .map(rows -> page(rows, limit, false));
      }
      return pool.preparedQuery(LATEST).execute(Tuple.of(conversation, upper, limit + 1))
        .map(rows -> page(rows, limit, true));
    });
  }

  private static MessagePage page(Iterable<Row> rows, int limit, boolean descending) {
    List<ChatMessage> messages = new ArrayList<>();
    rows.forEach(row -> messages.add(Rows.message(row)));
    boolean more = messages.size() > limit;
    List<ChatMessage> page = new ArrayList<>(more ? messages.subList(0, limit) : messages);
    if (descending) {
      Collections.reverse(page);
    }
    return new MessagePage(page, more);
  }

  /** Up to {@code limit} messages after {@code after}, and the conversation's last seq, read in that order. */
  Future<Since> since(UUID conversation, long after, int limit) {
    return pool.preparedQuery(LAST_SEQ).execute(Tuple.of(conversation)).compose(rows -> {
      long last = Users.single(rows, "conversation").getLong("last_seq");
      if (limit == 0 || after >= last) {
        return Future.succeededFuture(new Since(List.of(), last));
      }
      return pool.preparedQuery(AFTER).execute(Tuple.of(conversation, after, Long.MAX_VALUE, limit))
        .map(messages -> new Since(page(messages, limit, false).messages(), last));
    });
  }

  /** The read marker after moving it, the member's name, and whether it moved. */
  record ReadMarker(long seq, String displayName, boolean moved) {
  }

  /** Moves the member's read marker to {@code seq}; NOT_FOUND for a non-member. */
  Future<ReadMarker> markRead(UUID actor, UUID conversation, long seq) {
    return pool.preparedQuery(READ).execute(Tuple.of(conversation, actor, seq)).compose(moved -> {
      if (moved.size() > 0) {
        Row row = moved.iterator().next();
        return Future.succeededFuture(new ReadMarker(row.getLong("last_read_seq"), row.getString("display_name"), true));
      }
      return pool.preparedQuery(READ_MARKER).execute(Tuple.of(conversation, actor))
        .map(rows -> {
          Row row = Users.single(rows, "conversation");
          return new ReadMarker(row.getLong("last_read_seq"), row.getString("display_name"), false);
        });
    });
  }

  /** Only the sender edits a message; a deleted message cannot be edited. */
  Future<ChatMessage> edit(UUID actor, UUID conversation, UUID id, String content) {
    return Conversations.membership(pool, actor, conversation)
      .compose(member -> existing(conversation, id))
      .compose(message -> {
        if (!actor.toString().equals(message.senderId())) {
          return Future.failedFuture(ParleyException.forbidden("only the sender can edit a message"));
        }
        return pool.preparedQuery(EDIT).execute(Tuple.of(conversation, id, content, actor));
      })
      .compose(edited -> edited.rowCount() == 0
        ? Future.failedFuture(ParleyException.notFound("message not found"))
        : existing(conversation, id));
  }

  /** The sender or the conversation's owner deletes a message; it stays as a tombstone holding its seq. */
  Future<ChatMessage> delete(UUID actor, UUID conversation, UUID id) {
    return Conversations.membership(pool, actor, conversation)
      .compose(member -> existing(conversation, id).compose(message -> {
        if (!actor.toString().equals(message.senderId()) && !Member.OWNER.equals(member.myRole())) {
          return Future.failedFuture(ParleyException.forbidden("only the sender or the owner can delete a message"));
        }
        return pool.preparedQuery(DELETE).execute(Tuple.of(conversation, id));
      }))
      .compose(done -> pool.preparedQuery(BY_ID).execute(Tuple.of(conversation, id)))
      .map(rows -> Rows.message(Users.single(rows, "message")));
  }

  private Future<ChatMessage> existing(UUID conversation, UUID id) {
    return pool.preparedQuery(BY_ID).execute(Tuple.of(conversation, id)).compose(rows -> {
      ChatMessage message = Rows.message(Users.single(rows, "message"));
      return message.deleted()
        ? Future.failedFuture(ParleyException.notFound("message not found"))
        : Future.succeededFuture(message);
    });
  }

  /** Rolls the append's transaction back without logging an error: the message was a retry. */
  private static final class Duplicate extends RuntimeException {
    Duplicate() {
      super("duplicate clientMsgId", null, false, false);
    }
  }
}
