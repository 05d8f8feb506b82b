package dev.parley.store;

import dev.parley.bus.Conversation;
import dev.parley.bus.Member;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreClient.ConversationPage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Conversations and their members. Every read is made as a member: a conversation the actor is not a member
 * of, or that was deleted, is NOT_FOUND, so its existence never leaks.
 */
final class Conversations {

  private static final String ACTIVITY = "COALESCE(c.last_message_at, c.created_at)";
  private static final String AS_MEMBER = "SELECT " + Rows.CONVERSATION_COLUMNS + ", " + ACTIVITY + " AS activity "
    + "FROM conversations c JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $1 "
    + "WHERE c.deleted_at IS NULL";
  private static final String GET = AS_MEMBER + " AND c.id = $2";
  private static final String LIST_FIRST = AS_MEMBER + " ORDER BY activity DESC, c.id DESC LIMIT $2";
  private static final String LIST_AFTER = AS_MEMBER + " AND (" + ACTIVITY + ", c.id) < ($3, $4) "
    + "ORDER BY activity DESC, c.id DESC LIMIT $2";
  private static final String MEMBERS = "SELECT " + Rows.MEMBER_COLUMNS + " FROM conversation_members m "
    + "JOIN users u ON u.id = m.user_id WHERE m.conversation_id = $1";
  private static final String INSERT = "INSERT INTO conversations (owner_id, title, assistant_mode, metadata, "
    + "assistant_mode_chosen) VALUES ($1, $2, $3, $4, $5) RETURNING id";
  /** A room that gains a second member stops answering everything, unless that was chosen. */
  private static final String GROUP_MODE = "UPDATE conversations SET assistant_mode = 'mention', updated_at = now() "
    + "WHERE id = $1 AND NOT assistant_mode_chosen AND assistant_mode = 'always' "
    + "AND (SELECT count(*) FROM conversation_members WHERE conversation_id = $1) > 1";
  private static final String INSERT_MEMBER = "INSERT INTO conversation_members (conversation_id, user_id, role) "
    + "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
  private static final String UPDATE = "UPDATE conversations SET title = COALESCE($2, title), "
    + "assistant_mode = COALESCE($3, assistant_mode), metadata = COALESCE($4, metadata), updated_at = now(), "
    + "assistant_mode_chosen = assistant_mode_chosen OR $3 IS NOT NULL WHERE id = $1";
  private static final String DELETE = "UPDATE conversations SET deleted_at = now(), updated_at = now() WHERE id = $1";
  private static final String USER_BY_EMAIL = "SELECT id FROM users WHERE lower(email) = lower($1)";
  private static final String USER_EXISTS = "SELECT id FROM users WHERE id = $1";
  private static final String REMOVE_MEMBER = "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2";

  private final Pool pool;

  Conversations(Pool pool) {
    this.pool = pool;
  }

  /**
   * Creates the conversation with its owner as first member; the reply is read in the same transaction.
   *
   * @param modeChosen false when the mode is only the creator's default (see {@link #GROUP_MODE})
   */
  Future<Conversation> create(UUID owner, String title, String assistantMode, JsonObject metadata, boolean modeChosen) {
    return pool.withTransaction(tx -> tx.preparedQuery(INSERT)
      .execute(Tuple.of(owner, title, assistantMode, metadata, modeChosen))
      .compose(rows -> {
        UUID id = rows.iterator().next().getUUID("id");
        return tx.preparedQuery(INSERT_MEMBER).execute(Tuple.of(id, owner, Member.OWNER))
          .compose(done -> get(tx, owner, id));
      }));
  }

  /** The actor's conversations, newest activity first, {@code limit} at a time. */
  Future<ConversationPage> list(UUID actor, int limit, String cursor) {
    Future<List<Row>> rows;
    if (cursor == null) {
      rows = pool.preparedQuery(LIST_FIRST).execute(Tuple.of(actor, limit + 1)).map(Conversations::asList);
    } else {
      Cursor position = Cursor.decode(cursor);
      rows = pool.preparedQuery(LIST_AFTER).execute(Tuple.of(actor, limit + 1, position.activity, position.id))
        .map(Conversations::asList);
    }
    return rows.map(list -> {
      boolean more = list.size() > limit;
      List<Row> page = more ? list.subList(0, limit) : list;
      Row last = page.isEmpty() ? null : page.get(page.size() - 1);
      String next = more ? new Cursor(last.getOffsetDateTime("activity"), last.getUUID("id")).encode() : null;
      return new ConversationPage(page.stream().map(Rows::conversation).toList(), next);
    });
  }

  /** The conversation as the actor sees it, with its members. */
  Future<Conversation> get(UUID actor, UUID id) {
    return get(pool, actor, id);
  }

  private static Future<Conversation> get(SqlClient client, UUID actor, UUID id) {
    return membership(client, actor, id).compose(conversation -> client.preparedQuery(MEMBERS).execute(Tuple.of(id))
      .map(rows -> {
        List<Member> members = new ArrayList<>();
        rows.forEach(row -> members.add(Rows.member(row)));
        return conversation.withMembers(members);
      }));
  }

  /** The conversation as the actor sees it, or NOT_FOUND. Works inside a transaction too. */
  static Future<Conversation> membership(SqlClient client, UUID actor, UUID id) {
    return client.preparedQuery(GET).execute(Tuple.of(actor, id))
      .map(rows -> Rows.conversation(Users.single(rows, "conversation")));
  }

  Future<Conversation> update(UUID actor, UUID id, String title, String assistantMode, JsonObject metadata) {
    return asOwner(actor, id, "change the conversation")
      .compose(owned -> pool.preparedQuery(UPDATE).execute(Tuple.of(id, title, assistantMode, metadata)))
      .compose(done -> get(actor, id));
  }

  Future<Void> delete(UUID actor, UUID id) {
    return asOwner(actor, id, "delete the conversation")
      .compose(owned -> pool.preparedQuery(DELETE).execute(Tuple.of(id)))
      .mapEmpty();
  }

  /** A member added: the member, and whether the room's assistant mode changed with it (now a group). */
  record Added(Member member, boolean modeChanged) {
  }

  /** Adds a member named by id or, when {@code memberId} is null, by email. Adding a member twice is a no-op. */
  Future<Added> addMember(UUID actor, UUID id, String memberId, String email) {
    return asOwner(actor, id, "add members")
      .compose(owned -> memberId != null
        ? pool.preparedQuery(USER_EXISTS).execute(Tuple.of(Requests.parse(memberId, "user")))
        : pool.preparedQuery(USER_BY_EMAIL).execute(Tuple.of(email)))
      .compose(rows -> {
        UUID user = Users.single(rows, "user").getUUID("id");
        return pool.preparedQuery(INSERT_MEMBER).execute(Tuple.of(id, user, Member.MEMBER))
          .compose(done -> pool.preparedQuery(GROUP_MODE).execute(Tuple.of(id)))
          .compose(changed -> get(actor, id).map(conversation -> new Added(conversation.members().stream()
            .filter(member -> member.userId().equals(user.toString())).findFirst().orElseThrow(),
            changed.rowCount() > 0)));
      });
  }

  /** The owner removes anyone but itself; a member removes only itself (leaves). */
  Future<Void> removeMember(UUID actor, UUID id, UUID member) {
    return membership(pool, actor, id).compose(conversation -> {
      boolean owner = Member.OWNER.equals(conversation.myRole());
      if (member.equals(actor) && owner) {
        return Future.failedFuture(ParleyException.invalid(
          "the owner cannot leave the conversation; delete it instead"));
      }
      if (!member.equals(actor) && !owner) {
        return Future.failedFuture(ParleyException.forbidden("only the owner can remove other members"));
      }
      return pool.preparedQuery(REMOVE_MEMBER).execute(Tuple.of(id, member)).compose(rows -> rows.rowCount() == 0
        ? Future.failedFuture(ParleyException.notFound("member not found"))
        : Future.succeededFuture());
    });
  }

  private Future<Conversation> asOwner(UUID actor, UUID id, String what) {
    return membership(pool, actor, id).compose(conversation -> Member.OWNER.equals(conversation.myRole())
      ? Future.succeededFuture(conversation)
      : Future.failedFuture(ParleyException.forbidden("only the owner can " + what)));
  }

  private static List<Row> asList(Iterable<Row> rows) {
    List<Row> list = new ArrayList<>();
    rows.forEach(list::add);
    return list;
  }

  /** An opaque position in "my conversations": the last item's activity time and id. */
  private record Cursor(OffsetDateTime activity, UUID id) {

    String encode() {
      return Base64.getUrlEncoder().withoutPadding()
        .encodeToString((activity + "|" + id).getBytes(StandardCharsets.UTF_8));
    }

    static Cursor decode(String cursor) {
      try {
        String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|");
        return new Cursor(OffsetDateTime.parse(parts[0]), UUID.fromString(parts[1]));
      } catch (RuntimeException e) {
        throw ParleyException.invalid("cursor is not valid");
      }
    }
  }
}
