-- Counts kept up to date instead of counted per request (issue 12): the distinct people each
-- program has trained (M1 targets stated in persons), maintained with every completion.
CREATE TABLE program_person (
    program_code TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    PRIMARY KEY (program_code, person_id)
);
INSERT INTO program_person (program_code, person_id) SELECT DISTINCT program_code, person_id FROM completion;

CREATE TABLE program_persons (
    program_code TEXT PRIMARY KEY,
    persons BIGINT NOT NULL CHECK (persons >= 0)
);
INSERT INTO program_persons (program_code, persons) SELECT program_code, COUNT(*) FROM program_person GROUP BY program_code;

-- A county's review queue counts its claims of a few statuses: one index range.
CREATE INDEX claim_county_status ON claim (county_code, status);
CREATE INDEX training_class_county_status ON training_class (county_code, status);

-- People per county, kept by triggers: the people list shows how many a scope holds without
-- counting the registry.
CREATE TABLE county_people (
    county_code TEXT PRIMARY KEY,
    people BIGINT NOT NULL
);
INSERT INTO county_people (county_code, people) SELECT county_code, COUNT(*) FROM person GROUP BY county_code;
CREATE TRIGGER county_people_insert AFTER INSERT ON person BEGIN
    INSERT INTO county_people (county_code, people) VALUES (NEW.county_code, 1)
        ON CONFLICT (county_code) DO UPDATE SET people = people + 1;
END;
CREATE TRIGGER county_people_delete AFTER DELETE ON person BEGIN
    UPDATE county_people SET people = people - 1 WHERE county_code = OLD.county_code;
END;
CREATE TRIGGER county_people_update AFTER UPDATE OF county_code ON person WHEN OLD.county_code <> NEW.county_code BEGIN
    UPDATE county_people SET people = people - 1 WHERE county_code = OLD.county_code;
    INSERT INTO county_people (county_code, people) VALUES (NEW.county_code, 1)
        ON CONFLICT (county_code) DO UPDATE SET people = people + 1;
END;

-- Name search by prefix, in order, one page at a time (people::search).
CREATE INDEX person_name_key ON person (name, person_id);

-- The public notice, newest first, one page at a time.
CREATE INDEX claim_notice ON claim (status, notice_from, claim_id);
