package dev.keel.agent;

import dev.keel.model.Message;
import dev.keel.model.Tokenizer;
import java.util.IdentityHashMap;
import java.util.Map;
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
  private Tokenizer tokenizer;

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

  /** Forgets everything once the memo holds more than {@code max} messages (dropped history). */
  void trimTo(int max) {
    if (json.size() > max) {
      json.clear();
    }
    if (tokens.size() > max) {
      tokens.clear();
    }
  }
}
