-- A sign-up through a provider that did not prove the person's address. The provider's
-- account waits here, bound to the browser that came back from it by the keyed hash of a
-- cookie, until a link sent to the address the person gives is opened in that browser;
-- only then is the account made, with that address proved.
CREATE TABLE pending_sign_ups (
    binding_hash BLOB    PRIMARY KEY,
    provider_id  TEXT    NOT NULL,
    provider_key TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    -- What the provider said the address is, unproved: only a suggestion for the form.
    email_hint   TEXT    NOT NULL DEFAULT '',
    -- Where the link was sent, and its keyed hash: the last one asked for is the one.
    email        TEXT,
    link_hash    BLOB    UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX pending_sign_ups_expires_at ON pending_sign_ups (expires_at);

-- The link of such a sign-up goes to an address no account has yet: an outbox message
-- may belong to no account. SQLite changes a column's constraint only by a new table.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    sealed_message  BLOB,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    sent_at         INTEGER,
    failed_at       INTEGER
);
INSERT INTO outbox_new (id, user_id, kind, sealed_message, created_at, attempts, next_attempt_at,
                        claimed_until, sent_at, failed_at)
SELECT id, user_id, kind, sealed_message, created_at, attempts, next_attempt_at, claimed_until,
       sent_at, failed_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
