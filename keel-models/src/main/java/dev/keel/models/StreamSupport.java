package dev.keel.models;

import dev.keel.models.http.HttpTransport;
import dev.keel.models.http.SseReader;
import java.io.IOException;
import java.io.InputStream;

/** Reads a provider's streaming body into a handler, classifying a broken connection. */
public final class StreamSupport {
  private StreamSupport() {}

  /** Reads {@code body} as Server-Sent Events into {@code handler}. */
  public static void readSse(String provider, InputStream body, SseReader.Handler handler) {
    try {
      SseReader.read(body, handler);
    } catch (IOException e) {
      throw HttpTransport.brokenStream(provider, e);
    }
  }

  /** Reads {@code body} as newline-delimited JSON into {@code handler}. */
  public static void readLines(String provider, InputStream body, SseReader.Handler handler) {
    try {
      SseReader.readLines(body, handler);
    } catch (IOException e) {
      throw HttpTransport.brokenStream(provider, e);
    }
  }
}
