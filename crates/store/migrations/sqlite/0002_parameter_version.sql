-- Parameter values scheduled by the city after the shipped parameter file (SQLite).
-- Keep in lockstep with ../postgres/0002_parameter_version.sql.
CREATE TABLE parameter_version (
    parameter_version_id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    from_date DATE NOT NULL,
    value BIGINT NOT NULL CHECK (value >= 0),
    source TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES app_user (user_id),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (key, from_date)
);
