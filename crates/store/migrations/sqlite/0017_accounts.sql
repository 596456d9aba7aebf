-- Accounts the bureau runs (issue 13, part 4): last sign-in, when the password was last set, and
-- a one-time setup code (only its SHA-256 kept) that a new or reset user redeems once to choose a
-- password. Keep in lockstep with ../postgres/0017_accounts.sql.
ALTER TABLE app_user ADD COLUMN last_sign_in_at TIMESTAMPTZ;
ALTER TABLE app_user ADD COLUMN password_set_at TIMESTAMPTZ;
ALTER TABLE app_user ADD COLUMN setup_code_hash TEXT;
ALTER TABLE app_user ADD COLUMN setup_code_expires_at TIMESTAMPTZ;
CREATE INDEX session_by_user ON session (user_id);
CREATE INDEX api_token_by_user ON api_token (user_id);
