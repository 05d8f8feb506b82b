package dev.parley.config;

import java.io.IOException;
import java.net.ServerSocket;

/** Free TCP ports, for settings that say 0 and for embedded servers. */
public final class Ports {

  private Ports() {
  }

  /** A port free right now on every interface; the caller binds it soon after. */
  public static int free() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
