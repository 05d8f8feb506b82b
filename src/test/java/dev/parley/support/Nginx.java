package dev.parley.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's nginx running the shipped {@code docker/nginx.conf}, changed in two places only: the upstream servers
 * (service names in Compose) become the given loopback ports, and it listens on a free loopback port. Where nginx
 * is missing the tests that need it are skipped, loudly, unless {@code PARLEY_REQUIRE_NGINX=true} (CI sets it).
 */
public final class Nginx implements AutoCloseable {

  public static final Path BINARY = Path.of("/usr/sbin/nginx");
  public static final Path SHIPPED = Path.of("docker", "nginx.conf");
  private static final Pattern UPSTREAM_SERVER = Pattern.compile("server parley-\\d+:8080");

  private final Process process;
  private final List<String> log = new CopyOnWriteArrayList<>();

  private Nginx(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
        lines.lines().forEach(log::add);
      } catch (IOException ignored) {
        // nginx is gone
      }
    }, "nginx-log");
    reader.setDaemon(true);
    reader.start();
  }

  public static boolean available() {
    boolean present = Files.isExecutable(BINARY);
    if (!present) {
      String message = "nginx is missing (" + BINARY + "): install Debian's nginx to test docker/nginx.conf";
      if ("true".equals(System.getenv("PARLEY_REQUIRE_NGINX"))) {
        throw new AssertionError(message);
      }
      System.err.println("\n**********\n* SKIPPING THE NGINX TESTS: " + message + "\n**********\n");
    }
    return present;
  }

  /** The shipped configuration with each upstream server, in order, on one of {@code ports} of 127.0.0.1. */
  public static Path configFor(int listenPort, int... ports) throws IOException {
    String shipped = Files.readString(SHIPPED);
    Matcher servers = UPSTREAM_SERVER.matcher(shipped);
    StringBuilder config = new StringBuilder();
    int index = 0;
    while (servers.find()) {
      servers.appendReplacement(config, "server 127.0.0.1:" + ports[index++]);
    }
    servers.appendTail(config);
    if (index != ports.length) {
      throw new AssertionError("docker/nginx.conf has " + index + " upstream servers, the test " + ports.length);
    }
    String listening = config.toString().replace("listen 8080;", "listen 127.0.0.1:" + listenPort + ";");
    if (listening.equals(config.toString())) {
      throw new AssertionError("docker/nginx.conf no longer says 'listen 8080;'");
    }
    Path dir = TestServices.tempDir("nginx");
    Path file = dir.resolve("nginx.conf");
    Files.writeString(file, listening);
    return file;
  }

  /** {@code nginx -t}: the output, and whether the configuration passed. */
  public static ProcessResult check(Path config) throws IOException, InterruptedException {
    Process test = new ProcessBuilder(BINARY.toString(), "-t", "-p", config.getParent().toString(), "-c",
      config.toString()).redirectErrorStream(true).start();
    String output = new String(test.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new ProcessResult(test.waitFor(), output);
  }

  public record ProcessResult(int exitCode, String output) {
  }

  /** Runs nginx in the foreground of a child process, its pid file beside the configuration. */
  public static Nginx start(Path config) throws IOException {
    Path dir = config.getParent();
    return new Nginx(new ProcessBuilder(BINARY.toString(), "-p", dir.toString(), "-c", config.toString(),
      "-e", "stderr", "-g", "daemon off; pid " + dir.resolve("nginx.pid") + ";")
      .redirectErrorStream(true).start());
  }

  public List<String> log() {
    return log;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
