-- A new set of recovery codes on its way from the POST that made it to the page that
-- shows it, for browsers without JavaScript. Sealed, bound to one session, short-lived.
CREATE TABLE code_handoffs (
    session_id   BIGINT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    sealed_codes BYTEA  NOT NULL,
    generated_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
