package dev.parley.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * One row of the fault suite (issue 7): its figures, each with the target it is held to. {@link #report} prints
 * the row, appends it to {@code target/fault-suite.md} (the table {@code bench/faults} shows at the end), and fails
 * the test when a figure missed its target, naming every one that did.
 *
 * <p>{@code -Dparley.fault.full=true} ({@code bench/faults}) runs every row at the size the issue gives;
 * {@code mvn verify} runs the same rows smaller, see {@link #scaled}.
 */
final class FaultRow {

  static final boolean FULL = Boolean.getBoolean("parley.fault.full");
  private static final Path REPORT = Path.of("target", "fault-suite.md");

  private final String name;
  private final List<String> figures = new ArrayList<>();
  private final List<String> missed = new ArrayList<>();

  private FaultRow(String name) {
    this.name = name;
  }

  static FaultRow of(String name) {
    return new FaultRow(name);
  }

  /** The figure in the full suite, a smaller one in {@code mvn verify}. */
  static int scaled(int full, int fast) {
    return FULL ? full : fast;
  }

  /** A figure and its target: {@code measured} says what was seen, {@code target} what it must be. */
  FaultRow figure(String measured, String target, boolean met) {
    String text = measured + " (target " + target + ")";
    figures.add(met ? text : "**" + text + ": missed**");
    if (!met) {
      missed.add(text);
    }
    return this;
  }

  /** A figure printed for the record, with no target of its own. */
  FaultRow note(String measured) {
    figures.add(measured);
    return this;
  }

  void report() {
    String line = "| " + name + (FULL ? "" : " (fast)") + " | " + String.join("; ", figures) + " | "
      + (missed.isEmpty() ? "met" : "MISSED") + " |";
    System.out.println("FAULT-SUITE " + line);
    try {
      Files.createDirectories(REPORT.getParent());
      Files.writeString(REPORT, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!missed.isEmpty()) {
      fail(name + ": missed " + String.join("; ", missed));
    }
  }
}
