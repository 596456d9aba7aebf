-- Subsidy claims prepared by the system and decided by the policy engine, with the decision and
-- the snapshot of the history it was decided from (SQLite). Keep in lockstep with
-- ../postgres/0008_claim.sql. The idempotency key makes filing twice one claim.
CREATE TABLE claim (
    claim_id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    person_id BIGINT REFERENCES person (person_id),
    certificate_id BIGINT REFERENCES certificate (certificate_id),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    filed_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('decided', 'reviewed', 'returned', 'published', 'payable', 'paid')),
    outcome TEXT NOT NULL CHECK (outcome IN ('approved', 'reduced', 'rejected', 'recover')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    payee TEXT NOT NULL,
    fund TEXT NOT NULL,
    decision TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX claim_person ON claim (person_id);
CREATE INDEX claim_county ON claim (county_code);
