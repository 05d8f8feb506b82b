package dev.parley.assistant;

import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import dev.parley.config.ParleyConfig;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider behind a vendor's streaming HTTP API, and behind a circuit breaker: after
 * {@code ASSISTANT_BREAKER_FAILURES} failures in a row it opens and answers fail at once, without a request;
 * after {@code ASSISTANT_BREAKER_RESET_MS} one request probes (half-open) and its outcome closes or reopens it.
 * State changes are logged. It uses Vert.x's HTTP client itself, not the WebClient: the answer is read as it
 * streams, and a stop resets the request, so the vendor stops writing (and billing) at once.
 */
abstract class HttpProvider implements Provider {

  private static final Logger LOG = LoggerFactory.getLogger(HttpProvider.class);
  private static final int MAX_CONNECTIONS = 256;
  private static final long FAILURE_WINDOW_MS = 10 * 60_000;

  /** Receives what the vendor streams: text, the model's name, token counts, or a failure. */
  interface Sink {
    void text(String piece);

    void model(String model);

    void inputTokens(long tokens);

    void outputTokens(long tokens);

    /** The answer is complete (the vendor said so). */
    void done();

    void fail(String reason);
  }

  protected final Vertx vertx;
  /** The model asked for ({@code CHAT_MODEL}, else the provider's default), and the most it may write. */
  protected final String model;
  protected final int maxTokens;
  private final HttpClient client;
  private final CircuitBreaker breaker;
  private final String name;

  HttpProvider(Vertx vertx, String name, ParleyConfig.Assistant settings, String defaultModel) {
    this.vertx = vertx;
    this.name = name;
    this.model = settings.chatModel() == null ? defaultModel : settings.chatModel();
    this.maxTokens = settings.maxTokens();
    int maxFailures = settings.breakerFailures();
    long resetTimeoutMs = settings.breakerResetMs();
    // Each answer holds a connection while it streams: room for many at once, not the default five.
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(10_000).setKeepAlive(true),
      new io.vertx.core.http.PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS));
    this.breaker = CircuitBreaker.create("assistant-" + name, vertx, new CircuitBreakerOptions()
        .setMaxFailures(maxFailures)
        // The answer's own deadline (ASSISTANT_TIMEOUT_MS) cancels a hung request and reports it as a failure.
        .setTimeout(-1)
        // Failures are counted over ten minutes, not the default ten seconds: a provider that hangs for the
        // answer timeout each time must still open the breaker.
        .setFailuresRollingWindow(FAILURE_WINDOW_MS)
        .setResetTimeout(resetTimeoutMs))
      .openHandler(v -> LOG.warn("provider {}: circuit breaker open after {} failures; failing fast for {} ms",
        name, maxFailures, resetTimeoutMs))
      .halfOpenHandler(v -> LOG.info("provider {}: circuit breaker half-open, probing", name))
      .closeHandler(v -> LOG.info("provider {}: circuit breaker closed", name));
  }

  @Override
  public String name() {
    return name;
  }

  /** {@code closed}, {@code open} or {@code half_open}. */
  String breakerState() {
    return breaker.state().name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The request to send: URL, headers (Content-Type is set), JSON body. */
  protected abstract RequestOptions request(Prompt prompt);

  protected abstract JsonObject body(Prompt prompt);

  /** One SSE event of the vendor's stream, its data parsed: the event name is null where the stream gives none. */
  protected abstract void event(String event, JsonObject data, Sink sink);

  /** {@code [DONE]} ends a stream (OpenAI's and the RAG contract's); every other event is JSON. */
  private void received(String event, String data, Sink sink) {
    if ("[DONE]".equals(data.strip())) {
      sink.done();
      return;
    }
    JsonObject json;
    try {
      json = new JsonObject(data);
    } catch (io.vertx.core.json.DecodeException e) {
      sink.fail("sent an event that is not JSON");
      return;
    }
    event(event, json, sink);
  }

  @Override
  public Generation generate(Prompt prompt, Handler<String> onChunk) {
    Call call = new Call(prompt, onChunk);
    Future<Completion> done = breaker.<Completion>execute(call::start)
      .recover(failure -> Future.failedFuture(failure instanceof OpenCircuitException
        ? new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the assistant's provider is failing; "
          + "it is tried again shortly")
        : failure instanceof ParleyException ? failure
        : new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the assistant's provider failed")));
    return new Generation() {
      @Override
      public Future<Completion> done() {
        return done;
      }

      @Override
      public void cancel(boolean failed) {
        call.cancel(failed);
      }
    };
  }

  /** One streaming request: what it wrote so far, and how to end it. */
  private final class Call implements Sink {
    private final Prompt prompt;
    private final Handler<String> onChunk;
    private final StringBuilder text = new StringBuilder();
    private Promise<Completion> result;
    private HttpClientRequest request;
    private String model = name;
    private long inputTokens = -1;
    private long outputTokens = -1;
    private boolean cancelled;

    Call(Prompt prompt, Handler<String> onChunk) {
      this.prompt = prompt;
      this.onChunk = onChunk;
    }

    void start(Promise<Completion> promise) {
      result = promise;
      RequestOptions options = request(prompt).setMethod(HttpMethod.POST)
        .putHeader("Content-Type", "application/json").putHeader("Accept", "text/event-stream");
      client.request(options)
        .compose(sent -> {
          request = sent;
          if (cancelled) {
            sent.reset();
          }
          return sent.send(body(prompt).toBuffer());
        })
        .onSuccess(response -> {
          if (response.statusCode() != 200) {
            response.body().onComplete(body -> fail("answered HTTP " + response.statusCode()
              + (body.succeeded() ? ": " + excerpt(body.result().toString()) : "")));
            return;
          }
          SseParser parser = new SseParser((event, data) -> {
            if (!result.future().isComplete()) {
              received(event, data, this);
            }
          });
          response.handler(parser::feed);
          response.exceptionHandler(failure -> fail("stream broke: " + failure.getMessage()));
          response.endHandler(v -> {
            parser.end();
            fail("stream ended before the answer was complete");
          });
        })
        .onFailure(failure -> fail(cancelled ? "cancelled" : "unreachable: " + failure.getMessage()));
    }

    void cancel(boolean failed) {
      cancelled = true;
      if (request != null) {
        request.reset();
      }
      if (result != null) {
        // A stop after text arrived proves the provider works; one before, or a timeout, proves nothing good.
        if (failed || text.length() == 0) {
          result.tryFail(new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, failed
            ? "the assistant's provider timed out" : "stopped before the provider wrote anything"));
        } else {
          result.tryComplete(completion());
        }
      }
    }

    @Override
    public void text(String piece) {
      if (!cancelled && piece != null && !piece.isEmpty()) {
        text.append(piece);
        onChunk.handle(piece);
      }
    }

    @Override
    public void model(String model) {
      if (model != null && !model.isBlank()) {
        this.model = model;
      }
    }

    @Override
    public void inputTokens(long tokens) {
      inputTokens = tokens;
    }

    @Override
    public void outputTokens(long tokens) {
      outputTokens = tokens;
    }

    @Override
    public void done() {
      if (text.toString().isBlank()) {
        fail("finished without writing any text");
      } else {
        result.tryComplete(completion());
      }
    }

    @Override
    public void fail(String reason) {
      if (result != null && !result.future().isComplete()) {
        LOG.warn("provider {}: {}", name, reason);
        result.tryFail(new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the assistant's provider failed"));
      }
    }

    private Completion completion() {
      String answer = text.toString();
      return new Completion(answer, model,
        inputTokens >= 0 ? inputTokens : Tokens.estimate(PromptBuilder.system(prompt)) + Tokens.estimate(prompt.question()),
        outputTokens >= 0 ? outputTokens : Tokens.estimate(answer));
    }
  }

  private static String excerpt(String body) {
    String flat = body.replaceAll("\\s+", " ").strip();
    return flat.length() > 300 ? flat.substring(0, 300) + "…" : flat;
  }

  /** Builds request options from an absolute URL and headers. */
  protected static RequestOptions post(String url, MultiMap headers) {
    RequestOptions options = new RequestOptions().setAbsoluteURI(url);
    headers.forEach(options::putHeader);
    return options;
  }
}
