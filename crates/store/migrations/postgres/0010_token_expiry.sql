-- API tokens expire and can be revoked; sessions end after a time without use.
ALTER TABLE api_token ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_token ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE session ADD COLUMN last_seen_at TIMESTAMPTZ;
