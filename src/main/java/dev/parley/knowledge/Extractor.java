package dev.parley.knowledge;

import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.io.MemoryUsageSetting;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.text.PDFTextStripper;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Text out of an uploaded file. The type is decided by the content, never by the name: a file that starts
 * like a PDF is read as one (Apache PDFBox); anything else must be UTF-8 text, read as CSV records when its name
 * ends in {@code .csv}, else as plain text or Markdown. A binary file, an encrypted or broken PDF, or malformed
 * CSV is INVALID_INPUT. Blocking: run it on a worker.
 */
public final class Extractor {

  public static final String PDF = "application/pdf";
  public static final String CSV = "text/csv";
  public static final String MARKDOWN = "text/markdown";
  public static final String TEXT = "text/plain";
  /** A PDF with more pages than this is refused rather than read for minutes. */
  private static final int MAX_PAGES = 2_000;
  /** The most text one document may yield. */
  private static final int MAX_CHARS = 5_000_000;
  private static final long PDF_MEMORY_BYTES = 32L * 1024 * 1024;

  /** What a file yields: its real type and its text, one unit (paragraph, or CSV record) per list entry. */
  public record Extracted(String contentType, List<String> units) {
  }

  private Extractor() {
  }

  public static Extracted extract(byte[] bytes, String filename) {
    if (startsWith(bytes, "%PDF-")) {
      return new Extracted(PDF, paragraphs(pdfText(bytes)));
    }
    String text = utf8(bytes);
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    String name = filename == null ? "" : filename.toLowerCase(Locale.ROOT);
    if (name.endsWith(".csv")) {
      return new Extracted(CSV, records(text));
    }
    return new Extracted(name.endsWith(".md") || name.endsWith(".markdown") ? MARKDOWN : TEXT, paragraphs(text));
  }

  private static String pdfText(byte[] bytes) {
    // Decoded streams beyond PDF_MEMORY_BYTES go to a temporary file, not the heap: a small file of compressed
    // streams cannot exhaust the node's memory.
    try (PDDocument pdf = Loader.loadPDF(bytes, "", null, null,
      MemoryUsageSetting.setupMixed(PDF_MEMORY_BYTES).streamCache)) {
      if (pdf.getNumberOfPages() > MAX_PAGES) {
        throw new ParleyException(ErrorCode.TOO_LARGE, "a PDF may have at most " + MAX_PAGES + " pages");
      }
      PDFTextStripper stripper = new PDFTextStripper();
      stripper.setEndPage(MAX_PAGES);
      return limited(stripper.getText(pdf));
    } catch (InvalidPasswordException e) {
      throw ParleyException.invalid("the PDF is encrypted; upload it without a password");
    } catch (IOException | RuntimeException e) {
      if (e instanceof ParleyException parley) {
        throw parley;
      }
      throw ParleyException.invalid("the file looks like a PDF but cannot be read");
    }
  }

  private static String utf8(byte[] bytes) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw ParleyException.invalid("unsupported file: upload a PDF, or text (.txt, .md, .csv) in UTF-8");
    }
    if (text.indexOf('\u0000') >= 0) {
      throw ParleyException.invalid("unsupported file: it is binary, not text");
    }
    return limited(text);
  }

  private static String limited(String text) {
    if (text.length() > MAX_CHARS) {
      throw new ParleyException(ErrorCode.TOO_LARGE, "a document may hold at most " + MAX_CHARS + " characters of text");
    }
    return text;
  }

  /** Paragraphs (blank-line separated), with runs of white space folded. */
  static List<String> paragraphs(String text) {
    List<String> units = new ArrayList<>();
    for (String paragraph : text.replace("\r\n", "\n").split("\n\\s*\n")) {
      String folded = paragraph.replaceAll("\\s+", " ").strip();
      if (!folded.isEmpty()) {
        units.add(folded);
      }
    }
    return units;
  }

  /** One unit per record, as "column: value" pairs, so a chunk keeps the meaning of every cell. */
  private static List<String> records(String text) {
    CSVFormat format = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).setIgnoreEmptyLines(true)
      .setTrim(true).get();
    List<String> units = new ArrayList<>();
    try (CSVParser parser = CSVParser.parse(new StringReader(text), format)) {
      List<String> header = parser.getHeaderNames();
      for (CSVRecord record : parser) {
        StringBuilder unit = new StringBuilder();
        for (int i = 0; i < record.size(); i++) {
          String column = i < header.size() && !header.get(i).isEmpty() ? header.get(i) : "column " + (i + 1);
          if (!record.get(i).isEmpty()) {
            unit.append(unit.length() == 0 ? "" : "; ").append(column).append(": ").append(record.get(i));
          }
        }
        if (unit.length() > 0) {
          units.add(unit.toString());
        }
      }
    } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
      throw ParleyException.invalid("the CSV cannot be read: check its quotes and that the first line names the "
        + "columns once each");
    }
    return units;
  }

  private static boolean startsWith(byte[] bytes, String prefix) {
    byte[] magic = prefix.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (bytes[i] != magic[i]) {
        return false;
      }
    }
    return true;
  }
}
