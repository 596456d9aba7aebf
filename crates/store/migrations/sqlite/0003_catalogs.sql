-- Published catalogs (M2): the occupation catalog with the city's supplementary list, and the
-- subsidised training projects (SQLite). Keep in lockstep with ../postgres/0003_catalogs.sql.
ALTER TABLE occupation ADD COLUMN catalog TEXT NOT NULL DEFAULT 'national' CHECK (catalog IN ('national', 'city'));
ALTER TABLE occupation ADD COLUMN status TEXT NOT NULL DEFAULT 'listed' CHECK (status IN ('listed', 'suspended', 'removed'));
ALTER TABLE occupation ADD COLUMN standard TEXT;

CREATE TABLE subsidy_project (
    subsidy_project_id INTEGER PRIMARY KEY,
    occupation_code TEXT NOT NULL REFERENCES occupation (occupation_code),
    level BIGINT CHECK (level IS NULL OR level BETWEEN 1 AND 5),
    class_hours BIGINT NOT NULL CHECK (class_hours > 0),
    subsidy_fen BIGINT NOT NULL CHECK (subsidy_fen >= 0),
    status TEXT NOT NULL CHECK (status IN ('listed', 'suspended', 'removed')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX subsidy_project_occupation ON subsidy_project (occupation_code);
