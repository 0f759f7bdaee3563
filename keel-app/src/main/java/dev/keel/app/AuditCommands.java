package dev.keel.app;

import dev.keel.engine.ChainVerifier;
import dev.keel.json.JsonValue;
import dev.keel.run.RunId;
import dev.keel.store.RunStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code keel audit}: tamper evidence across the whole store. */
final class AuditCommands {
  private AuditCommands() {}

  @Command(
      name = "audit",
      description = "Tamper evidence across all runs.",
      mixinStandardHelpOptions = true,
      subcommands = {AuditCommands.Verify.class})
  static final class Audit implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new CliException(CliException.USAGE, "name a command: keel audit verify");
    }
  }

  @Command(
      name = "verify",
      description =
          "Check every run's event and checkpoint hash chains and that no event was deleted; exit"
              + " 1 if any run is broken.",
      mixinStandardHelpOptions = true)
  static final class Verify implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();
    private final Ctx ctx;

    Verify(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      KeelConfig cfg = ctx.config(g);
      try (RunStore store = KeelRuntime.openStore(cfg)) {
        int runs = store.rows().size();
        Map<RunId, List<String>> broken = ChainVerifier.verifyAll(store);
        List<JsonValue> items = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        broken.forEach(
            (id, problems) -> {
              items.add(JsonValue.object("run_id", id.value(), "problems", problems));
              lines.add(id.value() + ": BROKEN\n  - " + String.join("\n  - ", problems));
            });
        ctx.print(
            g,
            JsonValue.object(
                "runs",
                (long) runs,
                "broken",
                (long) broken.size(),
                "intact",
                broken.isEmpty(),
                "problems",
                items),
            broken.isEmpty()
                ? "audit: " + runs + " runs, all hash chains intact"
                : String.join("\n", lines)
                    + "\naudit: "
                    + broken.size()
                    + " of "
                    + runs
                    + " runs BROKEN");
        return broken.isEmpty() ? 0 : 1;
      } catch (CliException x) {
        throw x;
      } catch (RuntimeException x) {
        throw new CliException(
            CliException.UNREACHABLE,
            "cannot read the store " + cfg.redactedStoreUrl() + ": " + x.getMessage());
      }
    }
  }
}
