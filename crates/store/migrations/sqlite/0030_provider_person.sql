-- The people a training provider may see (its trainees: anyone enrolled in one of its classes),
-- kept as one row per provider and person with the number of such enrolments, so a provider's
-- people list is an index range read in person order, not a join of every enrolment of its
-- classes per request (issue 12). Kept by row triggers: enrolments added, removed or moved,
-- and a class handed to another provider. Keep the two backends' files in lockstep.
CREATE TABLE provider_person (
    provider_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    enrolments BIGINT NOT NULL CHECK (enrolments >= 0),
    PRIMARY KEY (provider_id, person_id)
);
INSERT INTO provider_person (provider_id, person_id, enrolments)
    SELECT k.provider_id, e.person_id, COUNT(*) FROM enrolment e JOIN training_class k ON k.class_id = e.class_id
    GROUP BY k.provider_id, e.person_id;

CREATE TRIGGER provider_person_insert AFTER INSERT ON enrolment BEGIN
    INSERT INTO provider_person (provider_id, person_id, enrolments)
        SELECT provider_id, NEW.person_id, 1 FROM training_class WHERE class_id = NEW.class_id
        ON CONFLICT (provider_id, person_id) DO UPDATE SET enrolments = enrolments + 1;
END;
CREATE TRIGGER provider_person_delete AFTER DELETE ON enrolment BEGIN
    UPDATE provider_person SET enrolments = enrolments - 1
        WHERE provider_id = (SELECT provider_id FROM training_class WHERE class_id = OLD.class_id) AND person_id = OLD.person_id;
    DELETE FROM provider_person
        WHERE provider_id = (SELECT provider_id FROM training_class WHERE class_id = OLD.class_id) AND person_id = OLD.person_id AND enrolments = 0;
END;
CREATE TRIGGER provider_person_update AFTER UPDATE OF class_id, person_id ON enrolment BEGIN
    UPDATE provider_person SET enrolments = enrolments - 1
        WHERE provider_id = (SELECT provider_id FROM training_class WHERE class_id = OLD.class_id) AND person_id = OLD.person_id;
    DELETE FROM provider_person
        WHERE provider_id = (SELECT provider_id FROM training_class WHERE class_id = OLD.class_id) AND person_id = OLD.person_id AND enrolments = 0;
    INSERT INTO provider_person (provider_id, person_id, enrolments)
        SELECT provider_id, NEW.person_id, 1 FROM training_class WHERE class_id = NEW.class_id
        ON CONFLICT (provider_id, person_id) DO UPDATE SET enrolments = enrolments + 1;
END;

-- A class handed to another provider takes its trainees along.
CREATE TRIGGER provider_person_class_update AFTER UPDATE OF provider_id ON training_class
    WHEN OLD.provider_id <> NEW.provider_id BEGIN
    UPDATE provider_person SET enrolments = enrolments - 1
        WHERE provider_id = OLD.provider_id AND person_id IN (SELECT person_id FROM enrolment WHERE class_id = NEW.class_id);
    DELETE FROM provider_person
        WHERE provider_id = OLD.provider_id AND enrolments = 0 AND person_id IN (SELECT person_id FROM enrolment WHERE class_id = NEW.class_id);
    INSERT INTO provider_person (provider_id, person_id, enrolments)
        SELECT NEW.provider_id, person_id, 1 FROM enrolment WHERE class_id = NEW.class_id
        ON CONFLICT (provider_id, person_id) DO UPDATE SET enrolments = enrolments + 1;
END;
