-- Mail waiting to be sent, written in the same transaction as the change that causes it.
-- The message (it may hold a single-use link) is sealed under the server key, and dropped
-- once sent or given up on.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    sealed_message  BYTEA,
    created_at      BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    claimed_until   BIGINT  NOT NULL DEFAULT 0,
    sent_at         BIGINT,
    failed_at       BIGINT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Single-use links for verifying an address, resetting a password and changing the
-- address, stored only as keyed hashes.
CREATE TABLE email_tokens (
    token_hash BYTEA    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('verify', 'reset', 'change_email')),
    email      TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX email_tokens_user_id ON email_tokens (user_id);
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);
