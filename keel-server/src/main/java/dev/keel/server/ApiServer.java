package dev.keel.server;

import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.server.auth.ApiKey;
import dev.keel.server.auth.ApiKeys;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Scope;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API of Keel v1 on Javalin with virtual threads. Every route is declared once in the
 * route table, which drives the router, the authorization checks and {@code /openapi.json}.
 *
 * <p>Implementation notes. Each request passes, in order: key check (401), scope check (403), rate
 * limits (429), the bounded body read (413), the {@code Idempotency-Key} cache, then the route.
 * Every failure is an {@link ApiException} rendered as problem+json; anything else is a bug, logged
 * and answered as a 500 problem without internals. A resource of another tenant is a 404.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  static final Reply STREAMED = new Reply(0, JsonValue.NULL);
  private static final String HANDLED = "keel.handled";

  /** Longer than the longest {@code /wait} (300 s), so a waiting client is never cut off. */
  private static final java.time.Duration IDLE_TIMEOUT = java.time.Duration.ofSeconds(330);

  /** Answers a route. */
  @FunctionalInterface
  interface Handler {
    /** The reply to {@code call}. */
    Reply handle(Call call) throws Exception;
  }

  /**
   * One route.
   *
   * @param method HTTP method
   * @param path path with {@code {param}} placeholders
   * @param scope the scope needed, or empty for a public route
   * @param summary what it does, for the OpenAPI document
   * @param handler the handler
   */
  record Route(
      String method, String path, Optional<Scope> scope, String summary, Handler handler) {}

  /** Whether the system of record is usable: empty when ready, or what is wrong. */
  @FunctionalInterface
  public interface Readiness {
    /** Empty when ready, otherwise why not. */
    Optional<String> problem();
  }

  private final Engine engine;
  private final ApiKeys keys;
  private final ServerConfig cfg;
  private final Readiness readiness;
  private final Metrics metrics = new Metrics();
  private final RateLimiter limiter;
  private final IdempotencyGate idempotency;
  private final EventStream streams;
  private final Optional<WebhookDispatcher> webhooks;
  private final List<Route> routes;
  private final Javalin app;
  private volatile java.util.function.Supplier<String> moreMetrics = () -> "";
  private volatile RequestMeter meter = metrics::record;

  /** A server for {@code engine}'s store and catalogs, authenticating with {@code keys}. */
  public ApiServer(Engine engine, ApiKeys keys, ServerConfig cfg, Readiness readiness) {
    this(engine, keys, cfg, readiness, ServerServices.inMemory(), ApprovalReview.NONE);
  }

  /** A server that keeps idempotency answers and lists runs through {@code services}. */
  public ApiServer(
      Engine engine, ApiKeys keys, ServerConfig cfg, Readiness readiness, ServerServices services) {
    this(engine, keys, cfg, readiness, services, ApprovalReview.NONE);
  }

  /**
   * A server that keeps idempotency answers and lists runs through {@code services}, and whose
   * approval decisions are checked by {@code review} before the store sees them.
   */
  public ApiServer(
      Engine engine,
      ApiKeys keys,
      ServerConfig cfg,
      Readiness readiness,
      ServerServices services,
      ApprovalReview review) {
    this.engine = engine;
    this.keys = keys;
    this.cfg = cfg;
    this.readiness = readiness;
    this.limiter = new RateLimiter(cfg, System::nanoTime);
    this.idempotency =
        new IdempotencyGate(services.idempotency(), java.time.InstantSource.system());
    this.streams = new EventStream(engine.store(), cfg, metrics);
    this.webhooks =
        services
            .webhooks()
            .map(
                w ->
                    new WebhookDispatcher(
                        engine.store(),
                        w,
                        services.policy(),
                        java.time.InstantSource.system(),
                        java.time.Duration.ofMillis(100)));
    RunRoutes runs = new RunRoutes(engine, new Runs(engine), streams, services);
    CatalogRoutes catalog = new CatalogRoutes(engine, runs, review);
    this.routes = table(runs, catalog);
    this.app = Javalin.create(this::configure);
  }

  private List<Route> table(RunRoutes r, CatalogRoutes c) {
    Optional<Scope> read = Optional.of(Scope.READ);
    Optional<Scope> write = Optional.of(Scope.RUNS_WRITE);
    Optional<Scope> decide = Optional.of(Scope.APPROVALS_DECIDE);
    Optional<Scope> open = Optional.empty();
    List<Route> t = new ArrayList<>();
    t.add(
        new Route("POST", "/v1/runs", write, "Create a run; it runs in the background", r::create));
    t.add(
        new Route(
            "GET",
            "/v1/runs",
            read,
            "List runs (status, agent, thread_id, limit, cursor)",
            r::list));
    t.add(new Route("GET", "/v1/runs/{id}", read, "Read a run", r::get));
    t.add(
        new Route(
            "GET",
            "/v1/runs/{id}/events",
            read,
            "A page of events, or SSE with Accept: text/event-stream",
            r::events));
    t.add(
        new Route(
            "POST",
            "/v1/runs/{id}/wait",
            read,
            "Block until the run ends or waits (timeout_s)",
            r::await));
    t.add(new Route("POST", "/v1/runs/{id}/cancel", write, "Cancel a run {reason?}", r::cancel));
    t.add(
        new Route("POST", "/v1/runs/{id}/pause", write, "Pause a run at its next step", r::pause));
    t.add(
        new Route(
            "POST",
            "/v1/runs/{id}/resume",
            write,
            "Resume a paused or waiting run {input?}",
            r::resume));
    t.add(
        new Route(
            "POST", "/v1/runs/{id}/messages", write, "Send a user message {content}", r::message));
    t.add(
        new Route(
            "PUT",
            "/v1/runs/{id}/plan",
            write,
            "Replace the run's plan {steps: [{id, title, status, tool?}]}",
            r::plan));
    t.add(
        new Route(
            "POST",
            "/v1/runs/{id}/fork",
            write,
            "Fork a new run from a checkpoint {checkpoint_step, overrides?}",
            r::fork));
    t.add(
        new Route(
            "GET", "/v1/runs/{id}/checkpoints", read, "List a run's checkpoints", r::checkpoints));
    t.add(new Route("GET", "/v1/approvals", read, "List approvals (status, limit)", c::approvals));
    t.add(new Route("GET", "/v1/approvals/{id}", read, "Read an approval", c::approval));
    t.add(
        new Route(
            "POST",
            "/v1/approvals/{id}/approve",
            decide,
            "Approve {arguments?, comment?}",
            c::approve));
    t.add(new Route("POST", "/v1/approvals/{id}/deny", decide, "Deny {reason}", c::deny));
    t.add(new Route("GET", "/v1/threads/{id}", read, "Read a thread", r::threadGet));
    t.add(new Route("GET", "/v1/threads/{id}/runs", read, "List a thread's runs", r::threadRuns));
    t.add(new Route("GET", "/v1/agents", read, "List agents", c::agents));
    t.add(new Route("GET", "/v1/agents/{name}", read, "Read an agent with its versions", c::agent));
    t.add(new Route("GET", "/v1/tools", read, "List tools", c::tools));
    t.add(
        new Route(
            "GET",
            "/v1/usage",
            read,
            "Usage grouped by tenant, user, agent, model, tool, skill or prompt_version",
            c::usage));
    t.add(
        new Route(
            "GET",
            "/healthz",
            open,
            "The process is alive",
            x -> Reply.ok(JsonValue.object("status", "ok"))));
    t.add(new Route("GET", "/readyz", open, "The store is reachable and migrated", x -> ready()));
    t.add(new Route("GET", "/metrics", read, "Prometheus text metrics", this::metricsText));
    t.add(new Route("GET", "/openapi.json", open, "This document", x -> Reply.ok(openApi())));
    return List.copyOf(t);
  }

  private void configure(io.javalin.config.JavalinConfig c) {
    c.concurrency.useVirtualThreads = true;
    c.jetty.host = cfg.host();
    c.jetty.port = cfg.port();
    c.http.maxRequestSize = cfg.maxBodyBytes();
    c.http.prefer405over404 = true;
    c.startup.showJavalinBanner = false;
    for (Route r : routes) {
      c.routes.addHttpHandler(
          HandlerType.findOrCreate(r.method()), r.path(), ctx -> dispatch(r, ctx));
    }
    c.routes.error(
        404,
        ctx ->
            unmatched(
                ctx,
                404,
                "not_found",
                "no route " + ctx.method() + " " + ctx.path() + "; GET /openapi.json lists them"));
    c.routes.error(
        405,
        ctx ->
            unmatched(
                ctx, 405, "method_not_allowed", ctx.method() + " is not allowed on " + ctx.path()));
    c.routes.exception(
        Exception.class,
        (x, ctx) -> {
          LOG.error("unexpected error on {} {}", ctx.method(), ctx.path(), x);
          problem(
              ctx,
              new ApiException(
                  500,
                  "internal",
                  "Internal error",
                  "an unexpected error occurred; the server log has details"));
        });
  }

  private void unmatched(Context ctx, int status, String code, String detail) {
    if (ctx.attribute(HANDLED) != null) {
      return;
    }
    problem(
        ctx,
        new ApiException(status, code, status == 404 ? "Not found" : "Method not allowed", detail));
  }

  private void dispatch(Route route, Context ctx) {
    ctx.attribute(HANDLED, true);
    long start = System.nanoTime();
    int status = 500;
    String requestId = requestId(ctx.header("X-Request-Id"));
    ctx.header("X-Request-Id", requestId);
    org.slf4j.MDC.put("request_id", requestId);
    // The key's tenant for every store call of this request: the second wall (decision 0043).
    dev.keel.store.TenantScope.Entered tenantScope = null;
    try {
      Optional<ApiKey> key = Optional.empty();
      if (route.scope().isPresent()) {
        ApiKey k = authenticate(ctx);
        if (!k.permits(route.scope().get())) {
          throw new ApiException(
              403,
              "forbidden",
              "Forbidden",
              "API key "
                  + k.id()
                  + " (role "
                  + k.role().wire()
                  + ") lacks scope "
                  + route.scope().get().wire()
                  + " needed for "
                  + route.method()
                  + " "
                  + route.path());
        }
        org.slf4j.MDC.put("tenant", k.tenant());
        limiter.charge(k.id(), k.tenant());
        key = Optional.of(k);
        tenantScope = dev.keel.store.TenantScope.enter(k.tenant());
      }
      byte[] body = new byte[0];
      if (route.method().equals("POST") || route.method().equals("PUT")) {
        body =
            RequestBody.read(
                ctx.req().getInputStream(), ctx.req().getContentLengthLong(), cfg.maxBodyBytes());
      }
      Call call = new Call(ctx, key, body, cfg.json());
      String idemKey = ctx.header("Idempotency-Key");
      Reply reply;
      if (route.method().equals("POST") && idemKey != null && key.isPresent()) {
        reply =
            idempotency.run(
                key.get().tenant(),
                route.method() + " " + ctx.path(),
                idemKey,
                bodyHash(call, body),
                () -> route.handler().handle(call));
      } else {
        reply = route.handler().handle(call);
      }
      if (reply.status() == STREAMED.status()) {
        status = 200;
        return;
      }
      status = reply.status();
      if (reply.body() instanceof JsonObject o && o.get("type").isPresent() && status >= 400) {
        ctx.status(status)
            .contentType("application/problem+json")
            .result(engine.redaction().redactValues(o).toString());
      } else if (route.path().equals("/metrics")) {
        ctx.status(status)
            .contentType("text/plain; version=0.0.4; charset=utf-8")
            .result(((JsonValue.JsonString) reply.body()).value());
      } else {
        ctx.status(status).contentType("application/json").result(reply.body().toString());
      }
    } catch (ApiException x) {
      status = x.status();
      problem(ctx, x);
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      status = 503;
      problem(
          ctx,
          new ApiException(
              503, "shutting_down", "Shutting down", "the server is shutting down; retry"));
    } catch (IllegalArgumentException x) {
      status = 400;
      problem(
          ctx,
          new ApiException(
              400,
              "invalid_argument",
              "Invalid request",
              x.getMessage() == null ? "invalid request" : x.getMessage()));
    } catch (Exception x) {
      LOG.error("unexpected error on {} {}", ctx.method(), ctx.path(), x);
      status = 500;
      problem(
          ctx,
          new ApiException(
              500,
              "internal",
              "Internal error",
              "an unexpected error occurred; the server log has details"));
    } finally {
      if (tenantScope != null) {
        tenantScope.close();
      }
      meter.answered(route.method(), route.path(), status, System.nanoTime() - start);
      org.slf4j.MDC.remove("request_id");
      org.slf4j.MDC.remove("tenant");
    }
  }

  /** The caller's request id if it is a sane token, otherwise a new one. */
  private static String requestId(@org.jspecify.annotations.Nullable String given) {
    if (given != null && given.matches("[A-Za-z0-9._:-]{1,64}")) {
      return given;
    }
    return "req_" + java.util.UUID.randomUUID().toString().replace("-", "");
  }

  /**
   * Adds more Prometheus text (the engine's metrics registry) after the server's own on {@code
   * /metrics}; returns this server.
   */
  public ApiServer withMetrics(java.util.function.Supplier<String> more) {
    this.moreMetrics = more;
    return this;
  }

  /**
   * Sends every answered request to {@code m} instead of the server's own counters, and leaves the
   * HTTP, event-stream and run-count lines of {@code /metrics} to the registry behind {@code m}
   * (which {@link #withMetrics} renders; see {@link #openStreams}); returns this server.
   */
  public ApiServer withRequestMeter(RequestMeter m) {
    this.meter = java.util.Objects.requireNonNull(m, "m");
    metrics.renderOwn = false;
    return this;
  }

  private static String bodyHash(Call call, byte[] body) {
    try {
      return KeyTokens.sha256(call.json().toString());
    } catch (ApiException x) {
      return KeyTokens.sha256(new String(body, StandardCharsets.ISO_8859_1));
    }
  }

  private ApiKey authenticate(Context ctx) {
    String auth = ctx.header("Authorization");
    if (auth == null || auth.isBlank()) {
      throw unauthorized("no API key: send Authorization: Bearer <key>");
    }
    if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw unauthorized("the Authorization header must be 'Bearer <key>'");
    }
    return KeyTokens.authenticate(keys, auth.substring(7).strip())
        .orElseThrow(
            () -> unauthorized("the API key is not valid; create one with 'keel keys create'"));
  }

  private static ApiException unauthorized(String detail) {
    return new ApiException(401, "unauthenticated", "Unauthenticated", detail)
        .withHeader("WWW-Authenticate", "Bearer realm=\"keel\"");
  }

  private void problem(Context ctx, ApiException x) {
    x.headers().forEach(ctx::header);
    ctx.status(x.status())
        .contentType("application/problem+json")
        .result(engine.redaction().redactValues(x.problem(Optional.of(ctx.path()))).toString());
  }

  private Reply ready() {
    Optional<String> p;
    try {
      p = readiness.problem();
    } catch (RuntimeException x) {
      p = Optional.of("the store is unreachable: " + x.getMessage());
    }
    if (p.isPresent()) {
      throw new ApiException(503, "not_ready", "Not ready", p.get());
    }
    return Reply.ok(JsonValue.object("status", "ready"));
  }

  private Reply metricsText(Call c) {
    return Reply.ok(JsonValue.of(metrics.render(engine.store()) + moreMetrics.get()));
  }

  /** The OpenAPI 3.1 document of every route. */
  JsonObject openApi() {
    Map<String, Map<String, Object>> paths = new LinkedHashMap<>();
    for (Route r : routes) {
      Map<String, Object> op = new LinkedHashMap<>();
      op.put("summary", r.summary());
      op.put(
          "operationId",
          r.method().toLowerCase(java.util.Locale.ROOT)
              + r.path().replaceAll("[^A-Za-z0-9]+", "_"));
      List<Object> params = new ArrayList<>();
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("\\{([a-z_]+)}").matcher(r.path());
      while (m.find()) {
        params.add(
            JsonValue.object(
                "name",
                m.group(1),
                "in",
                "path",
                "required",
                true,
                "schema",
                JsonValue.object("type", "string")));
      }
      op.put("parameters", params);
      op.put(
          "security",
          r.scope().isPresent() ? List.of(JsonValue.object("bearer", List.of())) : List.of());
      op.put("x-keel-scope", r.scope().map(Scope::wire).orElse("public"));
      op.put(
          "responses",
          JsonValue.object(
              "200", JsonValue.object("description", "OK"),
              "default",
                  JsonValue.object(
                      "description",
                      "RFC 9457 problem",
                      "content",
                      JsonValue.object(
                          "application/problem+json",
                          JsonValue.object(
                              "schema",
                              JsonValue.object("$ref", "#/components/schemas/Problem"))))));
      paths
          .computeIfAbsent(r.path(), k -> new LinkedHashMap<>())
          .put(r.method().toLowerCase(java.util.Locale.ROOT), op);
    }
    return JsonValue.object(
        "openapi",
        "3.1.0",
        "info",
        JsonValue.object("title", "Keel API", "version", "1"),
        "paths",
        paths,
        "components",
        JsonValue.object(
            "securitySchemes",
                JsonValue.object("bearer", JsonValue.object("type", "http", "scheme", "bearer")),
            "schemas",
                JsonValue.object(
                    "Problem",
                    JsonValue.object(
                        "type", "object",
                        "required", List.of("type", "title", "status", "detail", "code"),
                        "properties",
                            JsonValue.object(
                                "type", JsonValue.object("type", "string"),
                                "title", JsonValue.object("type", "string"),
                                "status", JsonValue.object("type", "integer"),
                                "detail", JsonValue.object("type", "string"),
                                "code", JsonValue.object("type", "string"),
                                "errors", JsonValue.object("type", "array"))))));
  }

  /** Every declared route as {@code "METHOD /path"}, in declaration order. */
  public List<String> declaredRoutes() {
    return routes.stream().map(r -> r.method() + " " + r.path()).toList();
  }

  /** Every route Javalin actually registered, as {@code "METHOD /path"}. */
  public List<String> registeredRoutes() {
    return app.unsafe.internalRouter.allHttpHandlers().stream()
        .filter(p -> p.endpoint.method.isHttpMethod())
        .map(p -> p.endpoint.method.name() + " " + p.endpoint.path)
        .toList();
  }

  /** Starts listening; returns this. */
  public ApiServer start() {
    app.start();
    webhooks.ifPresent(WebhookDispatcher::start);
    for (org.eclipse.jetty.server.Connector c : app.jettyServer().server().getConnectors()) {
      if (c instanceof org.eclipse.jetty.server.AbstractConnector a) {
        a.setIdleTimeout(IDLE_TIMEOUT.toMillis());
      }
    }
    return this;
  }

  /** The port listened on. */
  public int port() {
    return app.port();
  }

  /** Event streams open now. */
  public int openStreams() {
    return streams.open();
  }

  /** Ends event streams with a final {@code server.closing} event, then stops the server. */
  @Override
  public void close() {
    streams.close();
    long deadline = System.nanoTime() + 2_000_000_000L;
    while (streams.open() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    app.stop();
    webhooks.ifPresent(WebhookDispatcher::close);
  }
}
