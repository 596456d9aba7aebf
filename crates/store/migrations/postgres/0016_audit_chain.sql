-- Tamper-evident audit log (issue 13, part 3). Every entry carries its place in one chain (seq,
-- from 1, no gaps), the hash of the entry before it and its own hash over all its fields; the
-- head (one row) holds the last seq and hash and is locked by each writer, so that entries get
-- one total order. The log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, except
-- the one-off sealing of entries written before the chain (seq still empty, nothing else changed).
-- Keep in lockstep with ../sqlite/0016_audit_chain.sql.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN address TEXT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

CREATE TABLE audit_head (
    audit_head_id BIGINT PRIMARY KEY CHECK (audit_head_id = 1),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    hash TEXT NOT NULL,
    legacy_until BIGINT NOT NULL
);
-- Entries up to legacy_until were written before the chain; they are sealed in audit_id order
-- when the server next starts (the hashes are computed in Rust).
INSERT INTO audit_head (audit_head_id, seq, hash, legacy_until)
SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', COALESCE(MAX(audit_id), 0) FROM audit_log;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.audit_id = OLD.audit_id AND NEW.at = OLD.at
           AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id AND NEW.address IS NOT DISTINCT FROM OLD.address
           AND NEW.action = OLD.action AND NEW.entity = OLD.entity AND NEW.entity_id = OLD.entity_id
           AND NEW.detail = OLD.detail THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (%)', TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
