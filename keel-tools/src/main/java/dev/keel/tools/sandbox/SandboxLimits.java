package dev.keel.tools.sandbox;

/**
 * Resource limits of one sandboxed command, applied with rlimits ({@code prlimit}) plus an output
 * cap enforced by the reader.
 *
 * @param cpuSeconds CPU time (RLIMIT_CPU); the kernel kills the process when it is used up
 * @param memoryBytes address space (RLIMIT_AS)
 * @param maxProcesses processes of the sandbox user (RLIMIT_NPROC); a fork bomb hits this
 * @param maxFileBytes largest file the command may write (RLIMIT_FSIZE)
 * @param maxOpenFiles open file descriptors (RLIMIT_NOFILE)
 * @param maxOutputBytes stdout plus stderr kept; the process tree is killed when it writes more
 */
public record SandboxLimits(
    int cpuSeconds,
    long memoryBytes,
    int maxProcesses,
    long maxFileBytes,
    int maxOpenFiles,
    int maxOutputBytes) {

  /** 10 s CPU, 512 MiB, 64 processes, 64 MiB files, 256 descriptors, 1 MiB of output. */
  public static final SandboxLimits DEFAULT =
      new SandboxLimits(10, 512L << 20, 64, 64L << 20, 256, 1 << 20);

  /** Validates the numbers. */
  public SandboxLimits {
    if (cpuSeconds < 1
        || memoryBytes < (16L << 20)
        || maxProcesses < 1
        || maxFileBytes < 0
        || maxOpenFiles < 16
        || maxOutputBytes < 1024) {
      throw new IllegalArgumentException(
          "sandbox limits need cpuSeconds >= 1, memoryBytes >= 16 MiB, maxProcesses >= 1,"
              + " maxFileBytes >= 0, maxOpenFiles >= 16, maxOutputBytes >= 1024; got "
              + cpuSeconds
              + "/"
              + memoryBytes
              + "/"
              + maxProcesses
              + "/"
              + maxFileBytes
              + "/"
              + maxOpenFiles
              + "/"
              + maxOutputBytes);
    }
  }
}
