-- Passkeys and security keys (WebAuthn). `passkey` is webauthn-rs's record of the
-- credential as JSON: its public key, signature counter and backup flags, no secret.
-- The counter and flags are also columns, so the activity log and the list can read them.
CREATE TABLE passkeys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   BLOB    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    passkey         TEXT    NOT NULL,
    counter         INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backup_state    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- A registration or authentication under way: webauthn-rs's state, kept on the server for
-- five minutes under the keyed hash of an id the browser holds, so any instance can finish
-- it. Registrations and the code prompt's are bound to their session; a passwordless
-- sign-in has none yet.
CREATE TABLE webauthn_ceremonies (
    id_hash    BLOB    PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('register', 'second_factor', 'sign_in')),
    session_id INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies (expires_at);
