package dev.keel.models.gateway;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-memory LRU cache of answers to calls declared cacheable.
 *
 * <p>The key is a SHA-256 over the canonical JSON of everything that shapes the answer: tenant,
 * route, requested model, messages, tools, output schema and output limit. Tenants never share
 * entries. An entry is fresh for {@code freshFor}; after that it may still serve, marked degraded,
 * as the cached tier of a chain whose live tiers all failed, until {@code staleFor} has passed.
 */
public final class ResponseCache {

  /** A cached answer and when it was stored. */
  public record Entry(ModelResponse response, String servedBy, Instant storedAt) {}

  private final int maxEntries;
  private final Duration freshFor;
  private final Duration staleFor;
  private final InstantSource clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  /** Creates a cache of at most {@code maxEntries}. */
  public ResponseCache(int maxEntries, Duration freshFor, Duration staleFor, InstantSource clock) {
    if (maxEntries < 1 || freshFor.isNegative() || staleFor.compareTo(freshFor) < 0) {
      throw new IllegalArgumentException(
          "response cache needs maxEntries >= 1 and staleFor >= freshFor >= 0");
    }
    this.maxEntries = maxEntries;
    this.freshFor = freshFor;
    this.staleFor = staleFor;
    this.clock = clock;
  }

  /** The cache key of {@code request} for {@code tenant} on {@code route}. */
  public static String key(String tenant, String route, ModelRequest request) {
    JsonValue shape =
        JsonValue.object(
            "tenant",
            tenant,
            "route",
            route,
            "model",
            request.model(),
            "messages",
            new JsonArray(request.messages().stream().map(ResponseCache::message).toList()),
            "tools",
            new JsonArray(
                request.tools().stream()
                    .map(
                        t ->
                            (JsonValue)
                                JsonValue.object(
                                    "name",
                                    t.name(),
                                    "description",
                                    t.description(),
                                    "schema",
                                    t.inputSchema()))
                    .toList()),
            "schema",
            request.outputSchema().map(s -> (JsonValue) s).orElse(JsonValue.NULL),
            "maxOutputTokens",
            (long) request.maxOutputTokens());
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(shape.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static JsonValue message(Message m) {
    return switch (m) {
      case Message.System s -> JsonValue.object("role", "system", "text", s.text());
      case Message.User u -> JsonValue.object("role", "user", "text", u.text());
      case Message.Assistant a ->
          JsonValue.object(
              "role",
              "assistant",
              "text",
              a.text(),
              "calls",
              List.copyOf(
                  a.toolCalls().stream()
                      .map(
                          c ->
                              (Object)
                                  JsonValue.object(
                                      "id", c.id(), "name", c.name(), "args", c.arguments()))
                      .toList()));
      case Message.ToolResult r ->
          JsonValue.object(
              "role",
              "tool",
              "id",
              r.callId(),
              "name",
              r.toolName(),
              "content",
              r.content(),
              "error",
              r.isError());
    };
  }

  /** Stores {@code response} under {@code key}. */
  public void put(String key, ModelResponse response, String servedBy) {
    lock.lock();
    try {
      entries.put(key, new Entry(response, servedBy, clock.instant()));
      while (entries.size() > maxEntries) {
        String eldest = entries.keySet().iterator().next();
        entries.remove(eldest);
      }
    } finally {
      lock.unlock();
    }
  }

  /** A fresh entry for {@code key}. */
  public Optional<Entry> fresh(String key) {
    return within(key, freshFor);
  }

  /** An entry for {@code key} no older than the stale limit. */
  public Optional<Entry> stale(String key) {
    return within(key, staleFor);
  }

  private Optional<Entry> within(String key, Duration age) {
    lock.lock();
    try {
      Entry e = entries.get(key);
      if (e == null) {
        return Optional.empty();
      }
      Instant now = clock.instant();
      if (Duration.between(e.storedAt(), now).compareTo(staleFor) > 0) {
        entries.remove(key);
        return Optional.empty();
      }
      return Duration.between(e.storedAt(), now).compareTo(age) <= 0
          ? Optional.of(e)
          : Optional.empty();
    } finally {
      lock.unlock();
    }
  }

  /** The number of entries. */
  public int size() {
    lock.lock();
    try {
      return entries.size();
    } finally {
      lock.unlock();
    }
  }
}
