package dev.keel.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.run.RunId;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IdSourceTest {

  @Test
  void timeOrderedIdsSortByTheirMillisecondAndAreValidRunIds() {
    AtomicLong ms = new AtomicLong(Instant.parse("2026-11-22T12:00:00Z").toEpochMilli());
    IdSource ids = IdSource.timeOrdered(() -> Instant.ofEpochMilli(ms.get()));
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      if (i % 3 == 0) {
        ms.addAndGet(i % 7 == 0 ? 1 : 997);
      }
      made.add(ids.next("run"));
    }
    for (int i = 1; i < made.size(); i++) {
      // Ids of a later millisecond sort after every id of an earlier one.
      String a = made.get(i - 1);
      String b = made.get(i);
      if (!a.substring(0, 14).equals(b.substring(0, 14))) {
        assertThat(a.compareTo(b)).as(a + " before " + b).isNegative();
      }
    }
    for (String id : made) {
      assertThat(id).matches("run_[0-9a-hjkmnp-tv-z]{30}");
      assertThat(RunId.of(id).value()).isEqualTo(id);
    }
  }

  @Test
  void timeOrderedIdsOfOneMillisecondDifferInTheirRandomPart() {
    IdSource ids = IdSource.timeOrdered(InstantSource.fixed(Instant.EPOCH.plusSeconds(1)));
    Set<String> seen = new HashSet<>();
    Set<Character> lastChars = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = ids.next("apr");
      assertThat(id).startsWith("apr_00000000z8");
      assertThat(seen.add(id)).as("duplicate " + id).isTrue();
      lastChars.add(id.charAt(id.length() - 1));
    }
    // Every position of the random part is used, the last one too.
    assertThat(lastChars).hasSize(32);
  }
}
