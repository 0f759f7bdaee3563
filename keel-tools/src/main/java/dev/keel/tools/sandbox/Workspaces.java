package dev.keel.tools.sandbox;

import dev.keel.run.Hashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;

/** Per-run writable workspaces: one directory per tenant and run, owned by the sandbox user. */
final class Workspaces {
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private Workspaces() {}

  /** The workspace of {@code runId} of {@code tenant} under {@code root}, created if needed. */
  static Path forRun(Path root, String tenant, String runId, Bubblewrap sandbox)
      throws IOException {
    Path dir = root.resolve(segment(tenant)).resolve(segment(runId));
    Files.createDirectories(dir);
    prepare(root.resolve(segment(tenant)), sandbox);
    prepare(dir, sandbox);
    return dir;
  }

  /** A name safe as one path segment: itself if plain, otherwise a hash. */
  static String segment(String name) {
    return SAFE.matcher(name).matches() ? name : "h_" + Hashes.sha256(name).substring(0, 32);
  }

  /** Restricts {@code dir} to its owner and, when Keel is root, hands it to the sandbox user. */
  static void prepare(Path dir, Bubblewrap sandbox) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    if (Bubblewrap.runningAsRoot()) {
      Files.setAttribute(dir, "unix:uid", sandbox.sandboxUid(), LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:gid", sandbox.sandboxUid(), LinkOption.NOFOLLOW_LINKS);
    }
  }
}
