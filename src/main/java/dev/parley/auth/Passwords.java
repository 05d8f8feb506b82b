package dev.parley.auth;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;

import java.nio.charset.StandardCharsets;

/**
 * bcrypt password hashing. Passwords longer than bcrypt's 72-byte input are pre-hashed with SHA-512 rather
 * than silently truncated. Both methods burn CPU on purpose: call them off the event loop.
 */
public final class Passwords {

  private static final BCrypt.Version VERSION = BCrypt.Version.VERSION_2B;
  private static final BCrypt.Hasher HASHER = BCrypt.with(VERSION, LongPasswordStrategies.hashSha512(VERSION));
  private static final BCrypt.Verifyer VERIFYER = BCrypt.verifyer(VERSION, LongPasswordStrategies.hashSha512(VERSION));

  private final int cost;
  /** Checked against when the account does not exist, so a login takes as long either way. */
  private final String decoy;

  public Passwords(int cost) {
    this.cost = cost;
    this.decoy = hash("decoy password for unknown accounts");
  }

  public String hash(String password) {
    return HASHER.hashToString(cost, password.toCharArray());
  }

  /**
   * @param hash null when the account does not exist, or not a bcrypt hash (a bot's account): the decoy is
   *             checked and false returned
   */
  public boolean verify(String password, String hash) {
    byte[] input = password.getBytes(StandardCharsets.UTF_8);
    if (hash == null || !hash.startsWith("$2")) {
      VERIFYER.verify(input, decoy.getBytes(StandardCharsets.UTF_8));
      return false;
    }
    return VERIFYER.verify(input, hash.getBytes(StandardCharsets.UTF_8)).verified;
  }
}
