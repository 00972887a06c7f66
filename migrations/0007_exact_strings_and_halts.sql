-- Strings from the chain are kept exactly (see src/text.rs): `text` columns cannot hold NUL, and no text can hold
-- bytes that are not UTF-8. Beside each chain string, the exact bytes when the text is not them (NULL otherwise).
-- Rows indexed before this migration keep the replaced text; `accord rebuild --replace` re-indexes them exactly.
ALTER TABLE jobs ADD COLUMN spec_uri_raw BYTEA;
ALTER TABLE results ADD COLUMN locator_raw BYTEA;
ALTER TABLE workers ADD COLUMN metadata_uri_raw BYTEA;
ALTER TABLE proposals ADD COLUMN description_raw BYTEA;
ALTER TABLE votes ADD COLUMN reason_raw BYTEA;

-- Why indexing halted (a reorg deeper than the reorg window), as the JSON `/v1/status` shows under `halted`; NULL
-- while indexing. Standby and API-only replicas read it, so every replica refuses readiness while the index halts.
ALTER TABLE indexer_cursor ADD COLUMN halted JSON;
