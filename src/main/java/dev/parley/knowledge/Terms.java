package dev.parley.knowledge;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The words of a question that carry its meaning: letters and digits, lower case, without the words every
 * question has (English and Hindi). Search matches any of them and ranks by how many match, so "what causes
 * the tides?" finds a passage about tides that never says "what".
 */
public final class Terms {

  private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{M}\\p{N}]+");
  private static final Set<String> STOPWORDS = Set.of("the", "and", "for", "are", "was", "were", "what", "when",
    "where", "which", "who", "whom", "why", "how", "does", "did", "can", "could", "would", "should", "with",
    "about", "from", "that", "this", "these", "those", "there", "their", "have", "has", "had", "you", "your",
    "tell", "please", "is", "of", "to", "in", "on", "a", "an", "it", "be", "do", "me", "my", "we", "our", "or",
    "not", "any", "some", "will", "shall", "may", "might", "its", "into", "than", "then", "them", "they", "i",
    "क्या", "है", "हैं", "का", "की", "के", "में", "से", "को", "और", "या", "यह", "वह", "कैसे", "क्यों", "कब", "कहाँ",
    "कौन", "मुझे", "बताइए", "बताओ", "kya", "hai", "ka", "ki", "ke", "mein", "se", "ko", "aur", "kaise", "kyun");

  private Terms() {
  }

  public static Set<String> significant(String text) {
    Set<String> all = new LinkedHashSet<>();
    Set<String> significant = new LinkedHashSet<>();
    Matcher words = WORD.matcher(text.toLowerCase(Locale.ROOT));
    while (words.find()) {
      String word = words.group();
      all.add(word);
      if (!STOPWORDS.contains(word) && (word.length() > 2 || !word.chars().allMatch(Character::isLetter))) {
        significant.add(word);
      }
    }
    return significant.isEmpty() ? all : significant;
  }

  /** The question as a {@code websearch_to_tsquery} of its significant words, any of which may match. */
  public static String anyOf(String text) {
    return String.join(" or ", significant(text));
  }
}
