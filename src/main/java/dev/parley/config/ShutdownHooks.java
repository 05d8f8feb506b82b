package dev.parley.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The embedded PostgreSQL and Redis libraries each register a JVM shutdown hook that stops their server.
 * JVM hooks run all at once, so on SIGTERM the database would go away while the node is still finishing
 * in-flight requests. {@link #adopt} removes the hooks a start registered: the node's own stop sequence
 * stops the servers instead, after draining. Reading the JVM's hook table needs
 * {@code --add-opens java.base/java.lang}, which the jar's manifest grants; without it the library hooks stay.
 */
final class ShutdownHooks {

  private static final Logger LOG = LoggerFactory.getLogger(ShutdownHooks.class);

  private ShutdownHooks() {
  }

  /** Starts a server. */
  interface Start<T> {
    T start() throws IOException;
  }

  static <T> T adopt(Start<T> start) throws IOException {
    synchronized (ShutdownHooks.class) {
      Set<Thread> before = registered();
      T started = start.start();
      Set<Thread> after = registered();
      if (before != null && after != null) {
        after.removeAll(before);
        after.forEach(Runtime.getRuntime()::removeShutdownHook);
      }
      return started;
    }
  }

  @SuppressWarnings("unchecked")
  private static Set<Thread> registered() {
    try {
      Class<?> hooks = Class.forName("java.lang.ApplicationShutdownHooks");
      Field field = hooks.getDeclaredField("hooks");
      field.setAccessible(true);
      synchronized (hooks) {
        Map<Thread, Thread> table = (Map<Thread, Thread>) field.get(null);
        return table == null ? null : new HashSet<>(table.keySet());
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("cannot read the JVM's shutdown hooks; embedded servers keep their own", e);
      return null;
    }
  }
}
