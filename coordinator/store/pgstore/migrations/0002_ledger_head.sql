-- Schema version 2: the coordinator's privacy-ledger head (the newest
-- entry's sequence number and hash, signed by the coordinator's key), so
-- that a standby taking over can check that the ledger it opened holds
-- everything the previous leader wrote.
CREATE TABLE ledger_head (
	id        integer PRIMARY KEY CHECK (id = 1),
	seq       bigint  NOT NULL CHECK (seq >= 1),
	hash      text    NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
	signature bytea   NOT NULL
);
