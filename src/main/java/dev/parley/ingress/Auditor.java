package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.bus.StoreClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the audit log of sensitive operations (README, "Operations"): who, what, when, from which address.
 * Entries are written after the operation succeeded; a failure to write one is logged, and never fails the
 * operation itself.
 */
final class Auditor {

  private static final Logger LOG = LoggerFactory.getLogger(Auditor.class);

  static final String LOGIN = "login";
  static final String LOGIN_FAILED = "login.failed";
  static final String REGISTERED = "account.registered";
  static final String ROLE_GRANTED = "role.granted";
  static final String MEMBER_ADDED = "member.added";
  static final String MEMBER_REMOVED = "member.removed";
  static final String CONVERSATION_DELETED = "conversation.deleted";
  static final String MESSAGE_DELETED = "message.deleted";
  static final String DOCUMENT_UPLOADED = "document.uploaded";
  static final String DOCUMENT_DELETED = "document.deleted";

  private final StoreClient store;

  Auditor(StoreClient store) {
    this.store = store;
  }

  /** An operation of the authenticated caller. */
  void record(RoutingContext ctx, String action, String targetType, String targetId, JsonObject details) {
    AuthenticatedUser user = Authenticator.user(ctx);
    record(ctx, user == null ? null : user.id(), null, action, targetType, targetId, details);
  }

  /** An operation of a given account, or (with {@code userId} null) of whoever tried {@code email}. */
  void record(RoutingContext ctx, String userId, String email, String action, String targetType, String targetId,
              JsonObject details) {
    SocketAddress from = ctx.request().remoteAddress();
    store.audit(userId, email, action, targetType, targetId, from == null ? null : from.hostAddress(), details)
      .onFailure(failure -> LOG.warn("audit entry {} not written: {}", action, failure.getMessage()));
  }
}
