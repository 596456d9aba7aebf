-- E1b: a high-skill training base (高技能人才培训基地) or master studio (技能大师工作室) is a
-- facility with its own identity, registered by its employer with the new equipment's value and
-- invoices; finance and HR (人社) each record the joint acceptance themselves, with who, when and
-- the acceptance report. The equipment grant is decided once per facility. (SQLite.) Keep in
-- lockstep with ../postgres/0013_facility.sql.
CREATE TABLE facility (
    facility_id INTEGER PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES employer (employer_id),
    kind TEXT NOT NULL CHECK (kind IN ('training_base', 'master_studio')),
    name TEXT NOT NULL,
    equipment_value_fen BIGINT NOT NULL CHECK (equipment_value_fen > 0),
    invoices TEXT NOT NULL,
    registered_by BIGINT REFERENCES app_user (user_id),
    registered_at TIMESTAMPTZ NOT NULL,
    finance_accepted_by BIGINT REFERENCES app_user (user_id),
    finance_accepted_at TIMESTAMPTZ,
    finance_ref TEXT,
    hr_accepted_by BIGINT REFERENCES app_user (user_id),
    hr_accepted_at TIMESTAMPTZ,
    hr_ref TEXT,
    UNIQUE (employer_id, kind, name)
);
CREATE INDEX facility_employer ON facility (employer_id);
ALTER TABLE claim ADD COLUMN facility_id BIGINT REFERENCES facility (facility_id);
