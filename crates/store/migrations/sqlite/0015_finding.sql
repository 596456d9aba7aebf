-- Oversight (S12): what the fraud and anomaly checks found, with the rows that show it, and the
-- investigator's decision. One open finding per check and subject: running the checks again
-- adds none. (SQLite.) Keep in lockstep with ../postgres/0015_finding.sql.
CREATE TABLE finding (
    finding_id INTEGER PRIMARY KEY,
    check_code TEXT NOT NULL,
    clause TEXT NOT NULL,
    subject TEXT NOT NULL,
    evidence TEXT NOT NULL,
    money_fen BIGINT CHECK (money_fen IS NULL OR money_fen >= 0),
    status TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'dismissed')),
    reason TEXT,
    decided_by BIGINT REFERENCES app_user (user_id),
    decided_at TIMESTAMPTZ,
    found_at TIMESTAMPTZ NOT NULL,
    CHECK (status = 'open' OR (reason IS NOT NULL AND decided_at IS NOT NULL))
);
CREATE UNIQUE INDEX finding_open ON finding (check_code, subject) WHERE status = 'open';
CREATE INDEX finding_status ON finding (status);
