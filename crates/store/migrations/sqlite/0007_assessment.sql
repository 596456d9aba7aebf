-- Assessments by listed assessment bodies and the certificates they issue (SQLite).
-- Keep in lockstep with ../postgres/0007_assessment.sql.
CREATE TABLE assessment (
    assessment_id INTEGER PRIMARY KEY,
    enrolment_id BIGINT NOT NULL UNIQUE REFERENCES enrolment (enrolment_id),
    assessment_body_id BIGINT NOT NULL REFERENCES assessment_body (assessment_body_id),
    assessed_on DATE NOT NULL,
    score BIGINT CHECK (score IS NULL OR score BETWEEN 0 AND 100),
    passed BOOLEAN NOT NULL,
    recorded_by BIGINT REFERENCES app_user (user_id),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE certificate (
    certificate_id INTEGER PRIMARY KEY,
    assessment_id BIGINT NOT NULL UNIQUE REFERENCES assessment (assessment_id),
    assessment_body_id BIGINT NOT NULL REFERENCES assessment_body (assessment_body_id),
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    kind TEXT NOT NULL CHECK (kind IN ('qualification', 'skill_level', 'special_ability', 'special_operation', 'training_completion')),
    occupation_code TEXT NOT NULL REFERENCES occupation (occupation_code),
    level BIGINT CHECK (level IS NULL OR level BETWEEN 1 AND 5),
    serial TEXT NOT NULL,
    issued_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (assessment_body_id, serial),
    CHECK (kind NOT IN ('qualification', 'skill_level') OR level IS NOT NULL)
);
CREATE INDEX certificate_person ON certificate (person_id);
