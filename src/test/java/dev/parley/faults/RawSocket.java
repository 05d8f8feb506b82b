package dev.parley.faults;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

/**
 * A WebSocket spoken byte by byte over a plain socket, for frames no well-behaved client library would send:
 * oversized single frames, reserved bits set (a compressed frame nobody negotiated). Blocking; for tests.
 */
final class RawSocket implements AutoCloseable {

  static final int OPCODE_TEXT = 0x1;
  static final int OPCODE_CLOSE = 0x8;
  private static final Random MASKS = new Random(11);

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  /** The upgrade's answer: status line and headers. */
  final String handshake;

  private RawSocket(Socket socket, String handshake) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
    this.handshake = handshake;
  }

  /** Upgrades {@code path} with the given extra header lines (each ending in CRLF). */
  static RawSocket open(int port, String path, String extraHeaders) throws IOException {
    return open(port, path, extraHeaders, 0);
  }

  /** @param receiveBuffer the TCP receive buffer, 0 for the default: a small one makes a reader that stops slow */
  static RawSocket open(int port, String path, String extraHeaders, int receiveBuffer) throws IOException {
    Socket socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(10_000);
    byte[] nonce = new byte[16];
    MASKS.nextBytes(nonce);
    String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
      + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
      + Base64.getEncoder().encodeToString(nonce) + "\r\n" + extraHeaders + "\r\n";
    socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("closed during the upgrade: " + head);
      }
      head.write(b);
    }
    return new RawSocket(socket, head.toString(StandardCharsets.US_ASCII));
  }

  boolean upgraded() {
    return handshake.startsWith("HTTP/1.1 101");
  }

  /** Writes one frame, masked as a client must: {@code rsv1} set claims it is compressed. */
  void frame(int opcode, boolean rsv1, byte[] payload) throws IOException {
    ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
    frame.write(0x80 | (rsv1 ? 0x40 : 0) | opcode);
    if (payload.length < 126) {
      frame.write(0x80 | payload.length);
    } else if (payload.length < 65_536) {
      frame.write(0x80 | 126);
      frame.write(payload.length >>> 8);
      frame.write(payload.length & 0xff);
    } else {
      frame.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.write((int) ((long) payload.length >>> shift) & 0xff);
      }
    }
    byte[] mask = new byte[4];
    MASKS.nextBytes(mask);
    frame.write(mask);
    byte[] masked = new byte[payload.length];
    for (int i = 0; i < payload.length; i++) {
      masked[i] = (byte) (payload[i] ^ mask[i & 3]);
    }
    frame.write(masked);
    out.write(frame.toByteArray());
    out.flush();
  }

  /** Writes one text frame. */
  void text(String text) throws IOException {
    frame(OPCODE_TEXT, false, text.getBytes(StandardCharsets.UTF_8));
  }

  /** A frame from the server (never masked). */
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }
  }

  /** The next frame, or null when the connection has ended. */
  Frame read() throws IOException {
    int first = in.read();
    int second = in.read();
    if (first < 0 || second < 0) {
      return null;
    }
    long length = second & 0x7f;
    if (length == 126) {
      length = (in.read() << 8) | in.read();
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; i++) {
        length = (length << 8) | in.read();
      }
    }
    return new Frame(first & 0x0f, in.readNBytes((int) length));
  }

  /**
   * Reads frames until a close frame and returns its status code; -1 if the connection ends without one (a write
   * of ours may fail once the server has closed: that counts as ended).
   */
  int awaitClose() throws IOException {
    try {
      for (Frame frame = read(); frame != null; frame = read()) {
        if (frame.opcode() == OPCODE_CLOSE) {
          return frame.closeCode();
        }
      }
      return -1;
    } catch (SocketTimeoutException | java.net.SocketException ended) {
      return -1;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
