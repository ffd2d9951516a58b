-- fedb2b coordinator state, schema version 1. Records are the JSON
-- envelopes of package store (format version inside, checked on read);
-- the key columns beside them are what queries select on.
CREATE TABLE models (
	version integer PRIMARY KEY CHECK (version >= 0),
	sha256  text    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	size    bigint  NOT NULL CHECK (size >= 0),
	created timestamptz NOT NULL,
	blob    bytea   NOT NULL
);

CREATE TABLE rounds (
	round   integer  NOT NULL CHECK (round >= 0),
	attempt integer  NOT NULL CHECK (attempt >= 0),
	outcome smallint NOT NULL,
	rec     text     NOT NULL,
	PRIMARY KEY (round, attempt)
);
CREATE INDEX rounds_running ON rounds (outcome) WHERE outcome = 0;

CREATE TABLE sessions (
	id      text    PRIMARY KEY,
	round   integer NOT NULL,
	attempt integer NOT NULL
);

CREATE TABLE tenants (
	name text PRIMARY KEY,
	rec  text NOT NULL
);

CREATE TABLE tasks (
	id  text PRIMARY KEY,
	rec text NOT NULL
);

-- The leader lease: one row. epoch is the fencing token, raised by every
-- takeover; a write transaction commits only while its writer's epoch is
-- the row's and the lease has not expired (database clock).
CREATE TABLE lease (
	id      integer PRIMARY KEY CHECK (id = 1),
	epoch   bigint  NOT NULL,
	holder  text    NOT NULL,
	address text    NOT NULL,
	expires timestamptz NOT NULL
);
INSERT INTO lease VALUES (1, 0, '', '', 'epoch');
