package dev.parley.faults;

import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Rooms of users for the fault suite, made over HTTP, and what the store holds of them. */
final class Rooms {

  private Rooms() {
  }

  /**
   * Makes {@code count} rooms of {@code size} members through {@code api} and adds each member to {@code crowd},
   * on the nodes in turn. Returns the room ids and the owner of each (the first member).
   */
  static Map<String, Session> populate(Api api, Crowd crowd, int count, int size, int nodes) {
    Map<String, Session> owners = new LinkedHashMap<>();
    int next = 0;
    for (int r = 0; r < count; r++) {
      List<Session> members = new ArrayList<>();
      for (int m = 0; m < size; m++) {
        members.add(api.register("f" + r + "-" + m));
      }
      String room = api.conversation(members.get(0), "fault room " + r);
      for (Session member : members.subList(1, size)) {
        assertEquals(201, api.post("/api/conversations/" + room + "/members", members.get(0).token(),
          new JsonObject().put("userId", member.userId())).status());
      }
      for (Session member : members) {
        crowd.add(member.userId(), member.token(), room, next++ % nodes);
      }
      owners.put(room, members.get(0));
    }
    return owners;
  }

  /** Every stored message of the room, in seq order, read a page of 200 at a time. */
  static List<JsonObject> stored(Api api, String room, String token) {
    List<JsonObject> all = new ArrayList<>();
    long after = 0;
    while (true) {
      JsonObject page = api.get("/api/conversations/" + room + "/messages?limit=200&after=" + after, token).json();
      JsonArray messages = page.getJsonArray("messages");
      messages.forEach(message -> all.add((JsonObject) message));
      if (messages.isEmpty() || !page.getBoolean("hasMore", false)) {
        return all;
      }
      after = all.get(all.size() - 1).getLong("seq");
    }
  }

  /**
   * What the crowd was told against what the store holds: {@code acked} acknowledgements, {@code lost} of them with
   * no stored row of that seq, {@code storedTwice} rows with a (sender, clientMsgId) already stored, {@code seqGaps}
   * missing seqs in the rooms, and over every user {@code duplicates} and {@code gaps} in what it received, and
   * {@code behind} messages it never got.
   */
  record Audit(long acked, long lost, long storedTwice, long seqGaps, long duplicates, long gaps, long behind) {
  }

  static Audit audit(Api api, Crowd crowd, Map<String, Session> owners) throws Exception {
    Map<String, Map<String, Long>> storedByRoom = new LinkedHashMap<>();
    long storedTwice = 0;
    long seqGaps = 0;
    for (Map.Entry<String, Session> room : owners.entrySet()) {
      Map<String, Long> byKey = new LinkedHashMap<>();
      List<JsonObject> messages = stored(api, room.getKey(), room.getValue().token());
      for (int i = 0; i < messages.size(); i++) {
        JsonObject message = messages.get(i);
        seqGaps += message.getLong("seq") - (i == 0 ? 0 : messages.get(i - 1).getLong("seq")) - 1;
        String key = message.getJsonObject("sender").getString("id") + "/" + message.getString("clientMsgId");
        if (byKey.put(key, message.getLong("seq")) != null) {
          storedTwice++;
        }
      }
      storedByRoom.put(room.getKey(), byKey);
    }
    long twice = storedTwice;
    long missing = seqGaps;
    return crowd.read(c -> {
      long acked = 0;
      long lost = 0;
      long behind = 0;
      for (Crowd.User user : c.users()) {
        Map<String, Long> stored = storedByRoom.get(user.room);
        for (Map.Entry<String, Long> ack : user.acked.entrySet()) {
          acked++;
          if (!ack.getValue().equals(stored.get(user.id + "/" + ack.getKey()))) {
            lost++;
          }
        }
        behind += stored.size() - user.lastSeq;
      }
      long duplicates = c.users().stream().mapToLong(user -> user.duplicates).sum();
      long gaps = c.users().stream().mapToLong(user -> user.gaps).sum();
      return new Audit(acked, lost, twice, missing, duplicates, gaps, behind);
    });
  }
}
