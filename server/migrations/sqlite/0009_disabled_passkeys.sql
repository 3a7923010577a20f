-- A passkey whose signature counter went backwards (a sign that it was copied) is
-- disabled rather than removed: it is refused for every purpose, but stays in the list,
-- saying why, and keeps the account's second step until its owner removes it.
ALTER TABLE passkeys ADD COLUMN disabled_at INTEGER;
