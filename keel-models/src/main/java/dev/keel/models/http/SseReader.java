package dev.keel.models.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Reads a Server-Sent Events stream (the WHATWG event-stream format): {@code event:} and {@code
 * data:} fields, multi-line data joined with newlines, comments ignored, an event dispatched at the
 * blank line that ends it. An event left unfinished at the end of the stream is dropped, as the
 * format requires, so a cut-off stream shows as a missing final event.
 */
public final class SseReader {

  /** One dispatched event. */
  public record Event(String event, String data) {}

  /** Receives events; returns {@code false} to stop reading. */
  @FunctionalInterface
  public interface Handler {
    /** Handles {@code event}; returns whether to keep reading. */
    boolean onEvent(Event event);
  }

  private SseReader() {}

  /**
   * Reads {@code in} to its end (or until the handler stops), closing it.
   *
   * @throws IOException when the stream breaks
   */
  public static void read(InputStream in, Handler handler) throws IOException {
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String eventName = "";
      StringBuilder data = new StringBuilder();
      boolean hasData = false;
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          if (hasData) {
            if (!handler.onEvent(
                new Event(eventName.isEmpty() ? "message" : eventName, data.toString()))) {
              return;
            }
          }
          eventName = "";
          data.setLength(0);
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) {
          continue;
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
          value = value.substring(1);
        }
        switch (field) {
          case "event" -> eventName = value;
          case "data" -> {
            if (hasData) {
              data.append('\n');
            }
            data.append(value);
            hasData = true;
          }
          default -> {
            // id, retry and unknown fields do not matter for model streams
          }
        }
      }
    }
  }

  /**
   * Reads newline-delimited JSON (Ollama): every non-blank line is handed over as the data of an
   * event named {@code line}.
   *
   * @throws IOException when the stream breaks
   */
  public static void readLines(InputStream in, Handler handler) throws IOException {
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isBlank() && !handler.onEvent(new Event("line", line))) {
          return;
        }
      }
    }
  }
}
