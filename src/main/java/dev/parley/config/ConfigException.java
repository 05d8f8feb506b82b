package dev.parley.config;

/**
 * A configuration the node cannot run with: an invalid value, or a server named by it that cannot be used.
 * The message names the key, so the operator knows what to fix; it is logged without a stack trace.
 */
public final class ConfigException extends RuntimeException {

  public ConfigException(String key, String problem) {
    super("invalid configuration " + key + ": " + problem, null, false, false);
  }
}
