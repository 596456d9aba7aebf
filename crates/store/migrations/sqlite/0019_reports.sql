-- What the bureau reports (M1): yearly tasks decomposed to counties, monthly and quarterly
-- reports with the counties' submissions and the city's frozen snapshot, proposals for the
-- targets the plan left pending, and the statistics bureau's figures for T2 and T3. (SQLite.)
-- Keep in lockstep with ../postgres/0019_reports.sql.

-- Distinct persons: the first completion of a person in a program and year counts one person
-- in the month it falls in (a target stated in persons, 万人, counts people, not person-times).
ALTER TABLE progress ADD COLUMN persons BIGINT NOT NULL DEFAULT 0;
CREATE TABLE program_person_year (
    program_code TEXT NOT NULL REFERENCES program (program_code),
    year BIGINT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES person (person_id),
    PRIMARY KEY (program_code, year, person_id)
);
INSERT INTO program_person_year (program_code, year, person_id)
    SELECT DISTINCT program_code, CAST(substr(completed_on, 1, 4) AS INTEGER), person_id FROM completion;
DELETE FROM progress;
INSERT INTO progress (program_code, county_code, month, person_times, subsidised, skill_upgrade, persons)
    SELECT program_code, county_code, substr(completed_on, 1, 7), COUNT(*),
        SUM(CASE WHEN subsidised THEN 1 ELSE 0 END), SUM(CASE WHEN skill_upgrade THEN 1 ELSE 0 END), SUM(first)
    FROM (SELECT program_code, county_code, completed_on, subsidised, skill_upgrade,
            CASE WHEN ROW_NUMBER() OVER (PARTITION BY person_id, program_code, substr(completed_on, 1, 4)
                ORDER BY completed_on, completion_id) = 1 THEN 1 ELSE 0 END AS first
          FROM completion) c
    GROUP BY program_code, county_code, substr(completed_on, 1, 7);

-- A year's task per program for the whole city, and its decomposition to counties.
CREATE TABLE yearly_task (
    year BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    program_code TEXT NOT NULL REFERENCES program (program_code),
    value BIGINT NOT NULL CHECK (value >= 0),
    responsible TEXT NOT NULL,
    set_by BIGINT NOT NULL REFERENCES app_user (user_id),
    set_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (year, program_code)
);
CREATE TABLE county_task (
    year BIGINT NOT NULL,
    program_code TEXT NOT NULL,
    county_code TEXT NOT NULL REFERENCES county (county_code),
    value BIGINT NOT NULL CHECK (value >= 0),
    PRIMARY KEY (year, program_code, county_code),
    FOREIGN KEY (year, program_code) REFERENCES yearly_task (year, program_code)
);

-- A month (`2020-03`) or quarter (`2020-Q1`): open until the city closes it, then frozen.
CREATE TABLE report_period (
    period TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('month', 'quarter')),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_by BIGINT REFERENCES app_user (user_id),
    closed_at TIMESTAMPTZ,
    snapshot TEXT,
    snapshot_sha256 TEXT,
    CHECK (status = 'open' OR (snapshot IS NOT NULL AND closed_at IS NOT NULL))
);
CREATE TABLE report_submission (
    period TEXT NOT NULL REFERENCES report_period (period),
    county_code TEXT NOT NULL REFERENCES county (county_code),
    submitted_by BIGINT NOT NULL REFERENCES app_user (user_id),
    submitted_at TIMESTAMPTZ NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (period, county_code)
);

-- A department's proposal for a target the plan left pending (X), adopted or returned by the city.
CREATE TABLE target_proposal (
    proposal_id INTEGER PRIMARY KEY,
    program_code TEXT NOT NULL REFERENCES program (program_code),
    department_code TEXT NOT NULL REFERENCES department (department_code),
    value BIGINT NOT NULL CHECK (value >= 0),
    reasoning TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'adopted', 'returned')),
    proposed_by BIGINT NOT NULL REFERENCES app_user (user_id),
    proposed_at TIMESTAMPTZ NOT NULL,
    decided_by BIGINT REFERENCES app_user (user_id),
    decided_at TIMESTAMPTZ,
    decision_reason TEXT
);
CREATE INDEX target_proposal_program ON target_proposal (program_code);
CREATE UNIQUE INDEX target_proposal_open ON target_proposal (program_code, department_code) WHERE status = 'proposed';

-- The statistics bureau's figures for T2 and T3, per county and year, with their source.
CREATE TABLE labour_statistic (
    county_code TEXT NOT NULL REFERENCES county (county_code),
    year BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    employed BIGINT NOT NULL CHECK (employed > 0),
    skilled BIGINT NOT NULL CHECK (skilled >= 0 AND skilled <= employed),
    high_skilled BIGINT NOT NULL CHECK (high_skilled >= 0 AND high_skilled <= skilled),
    source TEXT NOT NULL,
    entered_by BIGINT NOT NULL REFERENCES app_user (user_id),
    entered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (county_code, year)
);

-- Reports read certificates, claims and their steps by date.
CREATE INDEX certificate_issued ON certificate (issued_on);
CREATE INDEX claim_created ON claim (created_at);
CREATE INDEX claim_event_step ON claim_event (to_status, at);

-- Certificates issued per holder's county, month, kind and level (level 0: none), kept by
-- triggers on every write path, so that a report never scans the certificates.
CREATE TABLE certificate_tally (
    county_code TEXT NOT NULL,
    issued_month TEXT NOT NULL,
    kind TEXT NOT NULL,
    level BIGINT NOT NULL,
    certificates BIGINT NOT NULL,
    PRIMARY KEY (county_code, issued_month, kind, level)
);
INSERT INTO certificate_tally (county_code, issued_month, kind, level, certificates)
    SELECT p.county_code, substr(c.issued_on, 1, 7), c.kind, COALESCE(c.level, 0), COUNT(*)
    FROM certificate c JOIN person p ON p.person_id = c.person_id
    GROUP BY p.county_code, substr(c.issued_on, 1, 7), c.kind, COALESCE(c.level, 0);
CREATE TRIGGER certificate_tally_insert AFTER INSERT ON certificate BEGIN
    INSERT INTO certificate_tally (county_code, issued_month, kind, level, certificates)
        SELECT p.county_code, substr(NEW.issued_on, 1, 7), NEW.kind, COALESCE(NEW.level, 0), 1 FROM person p WHERE p.person_id = NEW.person_id
        ON CONFLICT (county_code, issued_month, kind, level) DO UPDATE SET certificates = certificates + 1;
END;
CREATE TRIGGER certificate_tally_delete AFTER DELETE ON certificate BEGIN
    UPDATE certificate_tally SET certificates = certificates - 1
        WHERE county_code = (SELECT p.county_code FROM person p WHERE p.person_id = OLD.person_id)
        AND issued_month = substr(OLD.issued_on, 1, 7) AND kind = OLD.kind AND level = COALESCE(OLD.level, 0);
END;
CREATE TRIGGER certificate_tally_update AFTER UPDATE OF person_id, issued_on, kind, level ON certificate BEGIN
    UPDATE certificate_tally SET certificates = certificates - 1
        WHERE county_code = (SELECT p.county_code FROM person p WHERE p.person_id = OLD.person_id)
        AND issued_month = substr(OLD.issued_on, 1, 7) AND kind = OLD.kind AND level = COALESCE(OLD.level, 0);
    INSERT INTO certificate_tally (county_code, issued_month, kind, level, certificates)
        SELECT p.county_code, substr(NEW.issued_on, 1, 7), NEW.kind, COALESCE(NEW.level, 0), 1 FROM person p WHERE p.person_id = NEW.person_id
        ON CONFLICT (county_code, issued_month, kind, level) DO UPDATE SET certificates = certificates + 1;
END;
