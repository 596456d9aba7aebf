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

-- People per county, kept by statement-level triggers (a bulk load adds its rows once per
-- statement): the people list shows how many a scope holds without counting the registry.
CREATE TABLE county_people (
    county_code TEXT PRIMARY KEY,
    people BIGINT NOT NULL
);
INSERT INTO county_people (county_code, people) SELECT county_code, COUNT(*) FROM person GROUP BY county_code;
CREATE FUNCTION county_people_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO county_people (county_code, people) SELECT county_code, COUNT(*) FROM added GROUP BY county_code
        ON CONFLICT (county_code) DO UPDATE SET people = county_people.people + excluded.people;
    RETURN NULL;
END $$;
CREATE FUNCTION county_people_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE county_people c SET people = c.people - r.n
        FROM (SELECT county_code, COUNT(*) AS n FROM removed GROUP BY county_code) r WHERE c.county_code = r.county_code;
    RETURN NULL;
END $$;
CREATE FUNCTION county_people_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE county_people c SET people = c.people - r.n
        FROM (SELECT county_code, COUNT(*) AS n FROM removed GROUP BY county_code) r WHERE c.county_code = r.county_code;
    INSERT INTO county_people (county_code, people) SELECT county_code, COUNT(*) FROM added GROUP BY county_code
        ON CONFLICT (county_code) DO UPDATE SET people = county_people.people + excluded.people;
    RETURN NULL;
END $$;
CREATE TRIGGER county_people_insert AFTER INSERT ON person REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION county_people_add();
CREATE TRIGGER county_people_delete AFTER DELETE ON person REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION county_people_remove();
CREATE TRIGGER county_people_update AFTER UPDATE ON person REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION county_people_move();

-- Name search by prefix, in order, one page at a time (people::search), in code-point order.
CREATE INDEX person_name_key ON person (name COLLATE "C", person_id);

-- The public notice, newest first, one page at a time.
CREATE INDEX claim_notice ON claim (status, notice_from, claim_id);
