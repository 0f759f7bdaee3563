package dev.keel.app;

import dev.keel.store.StoreException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code keel} command. Exit codes: 0 ok or run completed; 1 run failed, cancelled or timed
 * out; 2 usage or input error; 3 run waiting for a person; 4 cannot reach the server or store.
 */
@Command(
    name = "keel",
    mixinStandardHelpOptions = true,
    version = "keel 0.1.0",
    description = "A durable runtime for AI agents.",
    subcommands = {
      AdminCommands.Serve.class,
      AdminCommands.Worker.class,
      RunCommands.Run.class,
      RunCommands.Runs.class,
      RunCommands.Status.class,
      RunCommands.Logs.class,
      ApprovalCommands.Approvals.class,
      ApprovalCommands.Approve.class,
      ApprovalCommands.Deny.class,
      RunCommands.Resume.class,
      RunCommands.Pause.class,
      RunCommands.Cancel.class,
      InfoCommands.Usage.class,
      InfoCommands.Agents.class,
      InfoCommands.Tools.class,
      AdminCommands.Keys.class,
      AdminCommands.Migrate.class,
      AdminCommands.Verify.class,
      AuditCommands.Audit.class,
      AdminCommands.Doctor.class
    })
public final class Main implements Callable<Integer> {
  private static final Map<String, Class<?>> LONG_LIVED =
      Map.of("serve", AdminCommands.Serve.class, "worker", AdminCommands.Worker.class);

  /** Runs the CLI and exits with its code. */
  public static void main(String[] args) {
    StartupWarmup.begin(args, System.getenv());
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    System.exit(run(args, out, err, System.getenv()));
  }

  /** Runs the CLI with the given streams and environment; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
    Ctx ctx = new Ctx(out, err, env);
    CommandLine.IFactory defaults = CommandLine.defaultFactory();
    CommandLine.IFactory factory =
        new CommandLine.IFactory() {
          @Override
          public <K> K create(Class<K> cls) throws Exception {
            try {
              return cls.getDeclaredConstructor(Ctx.class).newInstance(ctx);
            } catch (NoSuchMethodException x) {
              return defaults.create(cls);
            }
          }
        };
    CommandLine cl;
    String[] argv = args;
    Class<?> alone = args.length == 0 ? null : LONG_LIVED.get(args[0]);
    if (alone != null) {
      // a long-lived process builds only its own command: reflecting over every subcommand costs
      // a few hundred milliseconds of start-up (docs/decisions/0008-startup-warmup.md)
      cl = new CommandLine(alone, factory);
      cl.setCommandName("keel " + args[0]);
      argv = Arrays.copyOfRange(args, 1, args.length);
    } else {
      cl = new CommandLine(new Main(), factory);
    }
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          int code =
              switch (ex) {
                case CliException c -> c.exitCode();
                case ConfigException c -> CliException.USAGE;
                case StoreException s -> CliException.UNREACHABLE;
                default -> 1;
              };
          err.println("keel: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
          if (code == 1) {
            ex.printStackTrace(err);
          }
          err.flush();
          return code;
        });
    int code = cl.execute(argv);
    out.flush();
    err.flush();
    return code;
  }

  @Override
  public Integer call() {
    throw new CliException(CliException.USAGE, "name a command; keel --help lists them");
  }
}
