-- What a finding touches (S12): the claims, certificates, people, classes, providers and
-- employers its evidence names. A confirmed finding blocks the claims it touches from review,
-- publication and payment (`checks::BLOCKED`); the findings page groups by county and provider.
-- (PostgreSQL.) Keep in lockstep with ../sqlite/0021_finding_link.sql.
CREATE TABLE finding_link (
    finding_id BIGINT NOT NULL REFERENCES finding (finding_id),
    kind TEXT NOT NULL CHECK (kind IN ('claim', 'certificate', 'person', 'class', 'provider', 'employer')),
    ref_id BIGINT NOT NULL,
    PRIMARY KEY (finding_id, kind, ref_id)
);
CREATE INDEX finding_link_ref ON finding_link (kind, ref_id);
ALTER TABLE finding ADD COLUMN county_code TEXT;
ALTER TABLE finding ADD COLUMN provider_id BIGINT;
CREATE INDEX finding_county ON finding (county_code, status);
