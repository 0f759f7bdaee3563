package dev.keel.agent;

import dev.keel.model.Message;
import dev.keel.model.Tokenizer;
import dev.keel.run.Hashes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * What the context assembler learns about a recorded message and would otherwise compute again at
 * every step: its canonical JSON text and its token count. A message never changes once recorded,
 * and a run's state keeps the same message objects from one step to the next, so the memo is keyed
 * by identity (never by equality, which could pair two equal messages whose JSON differs, such as
 * numbers written with different scales). One memo serves one run's execution on one thread; it is
 * not shared.
 */
public final class MessageMemo {
  private final Map<Message, String> json = new IdentityHashMap<>();
  private final Map<Message, Long> tokens = new IdentityHashMap<>();
  private final Map<Message, Long> sizes = new IdentityHashMap<>();
  private Tokenizer tokenizer;

  /** How many open array hashes are kept: the assembler hashes the task and the history. */
  private static final int PREFIXES = 4;

  /**
   * Hashes of message arrays left open after their last element, most recent first, so that a
   * longer list starting with the same messages (the next step's history) hashes only what was
   * added instead of the whole history again.
   */
  private final List<Prefix> prefixes = new ArrayList<>(PREFIXES + 1);

  private record Prefix(Message[] messages, MessageDigest open) {}

  /** The canonical JSON text of {@code m}, as {@code StateCodec.messages} writes its element. */
  String json(Message m, java.util.function.Function<Message, String> encode) {
    return json.computeIfAbsent(m, encode);
  }

  /**
   * The token count of {@code m} under {@code tk}; counts kept for another tokenizer are dropped.
   */
  long tokens(Tokenizer tk, Message m, ToLongFunction<Message> count) {
    if (tokenizer != tk) {
      tokens.clear();
      tokenizer = tk;
    }
    Long n = tokens.get(m);
    if (n == null) {
      n = count.applyAsLong(m);
      tokens.put(m, n);
    }
    return n;
  }

  /**
   * The SHA-256, in lower-case hex, of the JSON array of {@code messages}' texts ({@code encode}
   * gives a message's text): the hash of {@code "[" + m0 + "," + m1 + ... + "]"} in UTF-8, computed
   * from the longest kept array whose messages are the same objects as the first ones here.
   */
  String arrayHash(List<Message> messages, Function<Message, String> encode) {
    Prefix from = null;
    for (Prefix p : prefixes) {
      if ((from == null || p.messages().length > from.messages().length)
          && startsWith(messages, p.messages())) {
        from = p;
      }
    }
    MessageDigest d;
    int start;
    if (from == null) {
      d = Hashes.sha256Digest();
      d.update((byte) '[');
      start = 0;
    } else {
      d = copy(from.open());
      start = from.messages().length;
      prefixes.remove(from);
    }
    for (int i = start; i < messages.size(); i++) {
      if (i > 0) {
        d.update((byte) ',');
      }
      d.update(json(messages.get(i), encode).getBytes(StandardCharsets.UTF_8));
    }
    prefixes.addFirst(new Prefix(messages.toArray(Message[]::new), copy(d)));
    if (prefixes.size() > PREFIXES) {
      prefixes.removeLast();
    }
    d.update((byte) ']');
    return Hashes.hex(d.digest());
  }

  private static boolean startsWith(List<Message> messages, Message[] prefix) {
    if (prefix.length > messages.size()) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (messages.get(i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static MessageDigest copy(MessageDigest d) {
    try {
      return (MessageDigest) d.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the JDK's SHA-256 cannot be copied", e);
    }
  }

  /** {@code measure(m)}, measured once per message (the engine's bound on a model call's input). */
  public long size(Message m, ToLongFunction<Message> measure) {
    Long n = sizes.get(m);
    if (n == null) {
      n = measure.applyAsLong(m);
      sizes.put(m, n);
    }
    return n;
  }

  /** Forgets everything once the memo holds more than {@code max} messages (dropped history). */
  void trimTo(int max) {
    if (json.size() > max) {
      json.clear();
      prefixes.clear();
    }
    if (tokens.size() > max) {
      tokens.clear();
    }
    if (sizes.size() > max) {
      sizes.clear();
    }
  }
}
