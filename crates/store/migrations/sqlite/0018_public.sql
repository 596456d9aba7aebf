-- Budget against commitments (S6): the earmark adopted for each fund, with its document. Every
-- adoption is kept; the latest (by adoption date, then by when it was recorded) is in force.
-- (SQLite.) Keep in lockstep with ../postgres/0018_public.sql.
CREATE TABLE fund_earmark (
    fund_earmark_id INTEGER PRIMARY KEY,
    fund_code TEXT NOT NULL REFERENCES fund (fund_code),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    document TEXT NOT NULL,
    adopted_on DATE NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES app_user (user_id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX fund_earmark_fund ON fund_earmark (fund_code, adopted_on);
