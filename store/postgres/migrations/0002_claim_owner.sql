-- Which replica claimed a delivery (its presence lock's name), so that the
-- others can hand its claims back as soon as it is gone instead of waiting
-- for the lease (presence.go). '' for claims made without a presence lock.
ALTER TABLE deliveries ADD COLUMN claimed_by text NOT NULL DEFAULT '';
CREATE INDEX deliveries_sending_owner ON deliveries (claimed_by) WHERE status = 'sending';
