-- Money paid that stands (payments `paid`), per batch, program and county, kept by statement
-- triggers on payments: the public disclosure read every paid payment with its claim,
-- certificate, assessment, enrolment and class on each rebuild (5.0 s at province scale with
-- 1.06 M claims paid, again after every audited change); it now reads this table. The program
-- is the class's when the payment is made ('' for a claim of no class: equipment, projects).
CREATE TABLE paid_tally (
    batch_id BIGINT NOT NULL,
    program_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    claims BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (batch_id, program_code, county_code)
);
CREATE FUNCTION paid_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE paid_tally t SET claims = t.claims - r.n, amount_fen = t.amount_fen - r.amount
            FROM (SELECT y.batch_id, COALESCE(k.program_code, '') AS program_code, c.county_code,
                         COUNT(*) AS n, SUM(y.amount_fen) AS amount
                  FROM removed y JOIN claim c ON c.claim_id = y.claim_id
                  LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
                  LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
                  LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
                  LEFT JOIN training_class k ON k.class_id = e.class_id
                  WHERE y.status = 'paid' GROUP BY 1, 2, 3) r
            WHERE t.batch_id = r.batch_id AND t.program_code = r.program_code AND t.county_code = r.county_code;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO paid_tally (batch_id, program_code, county_code, claims, amount_fen)
            SELECT y.batch_id, COALESCE(k.program_code, ''), c.county_code, COUNT(*), SUM(y.amount_fen)
            FROM added y JOIN claim c ON c.claim_id = y.claim_id
            LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
            LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
            LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
            LEFT JOIN training_class k ON k.class_id = e.class_id
            WHERE y.status = 'paid' GROUP BY 1, 2, 3
            ON CONFLICT (batch_id, program_code, county_code)
            DO UPDATE SET claims = paid_tally.claims + excluded.claims, amount_fen = paid_tally.amount_fen + excluded.amount_fen;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER paid_tally_insert AFTER INSERT ON payment REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION paid_tally_rows();
CREATE TRIGGER paid_tally_delete AFTER DELETE ON payment REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION paid_tally_rows();
CREATE TRIGGER paid_tally_update AFTER UPDATE ON payment REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION paid_tally_rows();
INSERT INTO paid_tally (batch_id, program_code, county_code, claims, amount_fen)
    SELECT y.batch_id, COALESCE(k.program_code, ''), c.county_code, COUNT(*), SUM(y.amount_fen)
    FROM payment y JOIN claim c ON c.claim_id = y.claim_id
    LEFT JOIN certificate f ON f.certificate_id = c.certificate_id
    LEFT JOIN assessment a ON a.assessment_id = f.assessment_id
    LEFT JOIN enrolment e ON e.enrolment_id = a.enrolment_id
    LEFT JOIN training_class k ON k.class_id = e.class_id
    WHERE y.status = 'paid' GROUP BY 1, 2, 3;
