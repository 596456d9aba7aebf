-- Roster imports from .xlsx and their error reports (SQLite). Keep in lockstep with
-- ../postgres/0005_roster_import.sql.
CREATE TABLE roster_import (
    roster_import_id INTEGER PRIMARY KEY,
    class_id BIGINT NOT NULL REFERENCES training_class (class_id),
    created_by BIGINT REFERENCES app_user (user_id),
    created_at TIMESTAMPTZ NOT NULL,
    row_count BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('imported', 'refused')),
    errors TEXT NOT NULL
);
CREATE INDEX roster_import_class ON roster_import (class_id);
