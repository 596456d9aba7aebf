-- Facts with their sources: every fact a subsidy rule reads is a dated record naming where it
-- comes from — an authority's register imported by the bureau (poverty_roster, civil_affairs,
-- social_insurance, market_regulation), a county office that checked it (county_verified), or a
-- declaration (declared, by the user recorded). A claim resting on a declared fact is held
-- (status needs_verification) until the county verifies the fact. (SQLite.) Keep in lockstep
-- with ../postgres/0012_fact_source.sql.
--
-- SQLite cannot change a CHECK constraint in place: `claim` is rebuilt to admit the new status.
-- The tables that refer to claims (claim_event, objection, payment, fund_entry) are set aside
-- first and rebuilt after, with the same rows, so that no row ever refers to a dropped claim
-- (foreign keys stay on; a migration runs in one transaction).
PRAGMA defer_foreign_keys = ON;

-- An import of an authority's register: who brought which file, how many rows.
CREATE TABLE fact_import (
    fact_import_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('poverty_roster', 'civil_affairs', 'social_insurance', 'employment', 'market_regulation')),
    file_name TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    imported_by BIGINT REFERENCES app_user (user_id),
    imported_at TIMESTAMPTZ NOT NULL
);

-- Hukou, residence and work county are three facts (residence stays person.county_code).
ALTER TABLE person ADD COLUMN hukou_county TEXT REFERENCES county (county_code);
ALTER TABLE person ADD COLUMN work_county TEXT REFERENCES county (county_code);
ALTER TABLE person ADD COLUMN business_started DATE;

-- Each statement of a person's one-valued fact; the newest of a (person, fact) is in force and
-- equals the person's column. NULL value: the source states there is none.
CREATE TABLE person_fact (
    person_fact_id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    fact TEXT NOT NULL CHECK (fact IN ('residence_county', 'hukou_county', 'work_county', 'rural', 'insured_since', 'monthly_pension', 'business_started')),
    value TEXT,
    source TEXT NOT NULL CHECK (source IN ('poverty_roster', 'civil_affairs', 'social_insurance', 'market_regulation', 'county_verified', 'declared')),
    recorded_by BIGINT REFERENCES app_user (user_id),
    as_of DATE NOT NULL,
    fact_import_id BIGINT REFERENCES fact_import (fact_import_id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX person_fact_person ON person_fact (person_id, fact);

-- Group memberships and employments keep their source; rows from before sources were kept are
-- declarations of no one known, and are verified like any other declaration.
ALTER TABLE person_group ADD COLUMN source TEXT NOT NULL DEFAULT 'declared' CHECK (source IN ('poverty_roster', 'civil_affairs', 'social_insurance', 'market_regulation', 'county_verified', 'declared'));
ALTER TABLE person_group ADD COLUMN recorded_by BIGINT REFERENCES app_user (user_id);
ALTER TABLE person_group ADD COLUMN recorded_at TIMESTAMPTZ;
ALTER TABLE person_group ADD COLUMN fact_import_id BIGINT REFERENCES fact_import (fact_import_id);
ALTER TABLE employment ADD COLUMN source TEXT NOT NULL DEFAULT 'declared' CHECK (source IN ('poverty_roster', 'civil_affairs', 'social_insurance', 'market_regulation', 'county_verified', 'declared'));
ALTER TABLE employment ADD COLUMN recorded_by BIGINT REFERENCES app_user (user_id);
ALTER TABLE employment ADD COLUMN fact_import_id BIGINT REFERENCES fact_import (fact_import_id);

CREATE TEMP TABLE keep_claim_event AS SELECT * FROM claim_event;
CREATE TEMP TABLE keep_objection AS SELECT * FROM objection;
CREATE TEMP TABLE keep_payment AS SELECT * FROM payment;
CREATE TEMP TABLE keep_fund_entry AS SELECT * FROM fund_entry;
DROP TABLE claim_event;
DROP TABLE objection;
DROP TABLE payment;
DROP TABLE fund_entry;

CREATE TABLE claim_new (
    claim_id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    person_id BIGINT REFERENCES person (person_id),
    certificate_id BIGINT REFERENCES certificate (certificate_id),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    filed_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('needs_verification', 'decided', 'approved', 'rejected', 'on_notice', 'in_batch', 'paid', 'payment_failed', 'recovery_due', 'recovered')),
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
    notice_until DATE,
    held_for TEXT
);
INSERT INTO claim_new (claim_id, idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, decision, snapshot, created_at, employer_id, provider_id, project_ref, request, filed_by, notice_from, notice_until)
    SELECT claim_id, idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, amount_fen, payee, fund, decision, snapshot, created_at, employer_id, provider_id, project_ref, request, filed_by, notice_from, notice_until FROM claim;
DROP TABLE claim;
ALTER TABLE claim_new RENAME TO claim;
CREATE INDEX claim_person ON claim (person_id);
CREATE INDEX claim_county ON claim (county_code);
CREATE INDEX claim_status ON claim (status);
CREATE INDEX claim_employer ON claim (employer_id);
CREATE INDEX claim_provider ON claim (provider_id);

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
INSERT INTO claim_event SELECT * FROM temp.keep_claim_event;
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
INSERT INTO objection SELECT * FROM temp.keep_objection;
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
INSERT INTO payment SELECT * FROM temp.keep_payment;
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
INSERT INTO fund_entry SELECT * FROM temp.keep_fund_entry;
DROP TABLE temp.keep_claim_event;
DROP TABLE temp.keep_objection;
DROP TABLE temp.keep_payment;
DROP TABLE temp.keep_fund_entry;
