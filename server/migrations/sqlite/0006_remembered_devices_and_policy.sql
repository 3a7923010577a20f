-- "Remember this device for 30 days": a random token in its own cookie, stored only as
-- a keyed hash and good for one account. It skips the second step, never the first.
CREATE TABLE remembered_devices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB    NOT NULL UNIQUE,
    user_agent   TEXT    NOT NULL,
    ip           TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX remembered_devices_user_id ON remembered_devices (user_id);

-- Set by `server admin require-2fa EMAIL`: this account must use two-factor
-- authentication (`--require-two-factor` asks it of every account).
ALTER TABLE users ADD COLUMN two_factor_required INTEGER NOT NULL DEFAULT 0;
