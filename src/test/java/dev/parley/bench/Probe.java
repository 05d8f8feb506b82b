package dev.parley.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time and resident memory of processes, read from {@code /proc} (Linux). CPU is in nanoseconds of user plus
 * system time; the kernel counts it in clock ticks of 10 ms, which over a window of tens of seconds is exact enough.
 */
public final class Probe {

  private static final long NANOS_PER_TICK = 10_000_000L;

  private Probe() {
  }

  /** User plus system CPU time of the processes, in nanoseconds. */
  public static long cpuNanos(List<Long> pids) {
    long total = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // The command name (field 2) may hold spaces; the fields after it start past its closing parenthesis.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        total += (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * NANOS_PER_TICK;
      } catch (IOException gone) {
        // the process ended: its time no longer counts
      }
    }
    return total;
  }

  /** Resident set size of the processes, in bytes. */
  public static long rssBytes(List<Long> pids) {
    long total = 0;
    for (long pid : pids) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
          if (line.startsWith("VmRSS:")) {
            total += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
          }
        }
      } catch (IOException gone) {
        // the process ended
      }
    }
    return total;
  }

  /** The PostgreSQL and Redis server processes on this machine (backends included), found by their command. */
  static List<Long> databasePids() {
    return ProcessHandle.allProcesses()
      .filter(p -> p.info().command().map(c -> c.endsWith("/postgres") || c.contains("redis-server")).orElse(false))
      .map(ProcessHandle::pid).toList();
  }

  /** This process's CPU time, in nanoseconds. */
  public static long ownCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** The whole machine's busy CPU time (all processes, all cores), in nanoseconds, from {@code /proc/stat}. */
  static long machineBusyNanos() {
    try {
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      // user, nice, system, irq, softirq, steal (not idle, iowait, or guest, which user already counts)
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(cpu[i]);
      }
      return busy * NANOS_PER_TICK;
    } catch (IOException e) {
      return 0;
    }
  }
}
