-- Check history (store.CheckHistory): a sample per check and minute, and
-- every change of status. A check and host is a series, named once.
CREATE TABLE check_series (
	id         bigserial PRIMARY KEY,
	check_name text NOT NULL,
	host       text NOT NULL,
	UNIQUE (check_name, host)
);

-- Latencies in microseconds.
CREATE TABLE check_samples (
	series_id   bigint      NOT NULL REFERENCES check_series (id),
	minute      timestamptz NOT NULL,
	ok          integer     NOT NULL,
	failing     integer     NOT NULL,
	unknown     integer     NOT NULL,
	latency_n   integer     NOT NULL,
	latency_sum bigint      NOT NULL,
	latency_max bigint      NOT NULL,
	PRIMARY KEY (series_id, minute)
);

CREATE TABLE check_changes (
	series_id bigint      NOT NULL REFERENCES check_series (id),
	at        timestamptz NOT NULL,
	status    text        NOT NULL,
	detail    text        NOT NULL,
	PRIMARY KEY (series_id, at)
);
