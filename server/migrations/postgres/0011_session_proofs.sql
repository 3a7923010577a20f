-- When each way of proving the person last succeeded in the session (Unix seconds), or
-- NULL if it never did: what an app that signs in through Gatehouse is told (`amr`,
-- `acr`, `auth_time`) and what a step-up asks for.
ALTER TABLE sessions ADD COLUMN password_at BIGINT;
ALTER TABLE sessions ADD COLUMN provider_at BIGINT;
ALTER TABLE sessions ADD COLUMN totp_at BIGINT;
ALTER TABLE sessions ADD COLUMN recovery_code_at BIGINT;
ALTER TABLE sessions ADD COLUMN passkey_at BIGINT;
ALTER TABLE sessions ADD COLUMN device_at BIGINT;

-- Sessions from before: only the first factor is known, at the time the session began
-- (for a two-factor session, when its code was accepted). An app that needs more asks for
-- the second step again.
UPDATE sessions SET password_at = created_at WHERE first_factor = 'password';
UPDATE sessions SET passkey_at = created_at WHERE first_factor = 'passkey';
UPDATE sessions SET provider_at = created_at WHERE first_factor NOT IN ('password', 'passkey');
