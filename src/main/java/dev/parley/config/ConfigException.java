package dev.parley.config;

/** An invalid configuration value: the message names the key, so the operator knows what to fix. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String key, String problem) {
    super("invalid configuration " + key + ": " + problem);
  }
}
