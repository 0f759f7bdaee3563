package dev.keel.models.http;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * Where an API key comes from. A reference never holds the key in a field that is printed: {@code
 * toString()} names the source only, so references can appear in logs, errors and events.
 */
public sealed interface SecretRef {

  /** Reads the secret now; empty when the source has none. */
  Optional<String> resolve();

  /** Describes the source (never the secret). */
  String describe();

  /**
   * Parses a reference written in configuration: {@code env:NAME}, {@code file:/path} (the whole
   * file, trimmed), {@code file:/path#KEY} (one entry of a properties file) or {@code none}.
   *
   * @throws IllegalArgumentException naming the bad value and the accepted forms
   */
  static SecretRef parse(String spec) {
    if (spec.equals("none") || spec.isBlank()) {
      return new None();
    }
    if (spec.startsWith("env:") && spec.length() > 4) {
      return new Env(spec.substring(4), System.getenv());
    }
    if (spec.startsWith("file:") && spec.length() > 5) {
      String rest = spec.substring(5);
      int hash = rest.indexOf('#');
      return hash < 0
          ? new FileEntry(Path.of(rest), "")
          : new FileEntry(Path.of(rest.substring(0, hash)), rest.substring(hash + 1));
    }
    throw new IllegalArgumentException(
        "secret reference '"
            + spec
            + "' is not one of env:NAME, file:/path, file:/path#KEY or none");
  }

  /** An environment variable, read from {@code environment} (normally {@link System#getenv()}). */
  record Env(String variable, Map<String, String> environment) implements SecretRef {
    /** Checks the variable name. */
    public Env {
      if (variable.isBlank()) {
        throw new IllegalArgumentException("secret environment variable name must not be blank");
      }
      environment = Map.copyOf(environment);
    }

    @Override
    public Optional<String> resolve() {
      return Optional.ofNullable(environment.get(variable))
          .filter(v -> !v.isBlank())
          .map(String::trim);
    }

    @Override
    public String describe() {
      return "environment variable " + variable;
    }

    @Override
    public String toString() {
      return "SecretRef[env:" + variable + "]";
    }
  }

  /**
   * A secrets file: the whole file trimmed when {@code key} is empty, else the {@code key} entry of
   * a properties file.
   */
  record FileEntry(Path path, String key) implements SecretRef {
    /** Checks the fields are present. */
    public FileEntry {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(key, "key");
    }

    @Override
    public Optional<String> resolve() {
      if (!Files.isReadable(path)) {
        return Optional.empty();
      }
      try {
        String content = Files.readString(path, StandardCharsets.UTF_8);
        if (key.isEmpty()) {
          return Optional.of(content.trim()).filter(v -> !v.isEmpty());
        }
        Properties props = new Properties();
        props.load(new StringReader(content));
        return Optional.ofNullable(props.getProperty(key))
            .map(String::trim)
            .filter(v -> !v.isEmpty());
      } catch (IOException e) {
        return Optional.empty();
      }
    }

    @Override
    public String describe() {
      return "secrets file " + path + (key.isEmpty() ? "" : " entry " + key);
    }

    @Override
    public String toString() {
      return "SecretRef[file:" + path + (key.isEmpty() ? "" : "#" + key) + "]";
    }
  }

  /** A key given directly, for tests and embedding; printed as redacted. */
  record Fixed(String value) implements SecretRef {
    /** Checks the value is present. */
    public Fixed {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public Optional<String> resolve() {
      return Optional.of(value).filter(v -> !v.isBlank());
    }

    @Override
    public String describe() {
      return "a key given in code";
    }

    @Override
    public String toString() {
      return "SecretRef[fixed:***]";
    }
  }

  /** No key: local servers such as Ollama, vLLM or llama.cpp. */
  record None() implements SecretRef {
    @Override
    public Optional<String> resolve() {
      return Optional.empty();
    }

    @Override
    public String describe() {
      return "no key configured";
    }
  }
}
