package dev.keel.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The cost bound counts UTF-8 bytes without encoding; it must count what encoding would give. */
class AgentLoopUtf8Test {
  @Test
  void countsTheBytesStringGetBytesWrites() {
    List<String> samples =
        List.of(
            "",
            "plain ascii",
            "caf\u00e9 \u00fcber",
            "\u20ac and \u4e2d\u6587",
            "emoji \ud83d\ude00 pair",
            "lone high \ud83d at end \ud83d",
            "lone low \ude00 here",
            "\u007f\u0080\u07ff\u0800\uffff");
    for (String s : samples) {
      assertThat(AgentLoop.utf8(s))
          .as("UTF-8 length of %s", s)
          .isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }
  }

  @Test
  void countsRandomTextLikeStringGetBytes() {
    Random r = new Random(42);
    for (int trial = 0; trial < 2_000; trial++) {
      char[] cs = new char[r.nextInt(20)];
      for (int i = 0; i < cs.length; i++) {
        cs[i] = (char) (r.nextBoolean() ? r.nextInt(0x100) : r.nextInt(0x10000));
      }
      String s = new String(cs);
      assertThat(AgentLoop.utf8(s))
          .as("trial %d", trial)
          .isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }
  }
}
