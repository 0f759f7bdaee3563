package dev.keel.tools.sandbox;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds the classic-BPF seccomp program bubblewrap installs with {@code --seccomp FD}: a deny list
 * for x86-64, generated in Java so no libseccomp helper is needed at build or run time.
 *
 * <p>Implementation notes: the program is linear and small (about 130 instructions).
 *
 * <ol>
 *   <li>Any architecture other than x86-64 kills the process (no 32-bit or x32 back doors), and x32
 *       syscall numbers ({@code nr >= 0x40000000}) fail with EPERM.
 *   <li>Syscalls that let a sandboxed process escape or attack the kernel fail with EPERM: ptrace,
 *       mount and the new mount API, unshare, setns, keyctl, bpf, userfaultfd, perf_event_open,
 *       kexec, module loading, pivot_root, chroot, io_uring, process_vm_*, open_by_handle_at and
 *       friends.
 *   <li>{@code clone} with any namespace flag fails with EPERM; {@code clone3} fails with ENOSYS
 *       (its flags live in memory a filter cannot read), so libc falls back to {@code clone}.
 *   <li>Without network, {@code socket} succeeds only for AF_UNIX; with network, AF_PACKET is still
 *       refused.
 * </ol>
 *
 * The layout of {@code struct seccomp_data}: nr at offset 0, arch at 4, args at 16 + 8 * i (the low
 * 32 bits first on little-endian x86-64).
 */
public final class SeccompFilter {
  private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
  private static final int RET_ALLOW = 0x7fff0000;
  private static final int RET_KILL_PROCESS = 0x80000000;
  private static final int RET_ERRNO = 0x00050000;
  private static final int EPERM = 1;
  private static final int ENOSYS = 38;
  private static final int LD_W_ABS = 0x20;
  private static final int JEQ_K = 0x15;
  private static final int JGE_K = 0x35;
  private static final int JSET_K = 0x45;
  private static final int RET_K = 0x06;
  private static final int NR_SOCKET = 41;
  private static final int NR_CLONE = 56;
  private static final int NR_CLONE3 = 435;
  private static final int AF_UNIX = 1;
  private static final int AF_PACKET = 17;
  private static final int CLONE_NS_FLAGS = 0x7E020080;

  /** x86-64 syscalls denied with EPERM, by number. */
  static final int[] DENIED = {
    101, // ptrace
    103, // syslog
    134, // uselib
    155, // pivot_root
    161, // chroot
    163, // acct
    165, // mount
    166, // umount2
    167, // swapon
    168, // swapoff
    169, // reboot
    170, // sethostname
    171, // setdomainname
    172, // iopl
    173, // ioperm
    175, // init_module
    176, // delete_module
    179, // quotactl
    212, // lookup_dcookie
    246, // kexec_load
    248, // add_key
    249, // request_key
    250, // keyctl
    272, // unshare
    298, // perf_event_open
    303, // name_to_handle_at
    304, // open_by_handle_at
    308, // setns
    310, // process_vm_readv
    311, // process_vm_writev
    313, // finit_module
    320, // kexec_file_load
    321, // bpf
    323, // userfaultfd
    425, // io_uring_setup
    426, // io_uring_enter
    427, // io_uring_register
    428, // open_tree
    429, // move_mount
    430, // fsopen
    431, // fsconfig
    432, // fsmount
    433, // fspick
    442, // mount_setattr
  };

  private SeccompFilter() {}

  /** Whether the filter can be built for this machine (x86-64 only, for now). */
  public static boolean supported() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return arch.equals("amd64") || arch.equals("x86_64");
  }

  /** The program as the bytes {@code bwrap --seccomp} reads (little-endian sock_filter array). */
  public static byte[] program(boolean network) {
    List<int[]> p = new ArrayList<>();
    p.add(stmt(LD_W_ABS, 4));
    p.add(jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0));
    p.add(stmt(RET_K, RET_KILL_PROCESS));
    p.add(stmt(LD_W_ABS, 0));
    p.add(jump(JGE_K, 0x40000000, 0, 1));
    p.add(stmt(RET_K, RET_ERRNO | EPERM));
    for (int nr : DENIED) {
      p.add(jump(JEQ_K, nr, 0, 1));
      p.add(stmt(RET_K, RET_ERRNO | EPERM));
    }
    p.add(jump(JEQ_K, NR_CLONE3, 0, 1));
    p.add(stmt(RET_K, RET_ERRNO | ENOSYS));
    // clone: refuse namespace flags
    p.add(jump(JEQ_K, NR_CLONE, 0, 4));
    p.add(stmt(LD_W_ABS, 16));
    p.add(jump(JSET_K, CLONE_NS_FLAGS, 0, 1));
    p.add(stmt(RET_K, RET_ERRNO | EPERM));
    p.add(stmt(RET_K, RET_ALLOW));
    // socket: AF_UNIX only without network; never AF_PACKET
    p.add(jump(JEQ_K, NR_SOCKET, 0, 4));
    p.add(stmt(LD_W_ABS, 16));
    p.add(network ? jump(JEQ_K, AF_PACKET, 1, 0) : jump(JEQ_K, AF_UNIX, 0, 1));
    p.add(stmt(RET_K, RET_ALLOW));
    p.add(stmt(RET_K, RET_ERRNO | EPERM));
    p.add(stmt(RET_K, RET_ALLOW));
    ByteArrayOutputStream out = new ByteArrayOutputStream(p.size() * 8);
    for (int[] ins : p) {
      out.write(ins[0] & 0xff);
      out.write((ins[0] >>> 8) & 0xff);
      out.write(ins[1]);
      out.write(ins[2]);
      for (int i = 0; i < 4; i++) {
        out.write((ins[3] >>> (8 * i)) & 0xff);
      }
    }
    return out.toByteArray();
  }

  private static int[] stmt(int code, int k) {
    return new int[] {code, 0, 0, k};
  }

  private static int[] jump(int code, int k, int jt, int jf) {
    return new int[] {code, jt, jf, k};
  }
}
