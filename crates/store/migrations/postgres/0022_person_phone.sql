-- The incremental checks of a new claim look up who shares its person's phone
-- (`checks::shared_phone` for one person): by index, not by reading every person.
-- (PostgreSQL.) Keep in lockstep with ../sqlite/0022_person_phone.sql.
CREATE INDEX person_phone ON person (phone);
CREATE INDEX employment_person ON employment (person_id);
