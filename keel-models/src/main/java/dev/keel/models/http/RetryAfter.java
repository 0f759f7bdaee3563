package dev.keel.models.http;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Parses how long a provider asked us to wait: {@code retry-after-ms} (OpenAI), {@code Retry-After}
 * as seconds (possibly fractional) or as an HTTP date.
 */
public final class RetryAfter {
  private static final Duration MAX = Duration.ofHours(1);

  private RetryAfter() {}

  /** The delay in {@code headers}, if any, capped at one hour and never negative. */
  public static Optional<Duration> from(HttpHeaders headers, InstantSource clock) {
    Optional<String> ms = headers.firstValue("retry-after-ms");
    if (ms.isPresent()) {
      Optional<Duration> parsed = parseMillis(ms.get());
      if (parsed.isPresent()) {
        return parsed;
      }
    }
    return headers.firstValue("retry-after").flatMap(v -> parse(v, clock.instant()));
  }

  /** Parses a {@code Retry-After} value given at {@code now}. */
  public static Optional<Duration> parse(String value, Instant now) {
    String v = value.trim();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    try {
      double seconds = Double.parseDouble(v);
      if (Double.isNaN(seconds) || seconds < 0) {
        return Optional.empty();
      }
      return Optional.of(cap(Duration.ofMillis((long) Math.ceil(seconds * 1000))));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(now, at);
        return Optional.of(cap(d.isNegative() ? Duration.ZERO : d));
      } catch (DateTimeParseException notDate) {
        return Optional.empty();
      }
    }
  }

  private static Optional<Duration> parseMillis(String value) {
    try {
      long ms = Long.parseLong(value.trim());
      return ms < 0 ? Optional.empty() : Optional.of(cap(Duration.ofMillis(ms)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static Duration cap(Duration d) {
    return d.compareTo(MAX) > 0 ? MAX : d;
  }
}
