-- Social sign-in. An account is found by the provider's subject, never by email.
-- `provider_key` is the OIDC issuer, or the provider's id for GitHub and Facebook.
CREATE TABLE linked_identities (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id  TEXT    NOT NULL,
    provider_key TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    linked_at    BIGINT  NOT NULL,
    UNIQUE (provider_key, subject),
    UNIQUE (user_id, provider_id)
);

-- One sign-in round trip to a provider: single-use, ten minutes, bound to the browser
-- that began it by the hash of a cookie, and for links and confirmations to a session.
CREATE TABLE social_flows (
    state_hash    BYTEA    PRIMARY KEY,
    binding_hash  BYTEA    NOT NULL,
    provider_id   TEXT    NOT NULL,
    purpose       TEXT    NOT NULL CHECK (purpose IN ('sign_in', 'link', 'reauth')),
    session_id    BIGINT  REFERENCES sessions (id) ON DELETE CASCADE,
    pkce_verifier TEXT    NOT NULL,
    nonce         TEXT    NOT NULL,
    next          TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);
CREATE INDEX social_flows_expires_at ON social_flows (expires_at);

-- An account made through a provider has no password: its hash is the empty string.
-- When this session last proved its person again at a provider (instead of a password).
ALTER TABLE sessions ADD COLUMN reauthenticated_at BIGINT;
-- Set once Gatehouse has proved the address; until then no provider may link by email.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
-- What the session's person proved first: "password", or the provider's name.
ALTER TABLE sessions ADD COLUMN first_factor TEXT NOT NULL DEFAULT 'password';
