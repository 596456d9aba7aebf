-- Claims and their money per county, fund, status and outcome, kept by triggers (issue 12):
-- the work queues count claims awaiting review and the budget sums money committed without
-- reading every claim.
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
CREATE TRIGGER claim_tally_insert AFTER INSERT ON claim BEGIN
    INSERT INTO claim_tally (county_code, fund, status, outcome, claims, amount_fen)
        VALUES (NEW.county_code, NEW.fund, NEW.status, NEW.outcome, 1, NEW.amount_fen)
        ON CONFLICT (county_code, fund, status, outcome) DO UPDATE SET claims = claims + 1, amount_fen = amount_fen + excluded.amount_fen;
END;
CREATE TRIGGER claim_tally_delete AFTER DELETE ON claim BEGIN
    UPDATE claim_tally SET claims = claims - 1, amount_fen = amount_fen - OLD.amount_fen
        WHERE county_code = OLD.county_code AND fund = OLD.fund AND status = OLD.status AND outcome = OLD.outcome;
END;
CREATE TRIGGER claim_tally_update AFTER UPDATE OF county_code, fund, status, outcome, amount_fen ON claim BEGIN
    UPDATE claim_tally SET claims = claims - 1, amount_fen = amount_fen - OLD.amount_fen
        WHERE county_code = OLD.county_code AND fund = OLD.fund AND status = OLD.status AND outcome = OLD.outcome;
    INSERT INTO claim_tally (county_code, fund, status, outcome, claims, amount_fen)
        VALUES (NEW.county_code, NEW.fund, NEW.status, NEW.outcome, 1, NEW.amount_fen)
        ON CONFLICT (county_code, fund, status, outcome) DO UPDATE SET claims = claims + 1, amount_fen = amount_fen + excluded.amount_fen;
END;

-- Class lists in their order straight from an index (a county's, a provider's), so the counts
-- each listed class shows are computed for the page's classes only; an assessment body's queue.
CREATE INDEX training_class_county_start ON training_class (county_code, start_date, class_id);
CREATE INDEX training_class_provider_start ON training_class (provider_id, start_date, class_id);
CREATE INDEX training_class_body ON training_class (assessment_body_id, status, end_date);
