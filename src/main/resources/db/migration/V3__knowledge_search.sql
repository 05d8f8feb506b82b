-- Parley schema, version 3: the knowledge base as the assistant searches it (issue 4).
-- Full-text search in the configuration SEARCH_LANGUAGE (default 'simple': every language alike, no stemming),
-- trigram similarity as the fallback for short or misspelled queries.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE documents ADD COLUMN title text NOT NULL DEFAULT '';
-- Uploaded by an admin for everyone: every user's assistant may read it.
ALTER TABLE documents ADD COLUMN global boolean NOT NULL DEFAULT false;
CREATE INDEX documents_conversation ON documents (conversation_id) WHERE deleted_at IS NULL;
CREATE INDEX documents_global ON documents (id) WHERE deleted_at IS NULL AND global;
CREATE INDEX documents_same_file ON documents (owner_id, sha256) WHERE deleted_at IS NULL;

ALTER TABLE document_chunks DROP COLUMN tsv;
ALTER TABLE document_chunks ADD COLUMN tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('${searchLanguage}'::regconfig, content)) STORED;
CREATE INDEX document_chunks_tsv ON document_chunks USING gin (tsv);
CREATE INDEX document_chunks_trgm ON document_chunks USING gin (content gin_trgm_ops);
CREATE INDEX document_chunks_document ON document_chunks (document_id);
