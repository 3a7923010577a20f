-- Social sign-in. An account is found by the provider's subject, never by email.
-- `provider_key` is the OIDC issuer, or the provider's id for GitHub and Facebook.
CREATE TABLE linked_identities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id  TEXT    NOT NULL,
    provider_key TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    linked_at    INTEGER NOT NULL,
    UNIQUE (provider_key, subject),
    UNIQUE (user_id, provider_id)
);

-- One sign-in round trip to a provider: single-use, ten minutes, bound to the browser
-- that began it by the hash of a cookie, and for links and confirmations to a session.
CREATE TABLE social_flows (
    state_hash    BLOB    PRIMARY KEY,
    binding_hash  BLOB    NOT NULL,
    provider_id   TEXT    NOT NULL,
    purpose       TEXT    NOT NULL CHECK (purpose IN ('sign_in', 'link', 'reauth')),
    session_id    INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    pkce_verifier TEXT    NOT NULL,
    nonce         TEXT    NOT NULL,
    next          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX social_flows_expires_at ON social_flows (expires_at);

-- An account made through a provider has no password: its hash is the empty string.
-- When this session last proved its person again at a provider (instead of a password).
ALTER TABLE sessions ADD COLUMN reauthenticated_at INTEGER;
-- Set once Gatehouse has proved the address; until then no provider may link by email.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
-- What the session's person proved first: "password", or the provider's name.
ALTER TABLE sessions ADD COLUMN first_factor TEXT NOT NULL DEFAULT 'password';
