package dev.parley.auth;

import java.util.List;

/** Who a verified token speaks for. */
public record AuthenticatedUser(String id, String email, String displayName, List<String> roles) {
}
