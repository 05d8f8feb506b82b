package dev.parley.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Captures what one logger writes, at INFO and up, for tests about log lines; {@link #close} restores it. */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private final Logger logger;
  private final Level level;
  private final List<String> lines = new ArrayList<>();

  private LogCapture(Logger logger) {
    this.logger = logger;
    this.level = logger.getLevel();
  }

  public static LogCapture of(String name) {
    Logger logger = (Logger) LoggerFactory.getLogger(name);
    LogCapture capture = new LogCapture(logger);
    capture.setContext(logger.getLoggerContext());
    capture.start();
    logger.addAppender(capture);
    logger.setLevel(Level.INFO);
    return capture;
  }

  @Override
  protected void append(ILoggingEvent event) {
    synchronized (lines) {
      lines.add(event.getFormattedMessage());
      lines.notifyAll();
    }
  }

  /** Waits up to 10 s for a line that matches. */
  public String await(Predicate<String> match) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    synchronized (lines) {
      while (true) {
        for (String line : lines) {
          if (match.test(line)) {
            return line;
          }
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new AssertionError("no such log line in " + lines);
        }
        lines.wait(left);
      }
    }
  }

  public List<String> lines() {
    synchronized (lines) {
      return new ArrayList<>(lines);
    }
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    logger.setLevel(level);
    stop();
  }
}
