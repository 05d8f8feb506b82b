package dev.parley.assistant;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Intent routing: small talk (greetings, thanks, confirmations, in English and Hindi, in Devanagari or in Latin
 * letters) is answered at once, without retrieval and without a model; everything else is a question.
 */
final class Intents {

  enum Intent {
    GREETING, THANKS, CONFIRMATION, QUESTION;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final Pattern MENTION = Pattern.compile("(?i)@assistant\\b");
  private static final Pattern GREETING = Pattern.compile("^(hi|hello|hey|hiya|howdy|yo|greetings|good (morning|afternoon"
    + "|evening|day)|namaste|namaskar|namaskaar|नमस्ते|नमस्कार|प्रणाम|राम राम|hello ji|hi ji)( (there|all|everyone|"
    + "assistant|friend|ji|जी))?$");
  private static final Pattern THANKS = Pattern.compile("^((many )?thanks?( you)?( (so|very) much| a lot| again)?|"
    + "thx|ty|cheers|much appreciated|dhanyavad|dhanyavaad|dhanyawad|shukriya|bahut shukriya|धन्यवाद|शुक्रिया|"
    + "बहुत धन्यवाद|बहुत शुक्रिया)( (ji|जी))?$");
  private static final Pattern CONFIRMATION = Pattern.compile("^(ok|okay|k|yes|yep|yeah|sure|got it|great|cool|"
    + "perfect|sounds good|alright|all right|fine|understood|noted|haan|han|haa|ji haan|theek hai|thik hai|"
    + "achha|accha|acha|ठीक है|हाँ|हां|जी हाँ|अच्छा|समझ गया|समझ गई)( (ji|जी|thanks|thank you))?$");
  private static final Pattern DEVANAGARI = Pattern.compile("[\\u0900-\\u097F]");
  private static final Pattern HINDI_LATIN = Pattern.compile("\\b(namaste|namaskar|namaskaar|dhanyavad|dhanyavaad|"
    + "dhanyawad|shukriya|haan|theek|thik|achha|accha|acha|ji)\\b");

  private Intents() {
  }

  /** The question without the {@code @assistant} that called for it. */
  static String question(String message) {
    return MENTION.matcher(message).replaceAll(" ").strip();
  }

  static Intent classify(String message) {
    String text = normalized(message);
    if (GREETING.matcher(text).matches()) {
      return Intent.GREETING;
    }
    if (THANKS.matcher(text).matches()) {
      return Intent.THANKS;
    }
    if (CONFIRMATION.matcher(text).matches()) {
      return Intent.CONFIRMATION;
    }
    return Intent.QUESTION;
  }

  /** The instant reply to small talk, in Hindi when that is what was written. */
  static String reply(Intent intent, String message) {
    String text = normalized(message);
    boolean hindi = DEVANAGARI.matcher(text).find() || HINDI_LATIN.matcher(text).find();
    return switch (intent) {
      case GREETING -> hindi ? "नमस्ते! आप अपने दस्तावेज़ों के बारे में कुछ भी पूछ सकते हैं।"
        : "Hello! Ask me anything about the documents of this conversation.";
      case THANKS -> hindi ? "आपका स्वागत है! कुछ और पूछना हो तो बताइए।" : "You're welcome! Anything else?";
      case CONFIRMATION -> hindi ? "ठीक है। कुछ और चाहिए तो पूछिए।" : "Great. Ask me whenever you need something.";
      case QUESTION -> throw new IllegalArgumentException("a question is answered, not replied to");
    };
  }

  /** Lower case, the mention and punctuation gone, white space folded. */
  private static String normalized(String message) {
    return question(message).toLowerCase(Locale.ROOT)
      .replaceAll("[\\p{Punct}।॥…“”‘’!?¡¿]+", " ")
      .replaceAll("\\s+", " ").strip();
  }
}
