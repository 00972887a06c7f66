-- Data availability: the coordinator's own off-chain state, not derived from chain events (and so not part of
-- the rebuild digest, see DERIVED_TABLES). Nothing here carries a chain id: a blob is the same bytes whichever
-- chain commits to it.

-- Every blob put through the coordinator, by content. DA layers prune (EIP-4844 after ~18 days, Celestia's
-- sampling window after 30), the archive does not. It is also the storage of the `local` DA layer.
CREATE TABLE da_archive (
    sha256     TEXT        PRIMARY KEY,   -- 0x-hex of sha256(data)
    size       BIGINT      NOT NULL CHECK (size = octet_length(data)),
    data       BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Where each archived blob was published: one row per DA layer reference (a blob put twice on Celestia has two
-- heights). Results on chain name (kind, commitment); this finds their bytes in the archive.
CREATE TABLE da_refs (
    kind       SMALLINT    NOT NULL,     -- 1 local, 2 celestia (the contract's daKind)
    commitment TEXT        NOT NULL,     -- 0x-hex bytes32
    locator    TEXT        NOT NULL,
    sha256     TEXT        NOT NULL REFERENCES da_archive (sha256) ON DELETE CASCADE,
    size       BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, commitment, locator)
);
CREATE INDEX da_refs_sha256 ON da_refs (sha256, kind);

-- Blobs the primary DA layer refused and the secondary took: `reconcile` puts them on the primary (from the
-- archive) and deletes the row on success.
CREATE TABLE da_pending (
    sha256          TEXT        PRIMARY KEY REFERENCES da_archive (sha256) ON DELETE CASCADE,
    primary_layer   TEXT        NOT NULL,  -- name of the layer that failed, e.g. celestia
    secondary_kind  SMALLINT    NOT NULL,  -- the reference handed out instead
    secondary_commitment TEXT   NOT NULL,
    secondary_locator TEXT      NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,  -- reconcile attempts so far
    last_error      TEXT        NOT NULL,            -- the primary's last error (the put's, then reconcile's)
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_attempt_at TIMESTAMPTZ
);
CREATE INDEX da_pending_created ON da_pending (created_at);
