package dev.parley;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreClient;
import dev.parley.bus.StoreClient.Appended;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Group commit: a burst of appends is written in few transactions, yet every message gets exactly the answer
 * it would have had alone: its own gap-free seq, the original for a retried clientMsgId, NOT_FOUND for a
 * non-member, and a refusal of its own when PostgreSQL rejects it, which fails none of the others.
 */
@Timeout(60)
class GroupCommitTest {

  private static Parley node;
  private static Api api;
  private static StoreClient store;

  @BeforeAll
  static void start() {
    node = Nodes.start();
    api = new Api(node.httpPort());
    store = new StoreClient(node.vertx(), true, 30_000);
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private record Sent(String room, String sender, String content, String clientMsgId, Future<Appended> reply) {
  }

  private static Sent send(String room, String sender, String content, String clientMsgId) {
    String role = sender == null ? ChatMessage.ROLE_ASSISTANT : ChatMessage.ROLE_USER;
    return new Sent(room, sender, content, clientMsgId,
      store.append(room, sender, role, content, new JsonObject().put("n", content), clientMsgId));
  }

  private static ErrorCode failureOf(Future<?> reply) {
    assertTrue(reply.failed(), "expected a refusal, got " + reply.result());
    return ParleyException.from(reply.cause()).code();
  }

  @Test
  void aBurstIsWrittenInBatchesWithEveryMessagesOwnAnswer() {
    Session owner = api.register("owner");
    Session member = api.register("member");
    Session stranger = api.register("stranger");
    List<String> rooms = new ArrayList<>();
    for (int r = 0; r < 3; r++) {
      String room = api.conversation(owner, "burst " + r);
      api.post("/api/conversations/" + room + "/members", owner.token(), new JsonObject().put("userId", member.userId()));
      rooms.add(room);
    }
    String gone = api.conversation(owner, "deleted");
    assertEquals(204, api.delete("/api/conversations/" + gone, owner.token()).status());
    Appended before = store.append(rooms.get(0), member.userId(), ChatMessage.ROLE_USER, "stored before", new JsonObject(),
      "before-1").await();

    double batchesBefore = batchCount();
    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      String room = rooms.get(i % 3);
      String sender = i % 10 == 9 ? null : (i % 2 == 0 ? owner.userId() : member.userId());
      sent.add(send(room, sender, "m" + i, "k" + i));
      if (i % 20 == 0) {
        sent.add(send(room, sender, "m" + i, "k" + i));        // the same key again, in the same burst
      }
      if (i % 50 == 0) {
        sent.add(send(room, stranger.userId(), "not a member " + i, "s" + i));
        sent.add(send(gone, owner.userId(), "into a deleted room " + i, "g" + i));
        sent.add(send(rooms.get(0), member.userId(), "stored before", "before-1"));
      }
    }
    Future.join(sent.stream().map(Sent::reply).toList()).otherwiseEmpty().await();

    Map<String, ChatMessage> byKey = new HashMap<>();
    Map<String, Set<Long>> seqs = new HashMap<>();
    for (Sent one : sent) {
      if (one.content().startsWith("not a member") || one.content().startsWith("into a deleted room")) {
        assertEquals(ErrorCode.NOT_FOUND, failureOf(one.reply()), one.content());
        continue;
      }
      Appended appended = one.reply().result();
      assertTrue(one.reply().succeeded(), one.content() + ": " + one.reply().cause());
      ChatMessage message = appended.message();
      if ("before-1".equals(one.clientMsgId())) {
        assertTrue(appended.duplicate());
        assertEquals(before.message().id(), message.id());
        continue;
      }
      assertEquals(one.content(), message.content());
      assertEquals(one.room(), message.conversationId());
      ChatMessage first = byKey.putIfAbsent(one.clientMsgId(), message);
      if (first == null) {
        assertFalse(appended.duplicate(), one.content());
        assertEquals("mention", appended.assistantMode());
        assertTrue(seqs.computeIfAbsent(one.room(), r -> new HashSet<>()).add(message.seq()), "seq used twice");
      } else {
        assertTrue(appended.duplicate(), "the second " + one.clientMsgId() + " is a retry");
        assertEquals(first.id(), message.id());
      }
    }
    // Every room's seqs run 1..n without a gap, and what the store holds is what each sender was told.
    for (String room : rooms) {
      long last = room.equals(rooms.get(0)) ? 201 : 200;
      StoreClient.Since stored = store.since(room, 0, 1000).await();
      assertEquals(last, stored.lastSeq(), room);
      assertEquals(LongStream.rangeClosed(1, last).boxed().toList(),
        stored.messages().stream().map(ChatMessage::seq).toList());
      for (ChatMessage message : stored.messages()) {
        if (message.clientMsgId().startsWith("k")) {
          ChatMessage told = byKey.get(message.clientMsgId());
          assertEquals(told.id(), message.id());
          assertEquals(told.seq(), message.seq());
          assertEquals(told.content(), message.content());
          assertEquals(new JsonObject().put("n", told.content()), message.metadata());
          assertEquals(told.senderId(), message.senderId());
        }
      }
    }
    double batches = batchCount() - batchesBefore;
    assertTrue(batches < sent.size() / 4.0, "a burst of " + sent.size() + " appends took " + batches + " transactions");
  }

  @Test
  void aMessagePostgresqlRejectsFailsAloneAndLeavesNoGap() {
    Session owner = api.register("rejected");
    String room = api.conversation(owner, "one bad message");
    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      // A NUL character: PostgreSQL's text type refuses it (the HTTP and WebSocket inputs never let one through).
      sent.add(send(room, owner.userId(), i == 50 ? "bad \u0000 byte" : "fine " + i, "b" + i));
    }
    Future.join(sent.stream().map(Sent::reply).toList()).otherwiseEmpty().await();
    for (Sent one : sent) {
      if (one.content().startsWith("bad")) {
        assertTrue(one.reply().failed(), "the NUL message is refused");
      } else {
        assertTrue(one.reply().succeeded(), one.content() + ": " + one.reply().cause());
      }
    }
    StoreClient.Since stored = store.since(room, 0, 1000).await();
    assertEquals(99, stored.lastSeq());
    assertEquals(LongStream.rangeClosed(1, 99).boxed().toList(), stored.messages().stream().map(ChatMessage::seq).toList());
    // Retried one by one, the sender's messages keep the order they were sent in.
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      if (i != 50) {
        expected.add("fine " + i);
      }
    }
    assertEquals(expected, stored.messages().stream().map(ChatMessage::content).toList());
  }

  /** Group-commit transactions so far, as /metrics reports them. */
  private static double batchCount() {
    java.util.regex.Matcher count = java.util.regex.Pattern.compile("(?m)^parley_store_append_batch_size_messages_count (\\S+)$")
      .matcher(api.get("/metrics", null).text());
    assertTrue(count.find(), "the batch size summary is exported");
    return Double.parseDouble(count.group(1));
  }
}
