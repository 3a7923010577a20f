-- Moves on with every change to how the account is entered (a password, a second factor,
-- a provider, an address). A sign-in inserts its session only while the epoch is still
-- the one it read before checking, so no check made before a change outlives it.
ALTER TABLE users ADD COLUMN credentials_epoch BIGINT NOT NULL DEFAULT 0;

-- The epoch a session began at, and the one a provider's link was made at: only a link
-- made before a session began confirms that session's changes (a link made since could
-- be the session's thief's).
ALTER TABLE sessions ADD COLUMN credentials_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE linked_identities ADD COLUMN linked_epoch BIGINT NOT NULL DEFAULT 0;
