-- The people a training provider may see (its trainees: anyone enrolled in one of its classes),
-- kept as one row per provider and person with the number of such enrolments, so a provider's
-- people list is an index range read in person order, not a join of every enrolment of its
-- classes per request (issue 12: 860–1,020 ms p99 at province scale). Kept per statement from
-- the transition tables, as the other kept counts (0025, 0026, 0029): enrolments added or
-- removed, and a class handed to another provider. Keep the two backends' files in lockstep.
CREATE TABLE provider_person (
    provider_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    enrolments BIGINT NOT NULL CHECK (enrolments >= 0),
    PRIMARY KEY (provider_id, person_id)
);
INSERT INTO provider_person (provider_id, person_id, enrolments)
    SELECT k.provider_id, e.person_id, COUNT(*) FROM enrolment e JOIN training_class k ON k.class_id = e.class_id
    GROUP BY k.provider_id, e.person_id;

CREATE FUNCTION provider_person_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO provider_person (provider_id, person_id, enrolments)
        SELECT k.provider_id, n.person_id, COUNT(*) FROM added n JOIN training_class k ON k.class_id = n.class_id
        GROUP BY k.provider_id, n.person_id
        ON CONFLICT (provider_id, person_id) DO UPDATE SET enrolments = provider_person.enrolments + excluded.enrolments;
    RETURN NULL;
END $$;
CREATE FUNCTION provider_person_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE provider_person t SET enrolments = t.enrolments - r.n
        FROM (SELECT k.provider_id, o.person_id, COUNT(*) AS n FROM removed o JOIN training_class k ON k.class_id = o.class_id
              GROUP BY k.provider_id, o.person_id) r
        WHERE t.provider_id = r.provider_id AND t.person_id = r.person_id;
    DELETE FROM provider_person t USING (SELECT DISTINCT k.provider_id, o.person_id FROM removed o
                                         JOIN training_class k ON k.class_id = o.class_id) r
        WHERE t.provider_id = r.provider_id AND t.person_id = r.person_id AND t.enrolments = 0;
    RETURN NULL;
END $$;
CREATE TRIGGER provider_person_insert AFTER INSERT ON enrolment REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION provider_person_add();
CREATE TRIGGER provider_person_delete AFTER DELETE ON enrolment REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION provider_person_remove();
-- An enrolment moved to another class or person: what it was goes, what it is comes (two
-- triggers, one seeing only the old rows and one only the new; the old first, by name order).
CREATE TRIGGER provider_person_update_a_old AFTER UPDATE ON enrolment REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION provider_person_remove();
CREATE TRIGGER provider_person_update_b_new AFTER UPDATE ON enrolment REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION provider_person_add();

-- A class handed to another provider takes its trainees along (a row trigger that fires only
-- when the provider changes, so the many status updates of classes pay nothing).
CREATE FUNCTION provider_person_class_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE provider_person t SET enrolments = t.enrolments - 1
        FROM enrolment e WHERE e.class_id = NEW.class_id AND t.provider_id = OLD.provider_id AND t.person_id = e.person_id;
    DELETE FROM provider_person t USING enrolment e
        WHERE e.class_id = NEW.class_id AND t.provider_id = OLD.provider_id AND t.person_id = e.person_id AND t.enrolments = 0;
    INSERT INTO provider_person (provider_id, person_id, enrolments)
        SELECT NEW.provider_id, person_id, 1 FROM enrolment WHERE class_id = NEW.class_id
        ON CONFLICT (provider_id, person_id) DO UPDATE SET enrolments = provider_person.enrolments + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER provider_person_class_update AFTER UPDATE OF provider_id ON training_class
    FOR EACH ROW WHEN (OLD.provider_id <> NEW.provider_id) EXECUTE FUNCTION provider_person_class_moved();
