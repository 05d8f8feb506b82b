package dev.parley.auth;

import java.util.List;

/** Who a verified token speaks for, and until when (epoch seconds of its {@code exp}). */
public record AuthenticatedUser(String id, String email, String displayName, List<String> roles, long expiresAt) {
}
