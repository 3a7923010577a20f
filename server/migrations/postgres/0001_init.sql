CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   BYTEA   NOT NULL UNIQUE,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage        TEXT    NOT NULL CHECK (stage IN ('pending_second_factor', 'full')),
    failed_codes BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE totp_credentials (
    user_id        BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret  BYTEA   NOT NULL,
    last_used_step BIGINT,
    enabled_at     BIGINT  NOT NULL
);

CREATE TABLE totp_enrollments (
    session_id    BIGINT  PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    sealed_secret BYTEA   NOT NULL,
    expires_at    BIGINT  NOT NULL
);

CREATE TABLE recovery_codes (
    id        BIGSERIAL PRIMARY KEY,
    user_id   BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BYTEA   NOT NULL,
    used_at   BIGINT,
    UNIQUE (user_id, code_hash)
);

CREATE TABLE throttle (
    key          TEXT    PRIMARY KEY,
    failures     BIGINT  NOT NULL DEFAULT 0,
    lockouts     BIGINT  NOT NULL DEFAULT 0,
    locked_until BIGINT  NOT NULL DEFAULT 0,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE security_events (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX security_events_user_at ON security_events (user_id, at DESC, id DESC);
