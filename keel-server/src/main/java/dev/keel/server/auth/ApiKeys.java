package dev.keel.server.auth;

import java.util.List;
import java.util.Optional;

/** Where API keys are kept. Implementations store only hashes of the tokens. */
public interface ApiKeys {

  /** The key with public id {@code id}, if any. */
  Optional<ApiKey> find(String id);

  /** Stores {@code key}. */
  void save(ApiKey key);

  /** Every key, oldest first. */
  List<ApiKey> all();
}
