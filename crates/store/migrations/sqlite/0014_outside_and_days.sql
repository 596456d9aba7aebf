-- Areas outside the plan's region: a migrant worker's hukou, a residence or a place of work in
-- another city is an area code the registry holds (P-rules read it), never one of the city's
-- counties on its pages. And a class's training days (培训天数): a class that meets on weekends
-- trains fewer days than its calendar span; attendance is counted against them. Keep the two
-- backends' files in lockstep.
ALTER TABLE county ADD COLUMN outside BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE training_class ADD COLUMN training_days BIGINT CHECK (training_days IS NULL OR training_days > 0);
-- A project-based class (项目制培训) belongs to a project: the contract between the bureau and
-- its organiser (the provider, or the enterprise training its own people), which may run
-- several classes under one project number. The class states its share of the contract sum;
-- a project's claims are bounded by what its approved classes are worth.
ALTER TABLE training_class ADD COLUMN project_code TEXT;
ALTER TABLE training_class ADD COLUMN contract_fen BIGINT CHECK (contract_fen IS NULL OR contract_fen > 0);
-- Certificates from outside the system's classes (社会化评价、职业技能等级认定 results the bureau
-- imports from the appraisal register): no assessment of a class of ours, the issuing body named
-- as the register names it. SQLite cannot drop a NOT NULL in place: `certificate` is rebuilt.
-- The claims that refer to certificates keep their reference aside meanwhile (foreign keys stay
-- on; a migration runs in one transaction).
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE keep_claim_certificate AS SELECT claim_id, certificate_id FROM claim WHERE certificate_id IS NOT NULL;
UPDATE claim SET certificate_id = NULL WHERE certificate_id IS NOT NULL;
CREATE TABLE certificate_new (
    certificate_id INTEGER PRIMARY KEY,
    assessment_id BIGINT UNIQUE REFERENCES assessment (assessment_id),
    assessment_body_id BIGINT REFERENCES assessment_body (assessment_body_id),
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    kind TEXT NOT NULL CHECK (kind IN ('qualification', 'skill_level', 'special_ability', 'special_operation', 'training_completion')),
    occupation_code TEXT NOT NULL REFERENCES occupation (occupation_code),
    level BIGINT CHECK (level IS NULL OR level BETWEEN 1 AND 5),
    serial TEXT NOT NULL,
    issued_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    issuer TEXT,
    recorded_by BIGINT REFERENCES app_user (user_id),
    UNIQUE (assessment_body_id, serial),
    CHECK (kind NOT IN ('qualification', 'skill_level') OR level IS NOT NULL),
    CHECK (assessment_id IS NOT NULL OR issuer IS NOT NULL)
);
INSERT INTO certificate_new (certificate_id, assessment_id, assessment_body_id, person_id, kind, occupation_code, level, serial, issued_on, created_at)
    SELECT certificate_id, assessment_id, assessment_body_id, person_id, kind, occupation_code, level, serial, issued_on, created_at FROM certificate;
DROP TABLE certificate;
ALTER TABLE certificate_new RENAME TO certificate;
CREATE INDEX certificate_person ON certificate (person_id);
CREATE UNIQUE INDEX certificate_issuer_serial ON certificate (issuer, serial);
UPDATE claim SET certificate_id = (SELECT k.certificate_id FROM temp.keep_claim_certificate k WHERE k.claim_id = claim.claim_id)
    WHERE claim_id IN (SELECT claim_id FROM temp.keep_claim_certificate);
DROP TABLE temp.keep_claim_certificate;

-- The certificates a project settlement paid (S9): each counts in its holder's history as a
-- training subsidy, so that the same certificate is not paid again to the person (S7).
CREATE TABLE claim_cover (
    claim_id BIGINT NOT NULL REFERENCES claim (claim_id),
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    certificate_id BIGINT NOT NULL REFERENCES certificate (certificate_id),
    PRIMARY KEY (claim_id, certificate_id)
);
CREATE INDEX claim_cover_person ON claim_cover (person_id);

-- One open objection per claim and contact (the contact as typed, normalised: spaces, dashes and
-- brackets dropped, letters lower case, a +86 prefix dropped): a second one from the same contact
-- is the same objection, however often it is sent.
ALTER TABLE objection ADD COLUMN contact_key TEXT;
CREATE UNIQUE INDEX objection_open_contact ON objection (claim_id, contact_key) WHERE status = 'open';
