package dev.parley.store;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Conversation;
import dev.parley.bus.Json;
import dev.parley.bus.Member;
import dev.parley.bus.User;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.util.Arrays;
import java.util.UUID;

/** Maps rows to the bus contracts. The column lists here and in the queries are kept side by side. */
final class Rows {

  static final String USER_COLUMNS = "u.id, u.email, u.display_name, u.roles, u.created_at";
  static final String CONVERSATION_COLUMNS = "c.id, c.owner_id, c.title, c.assistant_mode, c.metadata, c.last_seq, "
    + "c.created_at, c.updated_at, c.last_message_at, m.role AS my_role, m.last_read_seq AS my_last_read_seq";
  static final String MEMBER_COLUMNS = "m.user_id, u.email, u.display_name, m.role, m.joined_at, m.last_read_seq";
  static final String MESSAGE_COLUMNS = "x.id, x.conversation_id, x.seq, x.role, x.sender_id, u.display_name AS sender_name, "
    + "x.content, x.metadata, x.client_msg_id, x.created_at, x.edited_at, x.deleted_at";

  private Rows() {
  }

  static User user(Row row) {
    return new User(row.getUUID("id").toString(), row.getString("email"), row.getString("display_name"),
      Arrays.asList(row.getArrayOfStrings("roles")), Json.time(row.getOffsetDateTime("created_at")));
  }

  static Conversation conversation(Row row) {
    return new Conversation(row.getUUID("id").toString(), row.getUUID("owner_id").toString(), row.getString("title"),
      row.getString("assistant_mode"), json(row, "metadata"), row.getLong("last_seq"),
      Json.time(row.getOffsetDateTime("created_at")), Json.time(row.getOffsetDateTime("updated_at")),
      Json.time(row.getOffsetDateTime("last_message_at")), row.getString("my_role"), row.getLong("my_last_read_seq"),
      null);
  }

  static Member member(Row row) {
    return new Member(row.getUUID("user_id").toString(), row.getString("email"), row.getString("display_name"),
      row.getString("role"), Json.time(row.getOffsetDateTime("joined_at")), row.getLong("last_read_seq"));
  }

  static ChatMessage message(Row row) {
    boolean deleted = row.getOffsetDateTime("deleted_at") != null;
    UUID sender = row.getUUID("sender_id");
    return new ChatMessage(row.getUUID("id").toString(), row.getUUID("conversation_id").toString(), row.getLong("seq"),
      row.getString("role"), sender == null ? null : sender.toString(), row.getString("sender_name"),
      deleted ? null : row.getString("content"), deleted ? new JsonObject() : json(row, "metadata"),
      row.getString("client_msg_id"), Json.time(row.getOffsetDateTime("created_at")),
      Json.time(row.getOffsetDateTime("edited_at")), deleted);
  }

  private static JsonObject json(Row row, String column) {
    Object value = row.getValue(column);
    return value instanceof JsonObject json ? json : new JsonObject();
  }
}
