package dev.parley.ingress;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One event loop's share of {@code MAX_MESSAGES_IN_FLIGHT}: the places for messages being handled (rate check,
 * store) on it. A message read when every place is taken waits unstarted, its socket unread, and starts when a
 * place frees; the sockets that wait are served in turn, one place at a time each. An overloaded store then
 * keeps its backlog in TCP, on the clients' side, instead of in the node's memory and Redis's queues.
 * Not thread-safe: used on the event loop's context.
 */
final class MessagePlaces {

  private final int places;
  private int taken;
  /** Handing places out: a message answered meanwhile (synchronously) only gives its place back. */
  private boolean granting;
  private final Set<ChatSocket> waiting = new LinkedHashSet<>();

  MessagePlaces(int places) {
    this.places = places;
  }

  /** Takes a place if one is free; the message gives it back with {@link #settled}. */
  boolean admit() {
    if (taken >= places) {
      return false;
    }
    taken++;
    return true;
  }

  /** {@code socket} has messages waiting for a place. */
  void waitFor(ChatSocket socket) {
    waiting.add(socket);
  }

  void stopWaiting(ChatSocket socket) {
    waiting.remove(socket);
  }

  /** A message admitted is answered: its place goes to the next socket in turn. */
  void settled() {
    taken--;
    if (granting) {
      return;
    }
    granting = true;
    try {
      while (taken < places && !waiting.isEmpty()) {
        ChatSocket next = waiting.iterator().next();
        waiting.remove(next);
        if (!next.startWaiting()) {
          waiting.add(next);
        }
      }
    } finally {
      granting = false;
    }
  }
}
