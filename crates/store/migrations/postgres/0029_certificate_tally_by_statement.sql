-- The certificate tally (0019) was kept by a row-level trigger: one upsert per certificate on a
-- few hot tally rows, so a bulk load of a million certificates in one transaction walked ever
-- longer chains of row versions (209 s for the province demo's 1.1 million). As the other kept
-- counts (0025, 0026), it is now kept per statement from the transition tables: one grouped
-- upsert per INSERT, one grouped subtraction per DELETE, both for an UPDATE (two triggers). SQLite keeps its
-- row triggers (its 0029 is empty). Keep the two backends' files in lockstep.
DROP TRIGGER certificate_tally ON certificate;
DROP FUNCTION certificate_tally_change();

CREATE FUNCTION certificate_tally_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO certificate_tally (county_code, issued_month, kind, level, certificates)
        SELECT p.county_code, to_char(n.issued_on, 'YYYY-MM'), n.kind, COALESCE(n.level, 0), COUNT(*)
        FROM added n JOIN person p ON p.person_id = n.person_id
        GROUP BY p.county_code, to_char(n.issued_on, 'YYYY-MM'), n.kind, COALESCE(n.level, 0)
        ON CONFLICT (county_code, issued_month, kind, level)
        DO UPDATE SET certificates = certificate_tally.certificates + EXCLUDED.certificates;
    RETURN NULL;
END
$$;

CREATE FUNCTION certificate_tally_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE certificate_tally t SET certificates = t.certificates - r.n
        FROM (SELECT p.county_code, to_char(o.issued_on, 'YYYY-MM') AS issued_month, o.kind,
                     COALESCE(o.level, 0) AS level, COUNT(*) AS n
              FROM removed o JOIN person p ON p.person_id = o.person_id
              GROUP BY p.county_code, to_char(o.issued_on, 'YYYY-MM'), o.kind, COALESCE(o.level, 0)) r
        WHERE t.county_code = r.county_code AND t.issued_month = r.issued_month AND t.kind = r.kind AND t.level = r.level;
    RETURN NULL;
END
$$;

CREATE TRIGGER certificate_tally_insert AFTER INSERT ON certificate
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION certificate_tally_add();
CREATE TRIGGER certificate_tally_delete AFTER DELETE ON certificate
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION certificate_tally_remove();
-- An UPDATE subtracts what the rows were and adds what they are: two triggers, one seeing only
-- the old rows and one only the new, each calling the function above.
CREATE TRIGGER certificate_tally_update_old AFTER UPDATE ON certificate
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION certificate_tally_remove();
CREATE TRIGGER certificate_tally_update_new AFTER UPDATE ON certificate
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION certificate_tally_add();
