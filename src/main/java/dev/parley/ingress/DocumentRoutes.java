package dev.parley.ingress;

import dev.parley.bus.Document;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.Json;
import dev.parley.bus.ParleyException;
import dev.parley.bus.Passage;
import dev.parley.bus.StoreApi;
import dev.parley.bus.StoreClient;
import dev.parley.config.ParleyConfig;
import dev.parley.knowledge.Chunker;
import dev.parley.knowledge.Extractor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The knowledge base over HTTP: upload (multipart), list, read, delete, and search as the assistant would. Text
 * extraction and chunking run on a worker thread; the upload's temporary file is deleted when the request ends.
 */
final class DocumentRoutes {

  private static final String BASE = "/api/documents";
  private static final String FILE = "file";
  private static final int MAX_TITLE = 200;
  private static final int MAX_QUERY = 1000;

  private final Vertx vertx;
  private final StoreClient store;
  private final ParleyConfig.Knowledge settings;
  private final Path uploads;
  private final Auditor audit;

  DocumentRoutes(Vertx vertx, StoreClient store, ParleyConfig config, Auditor audit) {
    this.audit = audit;
    this.vertx = vertx;
    this.store = store;
    this.settings = config.knowledge();
    this.uploads = config.dataDir().resolve("uploads");
  }

  /**
   * Mount before the API's own body handler: uploads get one of their own, with files and a larger limit, and
   * only once the caller is authenticated, so nobody anonymous writes to the disk.
   */
  void mountBodyHandler(Router router, Authenticator authenticated) {
    // Paused while the token is checked: the body handler resumes it, and no byte of the body is lost meanwhile.
    router.post(BASE).handler(ctx -> {
      ctx.request().pause();
      ctx.next();
    }).handler(authenticated);
    router.post(BASE).handler(BodyHandler.create(uploads.toString())
      .setBodyLimit(settings.maxDocumentBytes() + 64 * 1024)
      .setDeleteUploadedFilesOnEnd(true));
  }

  void mount(Router router, Authenticator authenticated) {
    router.post(BASE).handler(this::upload);
    router.get(BASE).handler(authenticated).handler(this::list);
    router.get(BASE + "/search").handler(authenticated).handler(this::search);
    router.get(BASE + "/:" + StoreApi.DOCUMENT_ID).handler(authenticated).handler(this::get);
    router.delete(BASE + "/:" + StoreApi.DOCUMENT_ID).handler(authenticated).handler(this::delete);
  }

  /**
   * {@code multipart/form-data}: {@code file}, and optionally {@code conversationId} (attach it to one
   * conversation), {@code title} (else the file name), {@code global=true} (admins: for everyone).
   */
  private void upload(RoutingContext ctx) {
    List<FileUpload> files = ctx.fileUploads().stream().filter(upload -> FILE.equals(upload.name())).toList();
    if (files.size() != 1) {
      throw ParleyException.invalid("send exactly one file, as the multipart field '" + FILE + "'");
    }
    FileUpload file = files.get(0);
    if (file.size() > settings.maxDocumentBytes()) {
      throw new ParleyException(ErrorCode.TOO_LARGE, "a document may be at most " + settings.maxDocumentBytes() + " bytes");
    }
    if (file.size() == 0) {
      throw ParleyException.invalid(FILE + " is empty");
    }
    String filename = filename(file.fileName());
    JsonObject form = new JsonObject();
    ctx.request().formAttributes().forEach(entry -> form.put(entry.getKey(), entry.getValue()));
    String conversationId = Inputs.string(form, StoreApi.CONVERSATION_ID, false, 64);
    String title = Inputs.string(form, StoreApi.TITLE, false, MAX_TITLE);
    boolean global = "true".equalsIgnoreCase(form.getString(StoreApi.GLOBAL, "false"));
    String me = Authenticator.user(ctx).id();
    Future<StoreClient.StoredDocument> stored = vertx.fileSystem().readFile(file.uploadedFileName())
      .compose(bytes -> vertx.executeBlocking(() -> Prepared.of(bytes.getBytes(), filename), false))
      .compose(prepared -> store.createDocument(me, conversationId, title == null ? filename : title, filename,
        prepared.contentType(), file.size(), prepared.sha256(), global, prepared.chunks()));
    stored.onComplete(done -> {
      if (done.succeeded()) {
        Document document = done.result().document();
        if (!done.result().duplicate()) {
          audit.record(ctx, Auditor.DOCUMENT_UPLOADED, "document", document.id(), new JsonObject()
            .put("filename", document.filename()).put("conversationId", document.conversationId())
            .put("global", document.global()));
        }
        Responses.json(ctx, done.result().duplicate() ? 200 : 201, document.toJson());
      } else {
        ctx.fail(done.cause());
      }
    });
  }

  /** What an upload becomes before it is stored: its real type, its digest, its chunks. */
  private record Prepared(String contentType, String sha256, List<String> chunks) {

    static Prepared of(byte[] bytes, String filename) {
      Extractor.Extracted extracted = Extractor.extract(bytes, filename);
      List<String> chunks = Chunker.chunks(extracted.units());
      if (chunks.isEmpty()) {
        throw ParleyException.invalid("the file holds no text (a scanned PDF needs OCR before it is uploaded)");
      }
      return new Prepared(extracted.contentType(), sha256(bytes), chunks);
    }

    private static String sha256(byte[] bytes) {
      try {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The name as the client gave it, without any path, and never empty. */
  private static String filename(String given) {
    String name = given == null ? "" : given.replace('\\', '/');
    name = name.substring(name.lastIndexOf('/') + 1).replace("\u0000", "").strip();
    if (name.length() > 255) {
      name = name.substring(name.length() - 255);
    }
    return name.isEmpty() ? "document" : name;
  }

  /** {@code ?conversationId=}: that conversation's documents; without: the caller's library and the global ones. */
  private void list(RoutingContext ctx) {
    String conversationId = ctx.request().getParam(StoreApi.CONVERSATION_ID);
    Responses.reply(ctx, 200, store.documents(Authenticator.user(ctx).id(),
        conversationId == null || conversationId.isEmpty() ? null : conversationId)
      .map(documents -> new JsonObject().put(StoreApi.DOCUMENTS, Json.array(documents, Document::toJson))));
  }

  private void get(RoutingContext ctx) {
    Responses.reply(ctx, 200, store.document(Authenticator.user(ctx).id(), ctx.pathParam(StoreApi.DOCUMENT_ID))
      .map(Document::toJson));
  }

  private void delete(RoutingContext ctx) {
    String id = ctx.pathParam(StoreApi.DOCUMENT_ID);
    Responses.noContent(ctx, store.deleteDocument(Authenticator.user(ctx).id(), id)
      .onSuccess(done -> audit.record(ctx, Auditor.DOCUMENT_DELETED, "document", id, new JsonObject())));
  }

  /** {@code ?q=…&conversationId=…&limit=}: the passages the assistant would retrieve for this user. */
  private void search(RoutingContext ctx) {
    JsonObject query = new JsonObject().put("q", ctx.request().getParam("q"));
    String q = Inputs.string(query, "q", true, MAX_QUERY);
    Long limit = Inputs.queryLong(ctx, StoreApi.LIMIT, 1, 50);
    String conversationId = ctx.request().getParam(StoreApi.CONVERSATION_ID);
    Responses.reply(ctx, 200, store.search(Authenticator.user(ctx).id(),
        conversationId == null || conversationId.isEmpty() ? null : conversationId, q, limit == null ? 8 : limit.intValue())
      .map(passages -> new JsonObject().put(StoreApi.PASSAGES, Json.array(passages, Passage::toJson))));
  }
}
