package dev.parley.support;

import dev.parley.support.Api.Reply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions about API answers that several test classes make. */
public final class Expect {

  private Expect() {
  }

  /** A 400 INVALID_INPUT whose message names the field. */
  public static void invalid(Reply reply, String field) {
    assertEquals(400, reply.status(), reply.text());
    assertEquals("INVALID_INPUT", reply.errorCode());
    assertTrue(reply.errorMessage().contains(field), "names " + field + ": " + reply.errorMessage());
  }
}
