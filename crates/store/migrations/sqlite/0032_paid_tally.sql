-- Money paid that stands (payments `paid`), per batch, program and county, kept by triggers on
-- payments (see PostgreSQL's 0032: the public disclosure reads this table instead of every paid
-- payment with its claim, certificate, assessment, enrolment and class). The program is the
-- class's when the payment is made ('' for a claim of no class). Keep the two backends' files
-- in lockstep.
CREATE TABLE paid_tally (
    batch_id BIGINT NOT NULL,
    program_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    claims BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (batch_id, program_code, county_code)
);
CREATE TRIGGER paid_tally_insert AFTER INSERT ON payment WHEN NEW.status = 'paid' BEGIN
    INSERT INTO paid_tally (batch_id, program_code, county_code, claims, amount_fen)
        SELECT NEW.batch_id, COALESCE(k.program_code, ''), c.county_code, 1, NEW.amount_fen
        FROM claim c LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
        LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
        LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
        LEFT JOIN training_class k ON k.class_id = e.class_id
        WHERE c.claim_id = NEW.claim_id
        ON CONFLICT (batch_id, program_code, county_code)
        DO UPDATE SET claims = claims + 1, amount_fen = amount_fen + excluded.amount_fen;
END;
CREATE TRIGGER paid_tally_delete AFTER DELETE ON payment WHEN OLD.status = 'paid' BEGIN
    UPDATE paid_tally SET claims = claims - 1, amount_fen = amount_fen - OLD.amount_fen
        WHERE (batch_id, program_code, county_code) = (
            SELECT OLD.batch_id, COALESCE(k.program_code, ''), c.county_code
            FROM claim c LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
            LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
            LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
            LEFT JOIN training_class k ON k.class_id = e.class_id
            WHERE c.claim_id = OLD.claim_id);
END;
CREATE TRIGGER paid_tally_update_old AFTER UPDATE ON payment WHEN OLD.status = 'paid' BEGIN
    UPDATE paid_tally SET claims = claims - 1, amount_fen = amount_fen - OLD.amount_fen
        WHERE (batch_id, program_code, county_code) = (
            SELECT OLD.batch_id, COALESCE(k.program_code, ''), c.county_code
            FROM claim c LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
            LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
            LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
            LEFT JOIN training_class k ON k.class_id = e.class_id
            WHERE c.claim_id = OLD.claim_id);
END;
CREATE TRIGGER paid_tally_update_new AFTER UPDATE ON payment WHEN NEW.status = 'paid' BEGIN
    INSERT INTO paid_tally (batch_id, program_code, county_code, claims, amount_fen)
        SELECT NEW.batch_id, COALESCE(k.program_code, ''), c.county_code, 1, NEW.amount_fen
        FROM claim c LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
        LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
        LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
        LEFT JOIN training_class k ON k.class_id = e.class_id
        WHERE c.claim_id = NEW.claim_id
        ON CONFLICT (batch_id, program_code, county_code)
        DO UPDATE SET claims = claims + 1, amount_fen = amount_fen + excluded.amount_fen;
END;
INSERT INTO paid_tally (batch_id, program_code, county_code, claims, amount_fen)
    SELECT y.batch_id, COALESCE(k.program_code, ''), c.county_code, COUNT(*), SUM(y.amount_fen)
    FROM payment y JOIN claim c ON c.claim_id = y.claim_id
    LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
    LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
    LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
    LEFT JOIN training_class k ON k.class_id = e.class_id
    WHERE y.status = 'paid' GROUP BY 1, 2, 3;
