package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the repository's {@code keel} launcher as a user would, against real and fake JDK folders: a
 * JDK 21+ in {@code JAVA_HOME} is used as it is, an older one is reported and passed over for a
 * newer JDK on the usual paths. The launcher is copied next to the packaged jar so that it does not
 * rebuild anything.
 */
class LauncherIT {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path dir;

  private record Result(int exit, String out, String err) {}

  private Path launcher() throws IOException {
    Path home = dir.resolve("keel-home");
    Files.createDirectories(home.resolve("keel-app"));
    Files.copy(REPO.resolve("keel"), home.resolve("keel"));
    Files.createSymbolicLink(
        home.resolve("keel-app/target"), REPO.resolve("keel-app/target").toAbsolutePath());
    return home.resolve("keel");
  }

  /** A folder that looks like a JDK of {@code version} whose java prints its arguments. */
  private Path fakeJdk(String name, String version) throws IOException {
    Path jdk = dir.resolve(name);
    Files.createDirectories(jdk.resolve("bin"));
    Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    Path java = jdk.resolve("bin/java");
    Files.writeString(java, "#!/bin/sh\necho \"fake java " + version + "\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    return jdk;
  }

  private Result run(Path launcher, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "--version");
    pb.environment().putAll(env);
    pb.redirectOutput(dir.resolve("out.txt").toFile());
    pb.redirectError(dir.resolve("err.txt").toFile());
    Process p = pb.start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the launcher ends").isTrue();
    return new Result(
        p.exitValue(),
        Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8),
        Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
  }

  @Test
  void aJdk21OrNewerInJavaHomeIsUsedAsItIs() throws Exception {
    Path launcher = launcher();
    Result r = run(launcher, Map.of("JAVA_HOME", fakeJdk("jdk-22", "22.0.1").toString()));
    assertThat(r.out()).startsWith("fake java 22.0.1");
    assertThat(r.err()).isEmpty();

    Result real = run(launcher, Map.of("JAVA_HOME", System.getProperty("java.home")));
    assertThat(real.exit()).isZero();
    assertThat(real.out()).contains("keel 0.1.0");
  }

  @Test
  void anOlderJdkInJavaHomeIsNamedAndPassedOver() throws Exception {
    Path old = fakeJdk("jdk-17", "17.0.12");
    Result r = run(launcher(), Map.of("JAVA_HOME", old.toString()));
    assertThat(r.err())
        .contains("JAVA_HOME (" + old + ") is Java 17; looking for a JDK 21 or newer elsewhere");
    // this machine has a JDK 21+ on the usual paths (it runs this test), so the launcher goes on
    assertThat(r.out()).doesNotContain("fake java").contains("keel 0.1.0");
    assertThat(r.exit()).isZero();
  }
}
