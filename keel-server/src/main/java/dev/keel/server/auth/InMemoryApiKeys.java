package dev.keel.server.auth;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Keys held in memory: for tests and short-lived embedded runtimes. */
public final class InMemoryApiKeys implements ApiKeys {
  private final Map<String, ApiKey> keys = new ConcurrentHashMap<>();

  @Override
  public Optional<ApiKey> find(String id) {
    return Optional.ofNullable(keys.get(id));
  }

  @Override
  public void save(ApiKey key) {
    if (keys.putIfAbsent(key.id(), key) != null) {
      throw new IllegalArgumentException("api key " + key.id() + " exists already");
    }
  }

  @Override
  public List<ApiKey> all() {
    List<ApiKey> out = new ArrayList<>(keys.values());
    out.sort(Comparator.comparing(ApiKey::createdAt).thenComparing(ApiKey::id));
    return out;
  }
}
