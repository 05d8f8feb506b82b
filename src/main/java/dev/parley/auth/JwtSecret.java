package dev.parley.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Where the HS256 key comes from: {@code JWT_SECRET} when set (validated to be at least 32 bytes), otherwise
 * a random key generated once into {@code DATA_DIR/jwt-secret} and reused on every start. Blocking.
 */
public final class JwtSecret {

  private static final Logger LOG = LoggerFactory.getLogger(JwtSecret.class);
  public static final String FILE_NAME = "jwt-secret";

  private JwtSecret() {
  }

  public static String resolve(String configured, Path dataDir) throws IOException {
    if (configured != null) {
      return configured;
    }
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      String secret = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (secret.getBytes(StandardCharsets.UTF_8).length >= 32) {
        LOG.warn("JWT_SECRET is not set: using the key kept in {}. Set JWT_SECRET, the same on every node, "
          + "before running more than one node", file);
        return secret;
      }
      LOG.warn("{} holds a key shorter than 32 bytes: generating a new one", file);
    }
    byte[] random = new byte[48];
    new SecureRandom().nextBytes(random);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Files.createDirectories(dataDir);
    Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system: the file keeps the default permissions
    }
    LOG.warn("JWT_SECRET is not set: generated a key into {}. Set JWT_SECRET, the same on every node, "
      + "before running more than one node", file);
    return secret;
  }
}
