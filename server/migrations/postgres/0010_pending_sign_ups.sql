-- A sign-up through a provider that did not prove the person's address. The provider's
-- account waits here, bound to the browser that came back from it by the keyed hash of a
-- cookie, until a link sent to the address the person gives is opened in that browser;
-- only then is the account made, with that address proved.
CREATE TABLE pending_sign_ups (
    binding_hash BYTEA   PRIMARY KEY,
    provider_id  TEXT    NOT NULL,
    provider_key TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    -- What the provider said the address is, unproved: only a suggestion for the form.
    email_hint   TEXT    NOT NULL DEFAULT '',
    -- Where the link was sent, and its keyed hash: the last one asked for is the one.
    email        TEXT,
    link_hash    BYTEA   UNIQUE,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX pending_sign_ups_expires_at ON pending_sign_ups (expires_at);

-- The link of such a sign-up goes to an address no account has yet: an outbox message
-- may belong to no account.
ALTER TABLE outbox ALTER COLUMN user_id DROP NOT NULL;
