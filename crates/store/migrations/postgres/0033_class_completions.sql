-- Person-times completed per class, kept by statement triggers on completions: the public
-- disclosure's trainees per provider and occupation counted every completion on each rebuild
-- (1.2 s at province scale, again after every audited change); it now sums this table (one row
-- a class). Completions are only added (and removed by hand, which the second trigger follows).
CREATE TABLE class_completions (
    class_id BIGINT NOT NULL,
    completions BIGINT NOT NULL,
    PRIMARY KEY (class_id)
);
INSERT INTO class_completions (class_id, completions) SELECT class_id, COUNT(*) FROM completion GROUP BY class_id;
CREATE FUNCTION class_completions_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO class_completions (class_id, completions)
        SELECT class_id, COUNT(*) FROM added GROUP BY class_id
        ON CONFLICT (class_id) DO UPDATE SET completions = class_completions.completions + excluded.completions;
    RETURN NULL;
END $$;
CREATE FUNCTION class_completions_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE class_completions t SET completions = t.completions - r.n
        FROM (SELECT class_id, COUNT(*) AS n FROM removed GROUP BY class_id) r WHERE t.class_id = r.class_id;
    RETURN NULL;
END $$;
CREATE TRIGGER class_completions_insert AFTER INSERT ON completion REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION class_completions_add();
CREATE TRIGGER class_completions_delete AFTER DELETE ON completion REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION class_completions_remove();
