-- Permanent redirects are applied only after three fetches in a row point to the same target.
ALTER TABLE feeds ADD COLUMN redirect_target TEXT;
ALTER TABLE feeds ADD COLUMN redirect_count INTEGER NOT NULL DEFAULT 0;
-- A digest of the feed's entry in feeds.toml (URL, headers, credentials): a feed marked gone
-- (HTTP 410) is tried again only when this changes.
ALTER TABLE feeds ADD COLUMN config_fingerprint TEXT;
