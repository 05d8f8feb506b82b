-- Parley schema, version 2: the knowledge base the assistant retrieves from, and per-user daily usage
-- (DESIGN.md §3). Filled from issue 4 on.

CREATE TABLE documents (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL REFERENCES users (id),
  -- null: the owner's library; set: a document attached to one conversation
  conversation_id uuid REFERENCES conversations (id),
  filename     text NOT NULL,
  content_type text NOT NULL,
  size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
  sha256       text NOT NULL,
  metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz
);
CREATE INDEX documents_owner ON documents (owner_id) WHERE deleted_at IS NULL;

CREATE TABLE document_chunks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  ordinal     integer NOT NULL,
  content     text NOT NULL,
  -- Full-text search over the chunk, kept up to date by PostgreSQL itself.
  tsv         tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  CONSTRAINT document_chunks_ordinal_key UNIQUE (document_id, ordinal)
);
CREATE INDEX document_chunks_tsv ON document_chunks USING gin (tsv);

CREATE TABLE usage (
  user_id  uuid NOT NULL REFERENCES users (id),
  day      date NOT NULL,
  requests integer NOT NULL DEFAULT 0,
  tokens   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
);
