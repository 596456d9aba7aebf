-- A claim found by its certificate: the checks that follow a trainee's certificates to the
-- claims paid on them (`checks::past_retirement_age`, `certificate_*`) and every lookup of a
-- certificate's claims read this index instead of every claim (one new claim's incremental
-- checks went from a scan of all claims to a few index lookups).
-- (SQLite.) Keep in lockstep with ../postgres/0024_claim_certificate.sql.
CREATE INDEX claim_certificate ON claim (certificate_id);
