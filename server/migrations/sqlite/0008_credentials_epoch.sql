-- Moves on with every change to how the account is entered (a password, a second factor,
-- a provider, an address). A sign-in inserts its session only while the epoch is still
-- the one it read before checking, so no check made before a change outlives it.
ALTER TABLE users ADD COLUMN credentials_epoch INTEGER NOT NULL DEFAULT 0;
