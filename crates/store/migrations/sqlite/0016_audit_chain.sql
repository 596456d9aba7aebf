-- Tamper-evident audit log (issue 13, part 3). Every entry carries its place in one chain (seq,
-- from 1, no gaps), the hash of the entry before it and its own hash over all its fields; the
-- head (one row) holds the last seq and hash and is written by each writer (SQLite writers are
-- one at a time). The log is append-only: triggers refuse UPDATE and DELETE, except the one-off
-- sealing of entries written before the chain (seq still empty, nothing else changed).
-- Keep in lockstep with ../postgres/0016_audit_chain.sql.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN address TEXT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

CREATE TABLE audit_head (
    audit_head_id BIGINT PRIMARY KEY NOT NULL CHECK (audit_head_id = 1),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    hash TEXT NOT NULL,
    legacy_until BIGINT NOT NULL
);
-- Entries up to legacy_until were written before the chain; they are sealed in audit_id order
-- when the server next starts (the hashes are computed in Rust).
INSERT INTO audit_head (audit_head_id, seq, hash, legacy_until)
SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', COALESCE(MAX(audit_id), 0) FROM audit_log;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.audit_id = OLD.audit_id AND NEW.at = OLD.at
          AND NEW.user_id IS OLD.user_id AND NEW.address IS OLD.address AND NEW.action = OLD.action
          AND NEW.entity = OLD.entity AND NEW.entity_id = OLD.entity_id AND NEW.detail = OLD.detail)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE)');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only (DELETE)');
END;
