-- One index fewer on the hottest table. A log's position (chain id, block number, log index) becomes the raw
-- log's primary key, and the separate key on (chain id, block hash, log index) goes: a block hash names exactly
-- one block number, so two rows with the same hash and log index would share a position, and the position key
-- already refuses them. Exactly-once holds as before; every COPY into raw_events maintains two indexes instead
-- of three.
ALTER TABLE raw_events DROP CONSTRAINT raw_events_pkey;
ALTER TABLE raw_events ADD CONSTRAINT raw_events_pkey PRIMARY KEY USING INDEX raw_events_position;
