-- 0003: indexes for history pages and a leaner claim queue.
--
-- History filtered by recipient or status walks (phone, message_id) or
-- (status, message_id) backwards, newest message first, and stops after one
-- page, however many deliveries match.
CREATE INDEX deliveries_phone_message ON deliveries (phone, message_id);
CREATE INDEX deliveries_status_message ON deliveries (status, message_id);

-- The claim queue only ever looks at queued rows (by due time) and sending
-- rows (by lease). Partial indexes hold just those: final deliveries, the
-- bulk of the table, leave them, and a new delivery touches only the first.
DROP INDEX deliveries_status_next;
DROP INDEX deliveries_status_lease;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status = 'sending';
