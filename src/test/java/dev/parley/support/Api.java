package dev.parley.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.UUID;

/** A blocking HTTP client for one node, for tests that read like a conversation with the API. */
public final class Api implements AutoCloseable {

  /** A response: status, body as JSON (null when empty or not JSON), and the raw body. */
  public record Reply(int status, JsonObject json, String text, io.vertx.core.MultiMap headers) {

    public String errorCode() {
      return json == null || json.getJsonObject("error") == null ? null : json.getJsonObject("error").getString("code");
    }

    public String errorMessage() {
      return json.getJsonObject("error").getString("message");
    }
  }

  /** A registered user and its token. */
  public record Session(String token, String userId, String email) {
  }

  private final Vertx vertx;
  private final WebClient client;

  public Api(int port) {
    this.vertx = Vertx.vertx();
    this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
  }

  public Reply get(String path, String token) {
    return send(HttpMethod.GET, path, token, null);
  }

  public Reply post(String path, String token, JsonObject body) {
    return send(HttpMethod.POST, path, token, body == null ? null : body.toBuffer());
  }

  public Reply patch(String path, String token, JsonObject body) {
    return send(HttpMethod.PATCH, path, token, body.toBuffer());
  }

  public Reply delete(String path, String token) {
    return send(HttpMethod.DELETE, path, token, null);
  }

  /** Sends any bytes, with any Authorization header value (null for none). */
  public Reply raw(HttpMethod method, String path, String authorization, Buffer body) {
    return raw(method, path, authorization, body, io.vertx.core.MultiMap.caseInsensitiveMultiMap());
  }

  /** Sends any bytes with extra headers. */
  public Reply raw(HttpMethod method, String path, String authorization, Buffer body, io.vertx.core.MultiMap headers) {
    // No test waits forever for an answer: a hang is a failure with a stack trace.
    HttpRequest<Buffer> request = client.request(method, path).putHeaders(headers).timeout(30_000);
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    if (body != null && !headers.contains("Content-Type")) {
      request.putHeader("Content-Type", "application/json");
    }
    HttpResponse<Buffer> response = (body == null ? request.send() : request.sendBuffer(body)).await();
    String text = response.bodyAsString();
    JsonObject json = null;
    try {
      json = text == null || text.isEmpty() ? null : new JsonObject(text);
    } catch (RuntimeException notJson) {
      // left null: the test looks at text
    }
    return new Reply(response.statusCode(), json, text, response.headers());
  }

  /** A multipart upload: one file as the field {@code file}, and form attributes. */
  public Reply upload(String path, String token, String filename, byte[] content, java.util.Map<String, String> fields) {
    io.vertx.ext.web.multipart.MultipartForm form = io.vertx.ext.web.multipart.MultipartForm.create()
      .binaryFileUpload("file", filename, Buffer.buffer(content), "application/octet-stream");
    fields.forEach(form::attribute);
    HttpRequest<Buffer> request = client.post(path).timeout(30_000);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    HttpResponse<Buffer> response = request.sendMultipartForm(form).await();
    String text = response.bodyAsString();
    JsonObject json = null;
    try {
      json = text == null || text.isEmpty() ? null : new JsonObject(text);
    } catch (RuntimeException notJson) {
      // left null: the test looks at text
    }
    return new Reply(response.statusCode(), json, text, response.headers());
  }

  public Session register(String name) {
    String email = name + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.org";
    Reply reply = post("/api/auth/register", null,
      new JsonObject().put("email", email).put("password", "correct horse battery").put("displayName", name));
    if (reply.status() != 201) {
      throw new AssertionError("register failed: " + reply);
    }
    return new Session(reply.json().getString("token"), reply.json().getJsonObject("user").getString("id"), email);
  }

  /** Creates a conversation owned by {@code owner} and returns its id. */
  public String conversation(Session owner, String title) {
    Reply reply = post("/api/conversations", owner.token(), new JsonObject().put("title", title));
    if (reply.status() != 201) {
      throw new AssertionError("create conversation failed: " + reply);
    }
    return reply.json().getString("id");
  }

  public Reply say(Session sender, String conversationId, String content) {
    return post("/api/conversations/" + conversationId + "/messages", sender.token(),
      new JsonObject().put("content", content));
  }

  private Reply send(HttpMethod method, String path, String token, Buffer body) {
    return raw(method, path, token == null ? null : "Bearer " + token, body);
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
