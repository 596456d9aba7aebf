-- A scope's claims newest first, straight from an index: an employer's, a provider's, a
-- person's or a county's page of claims reads that page, not the claims table backwards until
-- the page fills (which for a payee with few claims is the whole table).
CREATE INDEX claim_person_key ON claim (person_id, claim_id);
CREATE INDEX claim_employer_key ON claim (employer_id, claim_id);
CREATE INDEX claim_provider_key ON claim (provider_id, claim_id);
CREATE INDEX claim_county_key ON claim (county_code, claim_id);
