-- Parley schema, version 5: the audit log of sensitive operations (issue 6), readable by admins.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  -- null for a failed login of an unknown account; actor_email says who was tried
  actor_id    uuid REFERENCES users (id),
  actor_email text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  address     text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
