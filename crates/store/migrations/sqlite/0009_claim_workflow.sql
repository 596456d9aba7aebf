-- The claim workflow after the decision: county review, 7-day public notice with objections,
-- funds, payment batches, failed payments and recoveries; employers as users; the person's
-- insurance and pension facts the policy needs (SQLite). Keep in lockstep with
-- ../postgres/0009_claim_workflow.sql.
--
-- SQLite cannot change a CHECK constraint in place: `claim` and `app_user` are rebuilt. Foreign
-- keys are checked at commit (defer_foreign_keys), when the rebuilt tables carry the same rows.
PRAGMA defer_foreign_keys = ON;

ALTER TABLE person ADD COLUMN insured_since DATE;
ALTER TABLE person ADD COLUMN monthly_pension BOOLEAN NOT NULL DEFAULT FALSE;

-- The employer a pre-job or apprenticeship class trains for; project-based classes (项目制培训)
-- are paid to the provider by settlement, not per certificate.
ALTER TABLE training_class ADD COLUMN employer_id BIGINT REFERENCES employer (employer_id);
ALTER TABLE training_class ADD COLUMN project_based BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE employment (
    employment_id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    employer_id BIGINT NOT NULL REFERENCES employer (employer_id),
    from_date DATE NOT NULL,
    to_date DATE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (person_id, employer_id, from_date)
);
CREATE INDEX employment_employer ON employment (employer_id);

CREATE TABLE app_user_new (
    user_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('city_admin', 'department', 'county', 'finance', 'provider', 'assessment_body', 'auditor', 'worker', 'employer')),
    scope TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO app_user_new SELECT user_id, username, display_name, password_hash, role, scope, active, created_at FROM app_user;
DROP TABLE app_user;
ALTER TABLE app_user_new RENAME TO app_user;

CREATE TABLE claim_new (
    claim_id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    person_id BIGINT REFERENCES person (person_id),
    certificate_id BIGINT REFERENCES certificate (certificate_id),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    filed_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('decided', 'approved', 'rejected', 'on_notice', 'in_batch', 'paid', 'payment_failed', 'recovery_due', 'recovered')),
    outcome TEXT NOT NULL CHECK (outcome IN ('approved', 'reduced', 'rejected', 'recover')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    payee TEXT NOT NULL,
    fund TEXT NOT NULL,
    decision TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    employer_id BIGINT REFERENCES employer (employer_id),
    provider_id BIGINT REFERENCES provider (provider_id),
    project_ref TEXT,
    request TEXT,
    filed_by BIGINT,
    notice_from DATE,
    notice_until DATE
);
INSERT INTO claim_new (claim_id, idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, decision, snapshot, created_at)
    SELECT claim_id, idempotency_key, kind, person_id, certificate_id, county_code, filed_on,
    CASE WHEN status IN ('decided', 'paid') THEN status ELSE 'decided' END, outcome, amount_fen, payee, fund, decision, snapshot, created_at FROM claim;
DROP TABLE claim;
ALTER TABLE claim_new RENAME TO claim;
CREATE INDEX claim_person ON claim (person_id);
CREATE INDEX claim_county ON claim (county_code);
CREATE INDEX claim_status ON claim (status);
CREATE INDEX claim_employer ON claim (employer_id);
CREATE INDEX claim_provider ON claim (provider_id);

-- Who moved a claim, when, why.
CREATE TABLE claim_event (
    claim_event_id INTEGER PRIMARY KEY,
    claim_id BIGINT NOT NULL REFERENCES claim (claim_id),
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor BIGINT,
    at TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX claim_event_claim ON claim_event (claim_id);

-- Objections to a claim on public notice; open ones block payment.
CREATE TABLE objection (
    objection_id INTEGER PRIMARY KEY,
    claim_id BIGINT NOT NULL REFERENCES claim (claim_id),
    filer_name TEXT NOT NULL,
    contact TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'dismissed')),
    filed_at TIMESTAMPTZ NOT NULL,
    resolution TEXT,
    resolved_by BIGINT,
    resolved_at TIMESTAMPTZ
);
CREATE INDEX objection_claim ON objection (claim_id);

-- Each fund's balance; every movement is a fund_entry in the same transaction.
CREATE TABLE fund (
    fund_code TEXT PRIMARY KEY NOT NULL CHECK (fund_code IN ('employment_subsidy_fund', 'unemployment_insurance_fund')),
    name_zh TEXT NOT NULL,
    balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0),
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO fund (fund_code, name_zh, balance_fen, updated_at) VALUES
    ('employment_subsidy_fund', '就业补助资金', 0, CURRENT_TIMESTAMP),
    ('unemployment_insurance_fund', '失业保险基金', 0, CURRENT_TIMESTAMP);

CREATE TABLE payment_batch (
    batch_id INTEGER PRIMARY KEY,
    fund_code TEXT NOT NULL REFERENCES fund (fund_code),
    status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    total_fen BIGINT NOT NULL CHECK (total_fen >= 0),
    payments BIGINT NOT NULL,
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    approved_by BIGINT,
    approved_at TIMESTAMPTZ
);

-- One payment per attempt; at most one live (pending or paid) payment per claim.
CREATE TABLE payment (
    payment_id INTEGER PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES payment_batch (batch_id),
    claim_id BIGINT NOT NULL REFERENCES claim (claim_id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    payee TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    failure_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX payment_batch_ix ON payment (batch_id);
CREATE UNIQUE INDEX payment_live ON payment (claim_id) WHERE status <> 'failed';

CREATE TABLE fund_entry (
    fund_entry_id INTEGER PRIMARY KEY,
    fund_code TEXT NOT NULL REFERENCES fund (fund_code),
    kind TEXT NOT NULL CHECK (kind IN ('allocation', 'payment', 'refund', 'recovery')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    balance_after_fen BIGINT NOT NULL,
    batch_id BIGINT REFERENCES payment_batch (batch_id),
    claim_id BIGINT REFERENCES claim (claim_id),
    actor BIGINT,
    note TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX fund_entry_fund ON fund_entry (fund_code);
