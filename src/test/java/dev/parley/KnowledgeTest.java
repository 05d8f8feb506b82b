package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The knowledge base: uploads of every supported kind, who may read what, and search. */
@Timeout(60)
class KnowledgeTest {

  private static final String ADMIN_EMAIL = "librarian@example.org";
  private static Parley node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
      .put("MAX_DOCUMENT_BYTES", 200_000)
      .put("ADMIN_EMAILS", ADMIN_EMAIL));
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static Reply upload(Session owner, String filename, String text, Map<String, String> fields) {
    return api.upload("/api/documents", owner.token(), filename, text.getBytes(StandardCharsets.UTF_8), fields);
  }

  private static JsonArray search(Session asker, String query, String conversationId) {
    String path = "/api/documents/search?q=" + java.net.URLEncoder.encode(query, StandardCharsets.UTF_8)
      + (conversationId == null ? "" : "&conversationId=" + conversationId);
    Reply reply = api.get(path, asker.token());
    assertEquals(200, reply.status(), reply.text());
    return reply.json().getJsonArray("passages");
  }

  private static String firstDocument(JsonArray passages) {
    return passages.isEmpty() ? null : passages.getJsonObject(0).getString("documentId");
  }

  @Test
  void searchFindsTheRightDocumentOfASmallCorpus() {
    Session ada = api.register("ada");
    String tides = upload(ada, "tides.md", "# Tides\n\nTides are caused by the gravitational pull of the moon and "
      + "the sun on the oceans.\n\nSpring tides happen at new and full moon.", Map.of()).json().getString("id");
    String bread = upload(ada, "bread.txt", "Sourdough bread rises because wild yeast and lactobacilli ferment "
      + "the flour. Bake it at a high temperature.", Map.of()).json().getString("id");
    upload(ada, "volcanoes.txt", "Volcanoes erupt when magma rises through the crust.", Map.of());
    assertEquals(tides, firstDocument(search(ada, "what causes the tides", null)));
    assertEquals(bread, firstDocument(search(ada, "why does sourdough rise?", null)));
    // Misspelled beyond what full-text search matches: trigram similarity still finds it.
    JsonArray fuzzy = search(ada, "sourdogh", null);
    assertEquals(bread, firstDocument(fuzzy));
    assertEquals("trigram", fuzzy.getJsonObject(0).getString("match"));
    assertTrue(search(ada, "quantum chromodynamics", null).isEmpty(), "nothing relevant: nothing found");
  }

  @Test
  void nobodyRetrievesAnotherUsersPrivateDocument() {
    Session owner = api.register("owner");
    Session other = api.register("other");
    String secret = upload(owner, "secret.txt", "The vault combination is kept under the zebra painting.", Map.of())
      .json().getString("id");
    assertTrue(search(other, "vault combination zebra", null).isEmpty());
    assertEquals(404, api.get("/api/documents/" + secret, other.token()).status());
    assertEquals(404, api.delete("/api/documents/" + secret, other.token()).status());
    assertEquals(secret, firstDocument(search(owner, "vault combination", null)));
    // Nor in a shared conversation: the other member asks there and still gets nothing of it.
    String room = api.conversation(owner, "shared");
    api.post("/api/conversations/" + room + "/members", owner.token(), new JsonObject().put("userId", other.userId()));
    assertTrue(search(other, "vault combination", room).isEmpty());
  }

  @Test
  void aConversationsDocumentsAreItsMembersAndOnlyThere() {
    Session lea = api.register("lea");
    Session max = api.register("max");
    Session out = api.register("out");
    String room = api.conversation(lea, "project");
    String elsewhere = api.conversation(max, "elsewhere");
    api.post("/api/conversations/" + room + "/members", lea.token(), new JsonObject().put("userId", max.userId()));
    Reply attached = upload(lea, "plan.txt", "The launch of project Heron is planned for the third of March.",
      Map.of("conversationId", room));
    assertEquals(201, attached.status(), attached.text());
    assertEquals(room, attached.json().getString("conversationId"));
    String plan = attached.json().getString("id");
    assertEquals(plan, firstDocument(search(max, "when is the launch of Heron", room)));
    assertTrue(search(max, "launch of Heron", elsewhere).isEmpty(), "not in another conversation");
    assertTrue(search(out, "launch of Heron", room).isEmpty(), "not for a non-member");
    assertEquals(1, api.get("/api/documents?conversationId=" + room, max.token()).json().getJsonArray("documents").size());
    assertEquals(404, api.get("/api/documents?conversationId=" + room, out.token()).status());
    assertEquals(404, upload(out, "x.txt", "intruding", Map.of("conversationId", room)).status());
    // A deleted conversation takes its documents out of every search.
    assertEquals(204, api.delete("/api/conversations/" + room, lea.token()).status());
    assertTrue(search(max, "launch of Heron", room).isEmpty());
    assertTrue(search(lea, "launch of Heron", room).isEmpty());
  }

  @Test
  void anAdminsGlobalDocumentIsEveryonesAndOnlyAnAdminMakesOne() {
    api.post("/api/auth/register", null, new JsonObject().put("email", ADMIN_EMAIL)
      .put("password", "correct horse battery"));
    Reply registered = api.post("/api/auth/login", null, new JsonObject().put("email", ADMIN_EMAIL)
      .put("password", "correct horse battery"));
    assertEquals(200, registered.status(), registered.text());
    assertTrue(registered.json().getJsonObject("user").getJsonArray("roles").contains("admin"));
    Session librarian = new Session(registered.json().getString("token"),
      registered.json().getJsonObject("user").getString("id"), ADMIN_EMAIL);
    Session reader = api.register("reader");
    Reply global = upload(librarian, "handbook.txt", "Office hours are nine to five on weekdays.",
      Map.of("global", "true"));
    assertEquals(201, global.status(), global.text());
    assertTrue(global.json().getBoolean("global"));
    assertEquals(global.json().getString("id"), firstDocument(search(reader, "office hours", null)));
    assertEquals(403, upload(reader, "mine.txt", "not for everyone", Map.of("global", "true")).status());
    assertEquals(403, api.delete("/api/documents/" + global.json().getString("id"), reader.token()).status());
  }

  @Test
  void csvAndPdfAreReadAndCutIntoChunks() throws Exception {
    Session cal = api.register("cal");
    Reply csv = upload(cal, "planets.csv", "planet,moons,notes\nMars,2,red dust\nJupiter,95,great red spot\n"
      + "Saturn,146,\"rings of ice, rock\"\n", Map.of());
    assertEquals(201, csv.status(), csv.text());
    assertEquals("text/csv", csv.json().getString("contentType"));
    JsonObject saturn = search(cal, "Saturn rings", null).getJsonObject(0);
    assertTrue(saturn.getString("content").contains("planet: Saturn; moons: 146; notes: rings of ice, rock"),
      saturn.encode());

    Reply pdf = api.upload("/api/documents", cal.token(), "report.pdf", pdf("The aurora borealis glows green "
      + "when solar wind strikes oxygen."), Map.of("title", "Aurora report"));
    assertEquals(201, pdf.status(), pdf.text());
    assertEquals("application/pdf", pdf.json().getString("contentType"));
    assertEquals("Aurora report", pdf.json().getString("title"));
    JsonObject aurora = search(cal, "aurora oxygen", null).getJsonObject(0);
    assertEquals(pdf.json().getString("id"), aurora.getString("documentId"));
    assertEquals("Aurora report", aurora.getString("title"));

    StringBuilder longText = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      longText.append("Sentence number ").append(i).append(" talks about the history of clocks and time. ");
    }
    Reply chunked = upload(cal, "clocks.txt", longText.toString(), Map.of());
    assertTrue(chunked.json().getInteger("chunks") >= 4, chunked.text());
  }

  @Test
  void theTypeIsTheContentsNotTheNames() {
    Session dan = api.register("dan");
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', (byte) 0xff};
    Reply binary = api.upload("/api/documents", dan.token(), "notes.txt", png, Map.of());
    assertEquals(400, binary.status(), binary.text());
    assertEquals("INVALID_INPUT", binary.errorCode());
    Reply fakePdf = upload(dan, "fake.pdf", "plain words in a file named like a PDF", Map.of());
    assertEquals(201, fakePdf.status(), fakePdf.text());
    assertEquals("text/plain", fakePdf.json().getString("contentType"));
    Reply brokenPdf = api.upload("/api/documents", dan.token(), "broken.pdf",
      "%PDF-1.7 this is not really a PDF".getBytes(StandardCharsets.US_ASCII), Map.of());
    assertEquals(400, brokenPdf.status(), brokenPdf.text());
  }

  @Test
  void limitsAndDuplicatesAndDeletion() {
    Session eve = api.register("eve");
    Reply tooBig = upload(eve, "big.txt", "word ".repeat(50_000), Map.of());
    assertEquals(413, tooBig.status(), tooBig.text());
    assertEquals("TOO_LARGE", tooBig.errorCode());
    assertEquals(400, upload(eve, "blank.txt", "   \n\n  ", Map.of()).status());
    assertEquals(401, api.upload("/api/documents", null, "a.txt", "x".getBytes(StandardCharsets.UTF_8), Map.of()).status());

    Reply first = upload(eve, "owls.txt", "Owls hunt at night with silent feathers.", Map.of());
    assertEquals(201, first.status());
    Reply again = upload(eve, "owls-copy.txt", "Owls hunt at night with silent feathers.", Map.of());
    assertEquals(200, again.status(), "the same file again stores nothing");
    assertEquals(first.json().getString("id"), again.json().getString("id"));

    String id = first.json().getString("id");
    assertEquals(200, api.get("/api/documents/" + id, eve.token()).status());
    assertTrue(api.get("/api/documents", eve.token()).json().getJsonArray("documents").stream()
      .anyMatch(d -> id.equals(((JsonObject) d).getString("id"))));
    assertEquals(204, api.delete("/api/documents/" + id, eve.token()).status());
    assertEquals(404, api.get("/api/documents/" + id, eve.token()).status());
    assertTrue(search(eve, "owls silent feathers", null).isEmpty(), "gone from search at once");
  }

  private static byte[] pdf(String text) throws Exception {
    try (PDDocument document = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      PDPage page = new PDPage();
      document.addPage(page);
      try (PDPageContentStream content = new PDPageContentStream(document, page)) {
        content.beginText();
        content.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 12);
        content.newLineAtOffset(72, 700);
        content.showText(text);
        content.endText();
      }
      document.save(out);
      return out.toByteArray();
    }
  }
}
