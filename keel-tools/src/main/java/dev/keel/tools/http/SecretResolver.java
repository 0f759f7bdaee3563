package dev.keel.tools.http;

import java.util.Optional;

/** Resolves a secret by name at call time; configuration holds only the name. */
@FunctionalInterface
public interface SecretResolver {

  /** The secret named {@code name}, if the deployment has it. */
  Optional<String> resolve(String name);
}
