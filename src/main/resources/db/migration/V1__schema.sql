-- Parley schema, version 1: accounts, conversations, members and messages (DESIGN.md §3).

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  display_name  text NOT NULL,
  password_hash text NOT NULL,
  roles         text[] NOT NULL DEFAULT ARRAY['user'],
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are compared case-insensitively: Bob@x.org and bob@x.org are one account.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE conversations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id        uuid NOT NULL REFERENCES users (id),
  title           text NOT NULL,
  assistant_mode  text NOT NULL DEFAULT 'mention' CHECK (assistant_mode IN ('always', 'mention', 'off')),
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_seq        bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  last_message_at timestamptz,
  deleted_at      timestamptz
);

CREATE TABLE conversation_members (
  conversation_id uuid NOT NULL REFERENCES conversations (id),
  user_id         uuid NOT NULL REFERENCES users (id),
  role            text NOT NULL CHECK (role IN ('owner', 'member')),
  joined_at       timestamptz NOT NULL DEFAULT now(),
  last_read_seq   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
-- "My conversations" starts from the member side.
CREATE INDEX conversation_members_user ON conversation_members (user_id, conversation_id);

CREATE TABLE messages (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL REFERENCES conversations (id),
  seq             bigint NOT NULL,
  sender_id       uuid REFERENCES users (id),
  role            text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content         text NOT NULL,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  client_msg_id   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  edited_at       timestamptz,
  deleted_at      timestamptz,
  CONSTRAINT messages_seq_key UNIQUE (conversation_id, seq),
  CONSTRAINT messages_client_msg_id_key UNIQUE (conversation_id, sender_id, client_msg_id)
);
-- The constraint above treats every NULL sender as different: messages without a sender (assistant, system,
-- bots) are kept idempotent by clientMsgId here.
CREATE UNIQUE INDEX messages_client_msg_id_no_sender_key ON messages (conversation_id, client_msg_id)
  WHERE sender_id IS NULL AND client_msg_id IS NOT NULL;
