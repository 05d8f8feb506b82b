package dev.parley.assistant;

/** Token counts where a provider reports none: about four characters a token, as the vendors' own rule of thumb. */
final class Tokens {

  private Tokens() {
  }

  static long estimate(String text) {
    return text == null || text.isEmpty() ? 0 : Math.max(1, (text.length() + 3) / 4);
  }
}
