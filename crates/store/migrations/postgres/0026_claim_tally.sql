-- Claims and their money per county, fund, status and outcome, kept by statement-level
-- triggers (issue 12): the work queues count claims awaiting review and the budget sums money
-- committed without reading every claim.
CREATE TABLE claim_tally (
    county_code TEXT NOT NULL,
    fund TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    claims BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (county_code, fund, status, outcome)
);
INSERT INTO claim_tally (county_code, fund, status, outcome, claims, amount_fen)
    SELECT county_code, fund, status, outcome, COUNT(*), SUM(amount_fen) FROM claim GROUP BY county_code, fund, status, outcome;
CREATE FUNCTION claim_tally_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO claim_tally (county_code, fund, status, outcome, claims, amount_fen)
        SELECT county_code, fund, status, outcome, COUNT(*), SUM(amount_fen) FROM added GROUP BY county_code, fund, status, outcome
        ON CONFLICT (county_code, fund, status, outcome)
        DO UPDATE SET claims = claim_tally.claims + excluded.claims, amount_fen = claim_tally.amount_fen + excluded.amount_fen;
    RETURN NULL;
END $$;
CREATE FUNCTION claim_tally_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE claim_tally t SET claims = t.claims - r.n, amount_fen = t.amount_fen - r.amount
        FROM (SELECT county_code, fund, status, outcome, COUNT(*) AS n, SUM(amount_fen) AS amount FROM removed
              GROUP BY county_code, fund, status, outcome) r
        WHERE t.county_code = r.county_code AND t.fund = r.fund AND t.status = r.status AND t.outcome = r.outcome;
    RETURN NULL;
END $$;
CREATE FUNCTION claim_tally_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE claim_tally t SET claims = t.claims - r.n, amount_fen = t.amount_fen - r.amount
        FROM (SELECT county_code, fund, status, outcome, COUNT(*) AS n, SUM(amount_fen) AS amount FROM removed
              GROUP BY county_code, fund, status, outcome) r
        WHERE t.county_code = r.county_code AND t.fund = r.fund AND t.status = r.status AND t.outcome = r.outcome;
    INSERT INTO claim_tally (county_code, fund, status, outcome, claims, amount_fen)
        SELECT county_code, fund, status, outcome, COUNT(*), SUM(amount_fen) FROM added GROUP BY county_code, fund, status, outcome
        ON CONFLICT (county_code, fund, status, outcome)
        DO UPDATE SET claims = claim_tally.claims + excluded.claims, amount_fen = claim_tally.amount_fen + excluded.amount_fen;
    RETURN NULL;
END $$;
CREATE TRIGGER claim_tally_insert AFTER INSERT ON claim REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION claim_tally_add();
CREATE TRIGGER claim_tally_delete AFTER DELETE ON claim REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION claim_tally_remove();
CREATE TRIGGER claim_tally_update AFTER UPDATE ON claim REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION claim_tally_move();

-- Class lists in their order straight from an index (a county's, a provider's), so the counts
-- each listed class shows are computed for the page's classes only; an assessment body's queue.
CREATE INDEX training_class_county_start ON training_class (county_code, start_date, class_id);
CREATE INDEX training_class_provider_start ON training_class (provider_id, start_date, class_id);
CREATE INDEX training_class_body ON training_class (assessment_body_id, status, end_date);
