package dev.parley.support;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Hand-made JWTs, for tests that must present tokens Parley would never issue. */
public final class Jwts {

  private Jwts() {
  }

  public static JsonObject claims(String subject, long expiresAtEpochSeconds) {
    return new JsonObject().put("sub", subject).put("iss", "parley").put("aud", "parley")
      .put("iat", System.currentTimeMillis() / 1000 - 60).put("exp", expiresAtEpochSeconds);
  }

  public static String hs256(JsonObject claims, String secret) {
    String unsigned = part(new JsonObject().put("alg", "HS256").put("typ", "JWT")) + "." + part(claims);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] signature = mac.doFinal(unsigned.getBytes(StandardCharsets.UTF_8));
      return unsigned + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** An unsigned token: {@code alg: none} with an empty signature. */
  public static String none(JsonObject claims) {
    return part(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + part(claims) + ".";
  }

  private static String part(JsonObject json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }
}
