package dev.parley.example;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Conversation;
import dev.parley.bus.RoomEvents;
import dev.parley.bus.User;
import dev.parley.client.ParleyClient;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An example of a verticle that uses Parley only through {@link ParleyClient}: a bot that keeps a room, adds
 * people to it, and answers {@code /sample} commands there, as a lab's seed-data system would.
 *
 * <ul>
 *   <li>{@code /sample help}: what it can do;</li>
 *   <li>{@code /sample create <n> [topic]}: posts n (1-20) numbered sample messages about the topic.</li>
 * </ul>
 *
 * It also gives the assistant context for questions asked in its room. Run it beside a cluster of Parley nodes
 * (README, "Event-bus API"):
 *
 * <pre>
 * CLUSTER_MEMBERS=10.0.0.5:5701 CLUSTER_HOST=10.0.0.9 SAMPLE_BOT_MEMBERS=alice@example.com \
 *   java -cp parley.jar dev.parley.example.SampleBot
 * </pre>
 */
public final class SampleBot extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SampleBot.class);
  static final String HANDLE = "sample";
  static final String COMMAND = "/sample";
  static final int MAX_SAMPLES = 20;

  private final String roomTitle;
  private final List<String> members;
  private ParleyClient parley;
  private User bot;
  private Conversation room;

  /** @param members emails of the people to add to the room */
  public SampleBot(String roomTitle, List<String> members) {
    this.roomTitle = roomTitle;
    this.members = List.copyOf(members);
  }

  public static void main(String[] args) {
    String host = env("CLUSTER_HOST", "127.0.0.1");
    int port = Integer.parseInt(env("CLUSTER_PORT", "5801"));
    List<String> seeds = list(env("CLUSTER_MEMBERS", "127.0.0.1:5701"));
    SampleBot bot = new SampleBot(env("SAMPLE_BOT_ROOM", "Sample data"), list(env("SAMPLE_BOT_MEMBERS", "")));
    ParleyClient.joinCluster(host, port, seeds)
      .compose(vertx -> {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await(), "sample-bot-stop"));
        return vertx.deployVerticle(bot);
      })
      .onFailure(failure -> {
        LOG.error("the sample bot did not start", failure);
        System.exit(1);
      });
  }

  @Override
  public Future<?> start() {
    parley = ParleyClient.create(vertx);
    return parley.bot(HANDLE, "Sample bot")
      .compose(user -> {
        bot = user;
        return findOrCreateRoom();
      })
      .compose(conversation -> {
        room = conversation;
        // A member who cannot be added (no such account yet) is logged and skipped: the others still get in.
        return Future.join(members.stream().map(email -> parley.addMember(bot.id(), room.id(), email)
          .onFailure(failure -> LOG.warn("could not add {} to the room: {}", email, failure.getMessage()))).toList())
          .otherwiseEmpty();
      })
      .compose(added -> parley.subscribe(room.id(), this::onEvent))
      .compose(subscribed -> parley.provideContext(this::context))
      .compose(registered -> parley.post(bot.id(), room.id(),
        "Hello! I am the sample bot. Type `/sample help` to see what I can do."))
      .onSuccess(hello -> LOG.info("sample bot ready in room {} (seq {})", room.id(), hello.seq()));
  }

  /**
   * One room per title: a restarted bot carries on in the room it made before. Only a room the bot owns counts,
   * never one a person made with the same title and added the bot to.
   */
  private Future<Conversation> findOrCreateRoom() {
    return findRoom(null).compose(found -> found != null ? Future.succeededFuture(found)
      : parley.createConversation(bot.id(), roomTitle, Conversation.DEFAULT_ASSISTANT_MODE));
  }

  private Future<Conversation> findRoom(String cursor) {
    return parley.conversations(bot.id(), 100, cursor).compose(page -> {
      Conversation mine = page.items().stream()
        .filter(c -> roomTitle.equals(c.title()) && bot.id().equals(c.ownerId())).findFirst().orElse(null);
      return mine != null || page.nextCursor() == null ? Future.succeededFuture(mine) : findRoom(page.nextCursor());
    });
  }

  private void onEvent(JsonObject event) {
    if (!RoomEvents.MESSAGE.equals(event.getString(RoomEvents.TYPE))) {
      return;
    }
    ChatMessage message = ChatMessage.fromJson(event);
    if (bot.id().equals(message.senderId()) || message.content() == null) {
      return;
    }
    List<String> words = Arrays.stream(message.content().trim().split("\\s+")).toList();
    if (!COMMAND.equals(words.get(0))) {
      return;
    }
    String command = words.size() > 1 ? words.get(1) : "help";
    switch (command) {
      case "create" -> create(message, words);
      case "help" -> reply(message, "`/sample create <n> [topic]` posts n (1-" + MAX_SAMPLES
        + ") sample messages about the topic.", "help");
      default -> reply(message, "I do not know `/sample " + command + "`; try `/sample help`.", "unknown");
    }
  }

  private void create(ChatMessage command, List<String> words) {
    int count;
    try {
      count = Integer.parseInt(words.size() > 2 ? words.get(2) : "3");
    } catch (NumberFormatException e) {
      reply(command, "`/sample create` takes a number first, as in `/sample create 5 cats`.", "invalid");
      return;
    }
    if (count < 1 || count > MAX_SAMPLES) {
      reply(command, "I create 1 to " + MAX_SAMPLES + " sample messages at a time.", "invalid");
      return;
    }
    String topic = words.size() > 3 ? String.join(" ", words.subList(3, words.size())) : "anything";
    // One after another, so they keep their order; keyed by the command, so a replayed command posts nothing new.
    Future<ChatMessage> chain = Future.succeededFuture();
    for (int i = 1; i <= count; i++) {
      int n = i;
      chain = chain.compose(previous -> parley.post(bot.id(), room.id(),
        "Sample " + n + " of " + count + " about " + topic + ".", command.id() + "-" + n,
        new JsonObject().put("sample", true)));
    }
    chain.onFailure(failure -> LOG.warn("sample messages for {} failed: {}", command.id(), failure.getMessage()));
  }

  private void reply(ChatMessage to, String text, String kind) {
    parley.post(bot.id(), room.id(), text, to.id() + "-" + kind, new JsonObject())
      .onFailure(failure -> LOG.warn("reply to {} failed: {}", to.id(), failure.getMessage()));
  }

  /** Context for the assistant, in this bot's room only. */
  private Future<ParleyClient.Context> context(ParleyClient.ContextRequest request) {
    if (room == null || !room.id().equals(request.conversationId())) {
      return Future.succeededFuture();
    }
    return Future.succeededFuture(new ParleyClient.Context("This room holds sample data posted by the sample bot. "
      + "Anyone in it can type /sample create <n> [topic] to get n sample messages.", "sample bot"));
  }

  private static String env(String key, String fallback) {
    String value = System.getenv(key);
    return value == null || value.isBlank() ? fallback : value;
  }

  private static List<String> list(String value) {
    List<String> items = new ArrayList<>();
    for (String item : value.split(",")) {
      if (!item.isBlank()) {
        items.add(item.trim());
      }
    }
    return items;
  }
}
