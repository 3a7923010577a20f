-- Keys that must outlive a change of server key, sealed under the current one. Today:
-- the key that hashes session tokens and recovery codes, which cannot be re-hashed.
CREATE TABLE wrapped_keys (
    purpose     TEXT   PRIMARY KEY,
    sealed_key  BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL
);
