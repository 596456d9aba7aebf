-- Payees' bank accounts (收款账户): where a subsidy is paid. A payee (a person, an employer or
-- a provider) has at most one account in force; recording a new one retires the old, which is
-- kept. `declared` when the payee recorded it, `county_verified` when an office did. Each
-- payment keeps the account it went to. The oversight check `shared_bank_account` looks for one
-- account in force for different payees (S12), by the index on the number.
-- (SQLite.) Keep in lockstep with ../postgres/0023_bank_account.sql.
CREATE TABLE bank_account (
    bank_account_id INTEGER PRIMARY KEY,
    payee_kind TEXT NOT NULL CHECK (payee_kind IN ('person', 'employer', 'provider')),
    payee_id BIGINT NOT NULL,
    bank TEXT NOT NULL,
    account_no TEXT NOT NULL,
    holder TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('declared', 'county_verified')),
    recorded_by BIGINT REFERENCES app_user (user_id),
    recorded_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX bank_account_payee_current ON bank_account (payee_kind, payee_id) WHERE retired_at IS NULL;
CREATE INDEX bank_account_number ON bank_account (account_no) WHERE retired_at IS NULL;
ALTER TABLE payment ADD COLUMN account_no TEXT;
