package dev.parley;

import dev.parley.config.Ports;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Browser;
import dev.parley.support.NodeProcess;
import dev.parley.support.RoundRobinProxy;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web client in headless Chromium, as people use it: two nodes (real processes) behind a round-robin proxy
 * with no session affinity, two people in two browsers. Screenshots go to {@code target/screenshots}.
 */
@Timeout(240)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(NodeProcess.LogsOnFailure.class)
class WebClientIT {

  private static String database;
  private static final Map<String, NodeProcess> nodes = new HashMap<>();
  private static final Map<String, Integer> ports = new HashMap<>();
  private static RoundRobinProxy proxy;
  private static Api api;
  private static final List<ChromeDriver> browsers = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Browser.available(), "no Chromium here");
    database = TestServices.newDatabase();
    int clusterA = Ports.free();
    int clusterB = Ports.free();
    String seeds = "127.0.0.1:" + clusterA + ",127.0.0.1:" + clusterB;
    int portA = Ports.free();
    int portB = Ports.free();
    NodeProcess a = NodeProcess.start(env("node-a", portA, clusterA, seeds));
    NodeProcess b = NodeProcess.start(env("node-b", portB, clusterB, seeds));
    a.awaitLog("listening on http://127.0.0.1:" + portA, 120);
    b.awaitLog("listening on http://127.0.0.1:" + portB, 120);
    nodes.put("node-a", a);
    nodes.put("node-b", b);
    ports.put("node-a", portA);
    ports.put("node-b", portB);
    proxy = new RoundRobinProxy(List.of(portA, portB));
    api = new Api(proxy.port());
  }

  private static Map<String, String> env(String name, int port, int clusterPort, String seeds) {
    Map<String, String> env = NodeProcess.clusterEnv(name, port, clusterPort, seeds, database);
    // Two people in a room are named; a third makes it crowded (counts instead of names), as 201 do by default.
    env.put("PRESENCE_MAX_LISTED", "2");
    return env;
  }

  /** Each test's browsers close with it: a page left open keeps a socket (and a proxied connection). */
  @org.junit.jupiter.api.AfterEach
  void closeBrowsers() {
    browsers.forEach(ChromeDriver::quit);
    browsers.clear();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    browsers.forEach(ChromeDriver::quit);
    if (api != null) {
      api.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    for (NodeProcess node : nodes.values()) {
      node.close();
    }
  }

  private static ChromeDriver signedIn(Session user) {
    ChromeDriver browser = Browser.open(TestServices.tempDir("chromium"));
    browsers.add(browser);
    browser.get("http://127.0.0.1:" + proxy.port() + "/");
    WebDriverWait wait = waiting(browser);
    wait.until(page -> page.findElement(By.id("email")).isDisplayed());
    browser.findElement(By.id("email")).sendKeys(user.email());
    browser.findElement(By.id("password")).sendKeys("correct horse battery");
    browser.findElement(By.id("do-login")).click();
    wait.until(page -> page.findElement(By.id("connection")).getAttribute("class").contains("online"));
    return browser;
  }

  private static WebDriverWait waiting(ChromeDriver browser) {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
    wait.pollingEvery(Duration.ofMillis(20));
    // The page re-renders as events arrive: an element read a moment ago may be gone, so look again.
    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
    return wait;
  }

  private static void open(ChromeDriver browser, String room) {
    click(browser, By.cssSelector("button[data-room='" + room + "']"));
    waiting(browser).until(page -> page.findElement(By.id("room")).isDisplayed()
      && room.equals(((JavascriptExecutor) browser).executeScript("return window.parley.current")));
  }

  /** Clicks what may be re-rendered at any moment: found afresh until the click lands. */
  private static void click(ChromeDriver browser, By what) {
    waiting(browser).until(page -> {
      page.findElement(what).click();
      return true;
    });
  }

  private static void say(ChromeDriver browser, String text) {
    browser.findElement(By.id("text")).sendKeys(text, Keys.ENTER);
  }

  /** The texts of the stored messages on screen, in order, read in one go (the page may re-render meanwhile). */
  @SuppressWarnings("unchecked")
  private static List<String> texts(ChromeDriver browser) {
    return new ArrayList<>((List<String>) ((JavascriptExecutor) browser).executeScript(
      "return [...document.querySelectorAll('#messages li[data-seq] .text')].map(e => e.textContent)"));
  }

  private static String text(ChromeDriver browser, String selector) {
    return (String) ((JavascriptExecutor) browser).executeScript(
      "const e = document.querySelector(arguments[0]); return e ? e.textContent : null", selector);
  }

  private static void awaitText(ChromeDriver browser, String text) {
    try {
      waiting(browser).until(page -> texts(browser).contains(text));
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("\"" + text + "\" not on the page; it shows " + texts(browser) + "; its last frames: "
        + ((JavascriptExecutor) browser).executeScript("return JSON.stringify(window.parley.trace)"), e);
    }
  }

  private static String room(Session owner, Session member) {
    String id = api.conversation(owner, "Garden club");
    assertEquals(201, api.post("/api/conversations/" + id + "/members", owner.token(),
      new JsonObject().put("userId", member.userId())).status());
    return id;
  }

  @Test
  @Order(1)
  void twoPeopleChatSeeEachOtherTypingAndOnlineAndWatchTheAssistant() {
    Session ann = api.register("ann");
    Session ben = api.register("ben");
    String id = room(ann, ben);
    // Attached to the room, so the assistant reads it for every member.
    api.upload("/api/documents", ann.token(), "owls.txt", "Owls hunt at night. Their soft feathers make their flight silent."
      .getBytes(StandardCharsets.UTF_8), Map.of("conversationId", id));
    ChromeDriver a = signedIn(ann);
    ChromeDriver b = signedIn(ben);
    open(a, id);
    open(b, id);
    waiting(a).until(page -> page.findElement(By.id("presence")).getText().contains("ben"));
    waiting(b).until(page -> page.findElement(By.id("presence")).getText().contains("ann"));

    // A third member comes online on the other node: past PRESENCE_MAX_LISTED the room sends a count, not names,
    // and the page adds it to the names it has; once she is gone the room is named in full again.
    Session cara = api.register("cara");
    assertEquals(201, api.post("/api/conversations/" + id + "/members", ann.token(),
      new JsonObject().put("userId", cara.userId())).status());
    try (Ws third = Ws.open(ports.get("node-b"), cara.token())) {
      third.join(id);
      for (ChromeDriver browser : List.of(a, b)) {
        waiting(browser).until(page -> page.findElement(By.id("presence")).getText().equals("Online: ann, ben and 1 other"));
      }
    }
    for (ChromeDriver browser : List.of(a, b)) {
      waiting(browser).until(page -> page.findElement(By.id("presence")).getText().equals("Online: ann, ben"));
    }

    a.findElement(By.id("text")).sendKeys("Hel");
    waiting(b).until(page -> page.findElement(By.id("typing")).getText().contains("ann is typing"));
    a.findElement(By.id("text")).sendKeys("lo Ben", Keys.ENTER);
    awaitText(b, "Hello Ben");
    waiting(a).until(page -> page.findElements(By.cssSelector("#messages li.pending")).isEmpty());
    awaitText(a, "Hello Ben");

    String img = "<img src=x onerror=\"window.pwned=1\">";
    String script = "<script>window.pwned=2</script>";
    say(a, img);
    say(a, script);
    awaitText(b, script);
    assertTrue(texts(b).contains(img), "markup shows as text: " + texts(b));
    for (ChromeDriver browser : List.of(a, b)) {
      assertNull(((JavascriptExecutor) browser).executeScript("return window.pwned === undefined ? null : window.pwned"),
        "no message ran as HTML");
    }

    // Ann deletes her first message: Ben sees it go.
    click(a, By.xpath("//li[@data-seq][.//div[@class='text' and text()='Hello Ben']]//button[text()='Delete']"));
    a.switchTo().alert().accept();
    waiting(b).until(page -> texts(b).contains("message deleted"));

    say(b, "@assistant when do owls hunt?");
    for (ChromeDriver browser : List.of(a, b)) {
      waiting(browser).until(page -> text(browser, "#messages li.assistant[data-seq] .text") != null);
      String answer = text(browser, "#messages li.assistant[data-seq] .text");
      assertTrue(answer.contains("night"), answer);
      assertTrue(text(browser, "#messages li.assistant[data-seq] .sources").contains("owls.txt"));
      Number pieces = (Number) ((JavascriptExecutor) browser).executeScript("return window.parley.chunks");
      assertTrue(pieces.intValue() > 1, "the answer was watched as it was written: " + pieces + " pieces");
    }
    Browser.screenshot(a, "chat-ann");
    Browser.screenshot(b, "chat-ben");
    // At phone width the room takes the whole screen, with a way back to the list.
    b.manage().window().setSize(new org.openqa.selenium.Dimension(390, 844));
    assertTrue(b.findElement(By.id("back")).isDisplayed());
    assertFalse(b.findElement(By.id("conversations")).isDisplayed());
    Browser.screenshot(b, "chat-ben-phone");
  }

  @Test
  @Order(2)
  void roomsInvitationsUnreadCountsEditsUploadsAndHistory() throws Exception {
    Session eva = api.register("eva");
    Session fin = api.register("fin");
    String own = api.conversation(fin, "Fin's notes");
    ChromeDriver a = signedIn(eva);
    a.findElement(By.id("new-room")).click();
    a.switchTo().alert().sendKeys("Book club");
    a.switchTo().alert().accept();
    waiting(a).until(page -> page.findElement(By.id("room-title")).getText().equals("Book club"));
    a.findElement(By.id("invite-email")).sendKeys(fin.email(), Keys.ENTER);
    String book = (String) ((JavascriptExecutor) a).executeScript("return window.parley.current");
    waiting(a).until(page -> api.get("/api/conversations/" + book + "/members", eva.token()).json()
      .getJsonArray("members").size() == 2);

    ChromeDriver b = signedIn(fin);
    open(b, own);
    say(a, "first chapter");
    say(a, "second chapter");
    waiting(b).until(page -> "2".equals(text(b, "button[data-room='" + book + "'] .unread")));
    open(b, book);
    waiting(b).until(page -> page.findElements(By.cssSelector("button[data-room='" + book + "'] .unread")).isEmpty());
    awaitText(b, "second chapter");

    b.findElement(By.id("text")).sendKeys("line one", Keys.chord(Keys.SHIFT, Keys.ENTER), "line two", Keys.ENTER);
    awaitText(a, "line one\nline two");
    click(b, By.xpath("//li[@data-seq][.//div[@class='text' and contains(text(),'line two')]]//button[text()='Edit']"));
    b.switchTo().alert().sendKeys("line one, edited");
    b.switchTo().alert().accept();
    awaitText(a, "line one, edited");

    java.nio.file.Path file = TestServices.tempDir("upload").resolve("chapters.md");
    java.nio.file.Files.writeString(file, "# Chapters\n\nThe book has twelve chapters about the sea.");
    a.findElement(By.id("upload-file")).sendKeys(file.toString());
    a.findElement(By.cssSelector("#upload-form button")).click();
    waiting(a).until(page -> page.findElement(By.id("upload-status")).getText().contains("passages"));

    // A long history: the newest page first, older pages as one scrolls up.
    String history = api.conversation(eva, "Archive");
    for (int i = 1; i <= 70; i++) {
      api.say(eva, history, "archived " + i);
    }
    a.navigate().refresh();
    open(a, history);
    waiting(a).until(page -> texts(a).contains("archived 70"));
    assertEquals(50, texts(a).size());
    ((JavascriptExecutor) a).executeScript("document.getElementById('messages').scrollTop = 0");
    waiting(a).until(page -> texts(a).contains("archived 1"));
    assertEquals(70, texts(a).size());
    Browser.screenshot(a, "features-eva");
    Browser.screenshot(b, "features-fin");
  }

  @Test
  @Order(3)
  void aPageWhoseNodeDiesReconnectsThroughTheProxyAndShowsEveryMessageOnce() throws Exception {
    Session cy = api.register("cy");
    Session dee = api.register("dee");
    String id = room(cy, dee);
    ChromeDriver a = signedIn(cy);
    ChromeDriver b = signedIn(dee);
    open(a, id);
    open(b, id);
    say(a, "before the crash");
    awaitText(b, "before the crash");

    String serving = a.findElement(By.id("connection")).getAttribute("data-node");
    assertTrue(nodes.containsKey(serving), "the page names its node: " + serving);
    nodes.get(serving).kill9();
    proxy.markDown(ports.get(serving));
    waiting(a).until(page -> !page.findElement(By.id("connection")).getAttribute("class").contains("online"));
    say(a, "written while offline");
    waiting(a).until(page -> page.findElement(By.id("connection")).getAttribute("class").contains("online"));
    String now = a.findElement(By.id("connection")).getAttribute("data-node");
    assertFalse(serving.equals(now), "reconnected to the other node");
    // Dee's page may have been on the dead node too: it comes back to the survivor as well.
    waiting(b).until(page -> now.equals(page.findElement(By.id("connection")).getAttribute("data-node")));
    say(b, "after the crash");

    for (ChromeDriver browser : List.of(a, b)) {
      awaitText(browser, "written while offline");
      awaitText(browser, "after the crash");
      waiting(browser).until(page -> page.findElements(By.cssSelector("#messages li.pending")).isEmpty());
      List<String> texts = texts(browser);
      for (String text : List.of("before the crash", "written while offline", "after the crash")) {
        assertEquals(1, texts.stream().filter(text::equals).count(), text + " exactly once: " + texts);
      }
    }
    try (Api survivor = new Api(ports.get(now))) {
      assertEquals(3, survivor.get("/api/conversations/" + id + "/messages", cy.token()).json().getJsonArray("messages")
        .size(), "stored once each");
    }
    Browser.screenshot(a, "reconnected-cy");
    Browser.screenshot(b, "reconnected-dee");
  }
}
