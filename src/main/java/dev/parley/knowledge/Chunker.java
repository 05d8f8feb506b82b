package dev.parley.knowledge;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Cuts a document's units (paragraphs or CSV records) into chunks of about {@link #TARGET} characters for
 * retrieval. A chunk ends between sentences where it can, and begins with the last sentences of the chunk
 * before (up to {@link #OVERLAP} characters), so a passage that straddles a boundary is still found whole. A
 * sentence longer than a chunk is cut between words.
 */
public final class Chunker {

  static final int TARGET = 1_000;
  static final int OVERLAP = 200;
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?।])\\s+");

  /** A sentence, and whether it begins its unit (then it starts a new line in the chunk). */
  private record Piece(String text, boolean first) {
  }

  private Chunker() {
  }

  public static List<String> chunks(List<String> units) {
    List<Piece> pieces = new ArrayList<>();
    for (String unit : units) {
      boolean first = true;
      for (String sentence : SENTENCE_END.split(unit)) {
        for (String part : split(sentence.strip())) {
          pieces.add(new Piece(part, first));
          first = false;
        }
      }
    }
    List<String> chunks = new ArrayList<>();
    List<Piece> current = new ArrayList<>();
    int length = 0;
    for (Piece piece : pieces) {
      if (length > 0 && length + 1 + piece.text().length() > TARGET) {
        chunks.add(join(current));
        List<Piece> carried = new ArrayList<>();
        int carriedLength = 0;
        for (int i = current.size() - 1; i >= 0 && carriedLength + current.get(i).text().length() <= OVERLAP; i--) {
          carried.add(0, current.get(i));
          carriedLength += current.get(i).text().length() + 1;
        }
        current = carried;
        length = carriedLength;
      }
      current.add(piece);
      length += piece.text().length() + 1;
    }
    if (!current.isEmpty()) {
      chunks.add(join(current));
    }
    return chunks;
  }

  private static String join(List<Piece> pieces) {
    StringBuilder text = new StringBuilder();
    for (Piece piece : pieces) {
      if (text.length() > 0) {
        text.append(piece.first() ? '\n' : ' ');
      }
      text.append(piece.text());
    }
    return text.toString();
  }

  /** Text as parts no longer than TARGET, cut between words (or inside a word longer than TARGET). */
  private static List<String> split(String text) {
    if (text.length() <= TARGET) {
      return text.isEmpty() ? List.of() : List.of(text);
    }
    List<String> parts = new ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int end = Math.min(text.length(), start + TARGET);
      if (end < text.length()) {
        int space = text.lastIndexOf(' ', end);
        if (space > start + TARGET / 2) {
          end = space;
        }
      }
      String part = text.substring(start, end).strip();
      if (!part.isEmpty()) {
        parts.add(part);
      }
      start = end;
    }
    return parts;
  }
}
