-- Person-times completed per class, kept by triggers on completions (see PostgreSQL's 0033: the
-- public disclosure sums this table instead of counting every completion on each rebuild).
-- Keep the two backends' files in lockstep.
CREATE TABLE class_completions (
    class_id BIGINT NOT NULL,
    completions BIGINT NOT NULL,
    PRIMARY KEY (class_id)
);
INSERT INTO class_completions (class_id, completions) SELECT class_id, COUNT(*) FROM completion GROUP BY class_id;
CREATE TRIGGER class_completions_insert AFTER INSERT ON completion BEGIN
    INSERT INTO class_completions (class_id, completions) VALUES (NEW.class_id, 1)
        ON CONFLICT (class_id) DO UPDATE SET completions = completions + 1;
END;
CREATE TRIGGER class_completions_delete AFTER DELETE ON completion BEGIN
    UPDATE class_completions SET completions = completions - 1 WHERE class_id = OLD.class_id;
END;
