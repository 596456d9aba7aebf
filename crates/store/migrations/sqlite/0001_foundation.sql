-- Foundation schema (SQLite). Keep in lockstep with ../postgres/0001_foundation.sql:
-- the test `schemas_match` compares the two.

CREATE TABLE plan (
    plan_id TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    region_code TEXT NOT NULL,
    region_name_zh TEXT NOT NULL,
    region_name_en TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    status_zh TEXT NOT NULL,
    status_en TEXT NOT NULL,
    source TEXT NOT NULL,
    document TEXT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE county (
    county_code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    population BIGINT NOT NULL,
    sort_order BIGINT NOT NULL
);

CREATE TABLE department (
    department_code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE overall_target (
    target_id TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    unit TEXT NOT NULL,
    value BIGINT NOT NULL,
    subsidised BIGINT,
    clause TEXT NOT NULL,
    quote TEXT NOT NULL,
    note_zh TEXT,
    note_en TEXT,
    sort_order BIGINT NOT NULL
);

CREATE TABLE program (
    program_code TEXT PRIMARY KEY NOT NULL,
    parent_code TEXT REFERENCES program (program_code),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    unit TEXT NOT NULL CHECK (unit IN ('person_times', 'persons', 'none')),
    target BIGINT CHECK (target IS NULL OR target >= 0),
    pending_asked TEXT,
    province_note TEXT,
    share_pct BIGINT CHECK (share_pct IS NULL OR share_pct BETWEEN 0 AND 100),
    responsible TEXT NOT NULL,
    lead_governments BOOLEAN NOT NULL,
    clause TEXT NOT NULL,
    quote TEXT NOT NULL,
    note_zh TEXT,
    note_en TEXT,
    sort_order BIGINT NOT NULL
);

CREATE TABLE app_user (
    user_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('city_admin', 'department', 'county', 'finance', 'provider', 'assessment_body', 'auditor', 'worker')),
    scope TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE target_change (
    target_change_id INTEGER PRIMARY KEY,
    program_code TEXT NOT NULL REFERENCES program (program_code),
    old_target BIGINT,
    new_target BIGINT NOT NULL CHECK (new_target >= 0),
    reason TEXT NOT NULL,
    changed_by BIGINT NOT NULL REFERENCES app_user (user_id),
    changed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX target_change_program ON target_change (program_code);

CREATE TABLE occupation (
    occupation_code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    major_group BIGINT NOT NULL,
    has_levels BOOLEAN NOT NULL
);

CREATE TABLE person (
    person_id INTEGER PRIMARY KEY,
    id_number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date DATE NOT NULL,
    county_code TEXT NOT NULL REFERENCES county (county_code),
    phone TEXT,
    rural BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX person_county ON person (county_code);
CREATE INDEX person_name ON person (name);

CREATE TABLE person_group (
    person_group_id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    group_code TEXT NOT NULL,
    from_date DATE NOT NULL,
    to_date DATE,
    CHECK (to_date IS NULL OR to_date >= from_date)
);
CREATE INDEX person_group_person ON person_group (person_id);

CREATE TABLE employer (
    employer_id INTEGER PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    credit_code_warning TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('enterprise', 'cooperative', 'poverty_workshop', 'college', 'other')),
    insured BOOLEAN NOT NULL,
    county_code TEXT NOT NULL REFERENCES county (county_code),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX employer_county ON employer (county_code);

CREATE TABLE provider (
    provider_id INTEGER PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    credit_code_warning TEXT,
    name TEXT NOT NULL,
    county_code TEXT NOT NULL REFERENCES county (county_code),
    status TEXT NOT NULL CHECK (status IN ('listed', 'suspended', 'removed')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE assessment_body (
    assessment_body_id INTEGER PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    credit_code_warning TEXT,
    name TEXT NOT NULL,
    county_code TEXT NOT NULL REFERENCES county (county_code),
    status TEXT NOT NULL CHECK (status IN ('listed', 'suspended', 'removed')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE training_class (
    class_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    program_code TEXT NOT NULL REFERENCES program (program_code),
    occupation_code TEXT NOT NULL REFERENCES occupation (occupation_code),
    level BIGINT CHECK (level IS NULL OR level BETWEEN 1 AND 5),
    kind TEXT NOT NULL CHECK (kind IN ('employment', 'skill_upgrade', 'pre_job', 'safety', 'job_transfer', 'entrepreneurship', 'apprenticeship')),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    provider_id BIGINT NOT NULL REFERENCES provider (provider_id),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    subsidised BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (end_date >= start_date)
);
CREATE INDEX training_class_provider ON training_class (provider_id);
CREATE INDEX training_class_county ON training_class (county_code);
CREATE INDEX training_class_start ON training_class (start_date);

CREATE TABLE enrolment (
    enrolment_id INTEGER PRIMARY KEY,
    class_id BIGINT NOT NULL REFERENCES training_class (class_id),
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    enrolled_on DATE NOT NULL,
    UNIQUE (class_id, person_id)
);
CREATE INDEX enrolment_person ON enrolment (person_id);

CREATE TABLE completion (
    completion_id INTEGER PRIMARY KEY,
    enrolment_id BIGINT NOT NULL UNIQUE REFERENCES enrolment (enrolment_id),
    class_id BIGINT NOT NULL REFERENCES training_class (class_id),
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    program_code TEXT NOT NULL REFERENCES program (program_code),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    completed_on DATE NOT NULL,
    subsidised BOOLEAN NOT NULL,
    skill_upgrade BOOLEAN NOT NULL
);
CREATE INDEX completion_person ON completion (person_id);
CREATE INDEX completion_class ON completion (class_id);

-- Person-times per program, county and month, maintained in the same transaction as each
-- completion (and rebuilt from `completion` after bulk loads); the test
-- `progress_equals_a_recount` checks it against a recount.
CREATE TABLE progress (
    program_code TEXT NOT NULL REFERENCES program (program_code),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    month TEXT NOT NULL,
    person_times BIGINT NOT NULL,
    subsidised BIGINT NOT NULL,
    skill_upgrade BIGINT NOT NULL,
    PRIMARY KEY (program_code, county_code, month)
);

CREATE TABLE session (
    session_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES app_user (user_id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_token (
    api_token_id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES app_user (user_id),
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
    audit_id INTEGER PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    user_id BIGINT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
