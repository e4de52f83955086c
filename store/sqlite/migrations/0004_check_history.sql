-- 0004: check history (store.CheckHistory): a sample per check and minute,
-- and every change of status. A check and host is a series, named once;
-- samples and changes refer to it by number and are clustered by it
-- (WITHOUT ROWID), so a check's history is one range read and a sample
-- costs some twenty bytes.
CREATE TABLE check_series (
	id         INTEGER PRIMARY KEY,
	check_name TEXT    NOT NULL,
	host       TEXT    NOT NULL,
	UNIQUE (check_name, host)
);

-- minute: Unix time in minutes; latencies in microseconds.
CREATE TABLE check_samples (
	series_id   INTEGER NOT NULL REFERENCES check_series (id),
	minute      INTEGER NOT NULL,
	ok          INTEGER NOT NULL,
	failing     INTEGER NOT NULL,
	unknown     INTEGER NOT NULL,
	latency_n   INTEGER NOT NULL,
	latency_sum INTEGER NOT NULL,
	latency_max INTEGER NOT NULL,
	PRIMARY KEY (series_id, minute)
) WITHOUT ROWID;

-- at: Unix time in milliseconds.
CREATE TABLE check_changes (
	series_id INTEGER NOT NULL REFERENCES check_series (id),
	at        INTEGER NOT NULL,
	status    TEXT    NOT NULL,
	detail    TEXT    NOT NULL,
	PRIMARY KEY (series_id, at)
) WITHOUT ROWID;
