-- Parley schema, version 4: whether a conversation's assistant mode was chosen, or is its creator's default.
-- A default of 'always' (a conversation started with the assistant) becomes 'mention' once the room has several
-- members; a chosen mode never changes by itself. Existing conversations count as chosen.
ALTER TABLE conversations ADD COLUMN assistant_mode_chosen boolean NOT NULL DEFAULT true;
