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
-- as the register names it.
ALTER TABLE certificate ALTER COLUMN assessment_id DROP NOT NULL;
ALTER TABLE certificate ALTER COLUMN assessment_body_id DROP NOT NULL;
ALTER TABLE certificate ADD COLUMN issuer TEXT;
ALTER TABLE certificate ADD COLUMN recorded_by BIGINT REFERENCES app_user (user_id);
ALTER TABLE certificate ADD CONSTRAINT certificate_outside_named CHECK (assessment_id IS NOT NULL OR issuer IS NOT NULL);
CREATE UNIQUE INDEX certificate_issuer_serial ON certificate (issuer, serial);

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
