package dev.keel.models.bedrock;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;

/** Writes AWS event-stream messages, to build Converse stream fixtures from readable JSON lines. */
final class EventStreamEncoder {
  private EventStreamEncoder() {}

  static byte[] message(Map<String, String> headers, byte[] payload) {
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    headers.forEach(
        (name, value) -> {
          byte[] n = name.getBytes(StandardCharsets.UTF_8);
          byte[] v = value.getBytes(StandardCharsets.UTF_8);
          h.write(n.length);
          h.writeBytes(n);
          h.write(7);
          h.write((v.length >> 8) & 0xff);
          h.write(v.length & 0xff);
          h.writeBytes(v);
        });
    byte[] headerBytes = h.toByteArray();
    int total = 12 + headerBytes.length + payload.length + 4;
    ByteBuffer b = ByteBuffer.allocate(total);
    b.putInt(total).putInt(headerBytes.length);
    CRC32 preludeCrc = new CRC32();
    preludeCrc.update(b.array(), 0, 8);
    b.putInt((int) preludeCrc.getValue());
    b.put(headerBytes).put(payload);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, total - 4);
    b.putInt((int) crc.getValue());
    return b.array();
  }
}
