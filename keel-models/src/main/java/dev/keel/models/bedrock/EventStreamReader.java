package dev.keel.models.bedrock;

import dev.keel.models.http.Wire;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Reads the AWS binary event-stream framing ({@code application/vnd.amazon.eventstream}).
 *
 * <p>Implementation notes: a message is a 12-byte prelude (total length, headers length, both
 * big-endian 32-bit, then the CRC32 of those 8 bytes), the headers, the payload and the CRC32 of
 * everything before it. A header is a 1-byte name length, the name, a 1-byte value type and the
 * value; only string values (type 7: 2-byte length and UTF-8) matter here, the others are skipped
 * by their fixed or prefixed sizes. Both checksums are verified; a bad one, an impossible length or
 * a stream that ends inside a message fails as a malformed response.
 */
public final class EventStreamReader {
  private static final int PRELUDE = 12;
  private static final int MAX_MESSAGE = 16 << 20;

  /** One decoded message: its string headers and its payload as UTF-8 text. */
  public record Frame(Map<String, String> headers, String payloadText) {
    /** The header {@code name}, or empty. */
    public String header(String name) {
      return headers.getOrDefault(name, "");
    }
  }

  private final InputStream in;
  private final String provider;

  /** Creates a reader over {@code in} for errors naming {@code provider}. */
  public EventStreamReader(InputStream in, String provider) {
    this.in = in;
    this.provider = provider;
  }

  /**
   * The next message, or {@code null} at a clean end of stream (between messages).
   *
   * @throws IOException when the connection breaks
   * @throws dev.keel.model.ModelException {@code MALFORMED_RESPONSE} on a bad frame
   */
  public @org.jspecify.annotations.Nullable Frame next() throws IOException {
    byte[] prelude = in.readNBytes(PRELUDE);
    if (prelude.length == 0) {
      return null;
    }
    if (prelude.length < PRELUDE) {
      throw Wire.malformed(
          provider, "the event stream ended inside a message prelude (truncated stream)", null);
    }
    ByteBuffer p = ByteBuffer.wrap(prelude);
    int total = p.getInt();
    int headersLength = p.getInt();
    int preludeCrc = p.getInt();
    if (crc(prelude, 0, 8) != preludeCrc) {
      throw Wire.malformed(provider, "event stream prelude checksum mismatch", null);
    }
    if (total < PRELUDE + 4
        || total > MAX_MESSAGE
        || headersLength < 0
        || headersLength > total - PRELUDE - 4) {
      throw Wire.malformed(
          provider, "event stream message length " + total + " is impossible", null);
    }
    byte[] rest = in.readNBytes(total - PRELUDE);
    if (rest.length < total - PRELUDE) {
      throw Wire.malformed(
          provider, "the event stream ended inside a message (truncated stream)", null);
    }
    CRC32 crc = new CRC32();
    crc.update(prelude);
    crc.update(rest, 0, rest.length - 4);
    int messageCrc = ByteBuffer.wrap(rest, rest.length - 4, 4).getInt();
    if ((int) crc.getValue() != messageCrc) {
      throw Wire.malformed(provider, "event stream message checksum mismatch", null);
    }
    Map<String, String> headers = readHeaders(ByteBuffer.wrap(rest, 0, headersLength));
    String payload =
        new String(rest, headersLength, rest.length - 4 - headersLength, StandardCharsets.UTF_8);
    return new Frame(Map.copyOf(headers), payload);
  }

  private Map<String, String> readHeaders(ByteBuffer b) throws EOFException {
    Map<String, String> headers = new HashMap<>();
    try {
      while (b.hasRemaining()) {
        byte[] name = new byte[b.get() & 0xff];
        b.get(name);
        int type = b.get();
        switch (type) {
          case 0, 1 -> {
            // boolean true / false: no value bytes
          }
          case 2 -> b.position(b.position() + 1);
          case 3 -> b.position(b.position() + 2);
          case 4 -> b.position(b.position() + 4);
          case 5, 8 -> b.position(b.position() + 8);
          case 6 -> b.position(b.position() + (b.getShort() & 0xffff));
          case 7 -> {
            byte[] value = new byte[b.getShort() & 0xffff];
            b.get(value);
            headers.put(
                new String(name, StandardCharsets.UTF_8),
                new String(value, StandardCharsets.UTF_8));
          }
          case 9 -> b.position(b.position() + 16);
          default ->
              throw Wire.malformed(provider, "unknown event stream header type " + type, null);
        }
      }
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      throw Wire.malformed(provider, "event stream headers overrun their length", e);
    }
    return headers;
  }

  private static int crc(byte[] data, int offset, int length) {
    CRC32 crc = new CRC32();
    crc.update(data, offset, length);
    return (int) crc.getValue();
  }
}
