package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.Hashes;
import dev.keel.run.StateCodec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memoised history hash must be the hash of the whole history's JSON, step after step. */
class MessageMemoTest {
  @Test
  void memoisedHistoryHashEqualsTheHashOfTheWholeHistory() {
    MessageMemo memo = new MessageMemo();
    List<Message> history = new ArrayList<>();
    assertThat(ContextAssembler.historyHash(history, memo))
        .isEqualTo(Hashes.of(StateCodec.messages(history)));
    for (int step = 0; step < 30; step++) {
      history.add(new Message.User("question " + step + " caf\u00e9 \"quoted\" \ud83d\ude00"));
      history.add(
          new Message.Assistant(
              "",
              List.of(
                  new ToolCallRequest(
                      "call_" + step,
                      "lookup",
                      (JsonValue.JsonObject)
                          JsonParser.parse(
                              "{\"z\":1,\"a\":[true,null,2.50],\"m\":{\"y\":\"x\"}}")))));
      history.add(
          new Message.ToolResult(
              "call_" + step,
              "lookup",
              JsonValue.object("n", new JsonValue.JsonNumber(new BigDecimal("1.0")), "k", "v"),
              step % 2 == 0));
      history.add(new Message.System("note " + step));
      assertThat(ContextAssembler.historyHash(history, memo))
          .as("step %d", step)
          .isEqualTo(Hashes.of(StateCodec.messages(history)));
      List<Message> tail = history.subList(history.size() / 2, history.size());
      assertThat(ContextAssembler.historyHash(tail, memo))
          .isEqualTo(Hashes.of(StateCodec.messages(tail)));
    }
  }

  @Test
  void aListThatLeavesAKeptPrefixIsHashedFromWhereItLeaves() {
    MessageMemo memo = new MessageMemo();
    List<Message> history = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      history.add(new Message.User("m" + i));
    }
    assertThat(ContextAssembler.historyHash(history, memo))
        .isEqualTo(Hashes.of(StateCodec.messages(history)));
    // the same first five, then other messages (an equal but distinct object at 5)
    List<Message> other = new ArrayList<>(history.subList(0, 5));
    other.add(new Message.User("m5"));
    other.add(new Message.User("another"));
    assertThat(ContextAssembler.historyHash(other, memo))
        .isEqualTo(Hashes.of(StateCodec.messages(other)));
    // shorter than every kept list, and empty
    assertThat(ContextAssembler.historyHash(history.subList(0, 3), memo))
        .isEqualTo(Hashes.of(StateCodec.messages(history.subList(0, 3))));
    assertThat(ContextAssembler.historyHash(List.of(), memo))
        .isEqualTo(Hashes.of(StateCodec.messages(List.of())));
    // and the first list again, then grown by one
    history.add(new Message.System("later"));
    assertThat(ContextAssembler.historyHash(history, memo))
        .isEqualTo(Hashes.of(StateCodec.messages(history)));
  }

  @Test
  void equalMessagesAreNotConfusedWhenTheirTextsDiffer() {
    // equal by value (BigDecimal scale aside) must not share a memo entry: keyed by identity
    MessageMemo memo = new MessageMemo();
    Message a =
        new Message.ToolResult("c", "t", new JsonValue.JsonNumber(new BigDecimal("1.0")), false);
    Message b =
        new Message.ToolResult("c", "t", new JsonValue.JsonNumber(new BigDecimal("1.00")), false);
    assertThat(ContextAssembler.historyHash(List.of(a), memo))
        .isEqualTo(Hashes.of(StateCodec.messages(List.of(a))));
    assertThat(ContextAssembler.historyHash(List.of(b), memo))
        .isEqualTo(Hashes.of(StateCodec.messages(List.of(b))));
  }
}
