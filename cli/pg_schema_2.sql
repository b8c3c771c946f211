-- SPDX-License-Identifier: MIT
-- wmsync's PostgreSQL schema, version 2 (docs/postgres.md): published
-- rollups in their binary form. A town (or any tier) whose upstream agreed
-- the feature rollup-bin publishes a period as RollupPart records (kind
-- rollup_part in wmsync.records, the bytes in `record`); `wmctl export`
-- joins them as the node's log does and loads the rollup object here,
-- keyed by the period's last part. wmsync.rollup shows both forms.

CREATE TABLE wmsync.rollup_joined (
    node     text   NOT NULL,
    epoch    bigint NOT NULL,
    seq      bigint NOT NULL,
    period   text   NOT NULL,
    from_day date   NOT NULL,
    to_day   date   NOT NULL,
    report   jsonb  NOT NULL,
    PRIMARY KEY (node, epoch, seq)
);

DROP VIEW wmsync.rollup;
CREATE VIEW wmsync.rollup AS
SELECT x.*, row_number() OVER (PARTITION BY node, period ORDER BY epoch DESC, seq DESC) = 1
           AS latest
FROM (
    SELECT r.node, r.epoch, r.seq, r.captured, r.body->>'period' AS period,
           (r.body->>'from')::date AS from_day, (r.body->>'to')::date AS to_day,
           wmsync.try_jsonb(r.body->>'json') AS report, 'json' AS form
    FROM wmsync.records r WHERE r.kind = 'rollup'
    UNION ALL
    SELECT j.node, j.epoch, j.seq, r.captured, j.period, j.from_day, j.to_day, j.report,
           'binary' AS form
    FROM wmsync.rollup_joined j
    JOIN wmsync.records r USING (node, epoch, seq)
) x;
