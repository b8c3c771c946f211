-- SPDX-License-Identifier: MIT
-- wmsync's PostgreSQL schema, version 1 (docs/postgres.md). Run once by
-- `wmctl export` inside the migration transaction, which also records the
-- version in wmsync.schema_version. Never edit a shipped version: a
-- change is a new pg_schema_N.sql file (cli/CMakeLists.txt lists them).

CREATE SCHEMA IF NOT EXISTS wmsync;

-- One row per exported record: only fully verified records (the log of
-- the exporting node, never its inbox), exactly as signed. `record` is the
-- signed record bytes and `signature` the Ed25519 signature over
-- "wmsync/record/v1\0" || record; `hash` is BLAKE2b-256 of signature ||
-- record, the hash the next record's `prev` names. `body` is the record's
-- body (the object under its kind in `wmctl log --json`).
CREATE TABLE wmsync.records (
    node      text        NOT NULL,
    epoch     bigint      NOT NULL CHECK (epoch BETWEEN 1 AND 4294967295),
    seq       bigint      NOT NULL CHECK (seq >= 1),
    kind      text        NOT NULL,
    captured  timestamptz NOT NULL,
    prev      bytea       NOT NULL,
    hash      bytea       NOT NULL,
    signature bytea       NOT NULL,
    record    bytea       NOT NULL,
    body      jsonb       NOT NULL,
    PRIMARY KEY (node, epoch, seq)
);
CREATE INDEX records_kind ON wmsync.records (kind, node);
-- Finds the void of a record (wmsync.void).
CREATE INDEX records_void_target ON wmsync.records
    (node, (coalesce(nullif(body->>'target_epoch', '')::bigint, epoch)),
     ((body->>'target_seq')::bigint))
    WHERE kind = 'void';

-- How far each node's log is exported from each source (the aggregator
-- that exported it): written in the same transaction as the rows.
CREATE TABLE wmsync.export_cursor (
    source  text        NOT NULL,
    node    text        NOT NULL,
    epoch   bigint      NOT NULL,
    seq     bigint      NOT NULL,
    rows    bigint      NOT NULL DEFAULT 0,
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, node)
);

-- text -> jsonb, NULL where it is not JSON (a report's `json` is signed
-- text, not checked by the protocol).
CREATE FUNCTION wmsync.try_jsonb(t text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN t::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- Voids: the record each one cancels. Only the first void of a target
-- subtracts it, a void of a void changes no figure, so a record counts
-- when no void names it (wmsync.records_live).
CREATE VIEW wmsync.void AS
SELECT node, epoch, seq, captured,
       coalesce(nullif(body->>'target_epoch', '')::bigint, epoch) AS target_epoch,
       (body->>'target_seq')::bigint AS target_seq,
       body->>'reason' AS reason
FROM wmsync.records WHERE kind = 'void';

CREATE VIEW wmsync.records_live AS
SELECT r.*, EXISTS (SELECT 1 FROM wmsync.records v
                    WHERE v.kind = 'void' AND v.node = r.node
                      AND coalesce(nullif(v.body->>'target_epoch', '')::bigint, v.epoch) = r.epoch
                      AND (v.body->>'target_seq')::bigint = r.seq) AS voided
FROM wmsync.records r;

-- One view per record kind; `voided` says a void cancels the record.
CREATE VIEW wmsync.activity AS
SELECT node, epoch, seq, captured, voided,
       (body->>'date')::date AS date,
       body->>'category' AS category,
       body->>'service_kind' AS service_kind,
       coalesce(body->>'title', '') AS title,
       coalesce(body->>'place', '') AS place,
       coalesce(body->>'team', '') AS team,
       coalesce((body->>'participants')::bigint, 0) AS participants,
       coalesce((body->>'volunteers')::bigint, 0) AS volunteers,
       round(coalesce((body->>'hours')::numeric, 0) * 100)::bigint AS hours_x100,
       coalesce(ARRAY(SELECT jsonb_array_elements_text(body->'tags')), '{}') AS tags
FROM wmsync.records_live WHERE kind = 'activity';

CREATE VIEW wmsync.publicity AS
SELECT node, epoch, seq, captured, voided, (body->>'date')::date AS date,
       body->>'channel' AS channel, coalesce((body->>'count')::bigint, 0) AS count
FROM wmsync.records_live WHERE kind = 'publicity';

CREATE VIEW wmsync.volunteers AS
SELECT node, epoch, seq, captured, voided, (body->>'date')::date AS date,
       coalesce((body->>'registered')::bigint, 0) AS registered,
       coalesce((body->>'verified')::bigint, 0) AS verified
FROM wmsync.records_live WHERE kind = 'volunteers';

CREATE VIEW wmsync.recruitment AS
SELECT node, epoch, seq, captured, voided, (body->>'date')::date AS date,
       coalesce((body->>'count')::bigint, 0) AS count
FROM wmsync.records_live WHERE kind = 'recruitment';

CREATE VIEW wmsync.team AS
SELECT node, epoch, seq, captured, voided, body->>'team' AS team,
       coalesce(body->>'action', '') AS action, coalesce(body->>'name', '') AS name,
       coalesce(body->>'kind', '') AS team_kind, coalesce(body->>'trade', '') AS trade
FROM wmsync.records_live WHERE kind = 'team';

CREATE VIEW wmsync.funding AS
SELECT node, epoch, seq, captured, voided, (body->>'date')::date AS date,
       round(coalesce((body->>'yuan')::numeric, 0) * 100)::bigint AS fen,
       coalesce(body->>'source', '') AS source
FROM wmsync.records_live WHERE kind = 'funding';

CREATE VIEW wmsync.site AS
SELECT node, epoch, seq, captured, voided, (body->>'date')::date AS date,
       coalesce((body->>'plaque')::boolean, false) AS plaque,
       coalesce((body->>'rules')::boolean, false) AS rules,
       coalesce((body->>'equipment')::boolean, false) AS equipment,
       coalesce((body->>'manager')::boolean, false) AS manager,
       coalesce((body->>'ledger')::boolean, false) AS ledger,
       coalesce((body->>'plan')::boolean, false) AS plan,
       coalesce((body->>'theme')::boolean, false) AS theme,
       coalesce((body->>'model_station')::boolean, false) AS model_station
FROM wmsync.records_live WHERE kind = 'site';

CREATE VIEW wmsync.plan AS
SELECT node, epoch, seq, captured, voided, coalesce(body->>'title', '') AS title,
       (body->>'due')::date AS due
FROM wmsync.records_live WHERE kind = 'plan';

CREATE VIEW wmsync.plan_done AS
SELECT node, epoch, seq, captured, voided,
       coalesce(nullif(body->>'plan_epoch', '')::bigint, epoch) AS plan_epoch,
       (body->>'plan_seq')::bigint AS plan_seq, (body->>'date')::date AS date
FROM wmsync.records_live WHERE kind = 'plan_done';

-- The published rollups: every signed report of a town or county, and
-- whether it is the node's latest of its period (the one the tier above
-- sums). `report` is the rollup object of docs/rollup-json.md.
CREATE VIEW wmsync.rollup AS
SELECT node, epoch, seq, captured, body->>'period' AS period,
       (body->>'from')::date AS from_day, (body->>'to')::date AS to_day,
       wmsync.try_jsonb(body->>'json') AS report,
       row_number() OVER (PARTITION BY node, body->>'period' ORDER BY epoch DESC, seq DESC) = 1
           AS latest
FROM wmsync.records WHERE kind = 'rollup';

-- ---- The standard figures, exactly as `wmctl rollup` counts them ----
--
-- Every counted figure by node, day (the date the record names) and
-- dimension, long form: sum `value` over a range of days for a period.
-- late_entries compares the capture time's local date, in this session's
-- TimeZone: set it to the exporting aggregator's (docs/postgres.md).
CREATE VIEW wmsync.figure_days AS
SELECT node, date AS day, 'activities' AS figure, category AS dim, count(*) AS value
FROM wmsync.activity WHERE NOT voided GROUP BY node, date, category
UNION ALL
SELECT node, date, 'volunteer_services', service_kind, count(*)
FROM wmsync.activity WHERE NOT voided AND category = 'volunteer_service'
GROUP BY node, date, service_kind
UNION ALL
SELECT node, date, x.figure, '', sum(x.value)::bigint
FROM wmsync.activity a,
     LATERAL (VALUES ('participants', a.participants), ('activity_volunteers', a.volunteers),
                     ('service_hours_x100', a.hours_x100),
                     ('festival_events', (a.category = 'culture_sports' AND cardinality(a.tags) > 0)::int),
                     ('grassroots_lectures', ('基层宣讲' = ANY (a.tags))::int),
                     ('late_entries', (a.captured::date - a.date > 7)::int)) AS x(figure, value)
WHERE NOT a.voided GROUP BY node, date, x.figure
UNION ALL
SELECT node, date, 'publicity', channel, sum(count)::bigint
FROM wmsync.publicity WHERE NOT voided GROUP BY node, date, channel
UNION ALL
SELECT node, date, x.figure, '', sum(x.value)::bigint
FROM wmsync.volunteers v,
     LATERAL (VALUES ('volunteers_registered', v.registered),
                     ('volunteers_verified', v.verified)) AS x(figure, value)
WHERE NOT v.voided GROUP BY node, date, x.figure
UNION ALL
SELECT node, date, 'recruitment_posts', '', sum(count)::bigint
FROM wmsync.recruitment WHERE NOT voided GROUP BY node, date
UNION ALL
SELECT node, date, 'funding_fen', '', sum(fen)::bigint
FROM wmsync.funding WHERE NOT voided GROUP BY node, date;

-- Each node's teams (the first record of a team id creates it) and the
-- volunteer services each one served: an activity counts for its team
-- only if the team existed before it in the log.
CREATE VIEW wmsync.team_first AS
SELECT DISTINCT ON (node, body->>'team') node, body->>'team' AS team, epoch, seq
FROM wmsync.records WHERE kind = 'team'
ORDER BY node, body->>'team', epoch, seq;

CREATE VIEW wmsync.team_service_days AS
SELECT a.node, a.team, a.date AS day, count(*) AS value
FROM wmsync.activity a JOIN wmsync.team_first t ON t.node = a.node AND t.team = a.team
WHERE NOT a.voided AND a.category = 'volunteer_service' AND (t.epoch, t.seq) < (a.epoch, a.seq)
GROUP BY a.node, a.team, a.date;

-- Plans and when each was done: the latest completion in log order after
-- the plan, unless the first void of that completion came later.
CREATE VIEW wmsync.plan_status AS
SELECT p.node, p.epoch, p.seq, p.title, p.due, p.voided,
       (SELECT e.done FROM (
            SELECT d.epoch, d.seq, d.date AS done
            FROM wmsync.plan_done d
            WHERE d.node = p.node AND d.plan_epoch = p.epoch AND d.plan_seq = p.seq
              AND (d.epoch, d.seq) > (p.epoch, p.seq)
            UNION ALL
            SELECT fv.epoch, fv.seq, NULL
            FROM wmsync.plan_done d
            CROSS JOIN LATERAL (SELECT v.epoch, v.seq FROM wmsync.void v
                                WHERE v.node = d.node AND v.target_epoch = d.epoch
                                  AND v.target_seq = d.seq
                                ORDER BY v.epoch, v.seq LIMIT 1) fv
            WHERE d.node = p.node AND d.plan_epoch = p.epoch AND d.plan_seq = p.seq
              AND (d.epoch, d.seq) > (p.epoch, p.seq)
        ) e ORDER BY e.epoch DESC, e.seq DESC LIMIT 1) AS done
FROM wmsync.plan p;

-- Each node's latest site checklist that no void cancels (by its date; a
-- later record wins a tie).
CREATE VIEW wmsync.site_latest AS
SELECT DISTINCT ON (node) node, epoch, seq, date, plaque, rules, equipment, manager,
       ledger, plan, theme, model_station
FROM wmsync.site WHERE NOT voided ORDER BY node, date DESC, epoch DESC, seq DESC;

-- The `totals` object of `wmctl rollup --format json` for days
-- [p_from, p_to] of one node (p_node), or of every node (NULL: the
-- aggregator's own scope), as of p_today (overdue plans count up to the
-- end of the period or today, whichever is earlier).
CREATE FUNCTION wmsync.totals(p_from date, p_to date, p_node text DEFAULT NULL,
                              p_today date DEFAULT current_date)
RETURNS jsonb LANGUAGE sql STABLE AS $$
WITH f AS (
    SELECT figure, dim, sum(value)::bigint AS v FROM wmsync.figure_days
    WHERE day BETWEEN p_from AND p_to AND (p_node IS NULL OR node = p_node)
    GROUP BY figure, dim),
cum AS (
    SELECT figure, sum(value)::bigint AS v FROM wmsync.figure_days
    WHERE day <= p_to AND figure IN ('volunteers_registered', 'volunteers_verified')
      AND (p_node IS NULL OR node = p_node)
    GROUP BY figure),
dims(figure, dim) AS (VALUES
    ('activities', 'theme_lecture'), ('activities', 'theory_education'),
    ('activities', 'party_training'), ('activities', 'civilization_practice'),
    ('activities', 'culture_sports'), ('activities', 'volunteer_service'),
    ('volunteer_services', 'environmental'), ('volunteer_services', 'science'),
    ('volunteer_services', 'legal'), ('volunteer_services', 'campus_safety'),
    ('volunteer_services', 'traffic'), ('volunteer_services', 'assistance'),
    ('volunteer_services', 'other'),
    ('publicity', 'wechat'), ('publicity', 'website'), ('publicity', 'poster'),
    ('publicity', 'leaflet')),
byd AS (
    SELECT d.figure, jsonb_object_agg(d.dim, coalesce(f.v, 0))
               || jsonb_build_object('total', coalesce(sum(f.v), 0)) AS o
    FROM dims d LEFT JOIN f USING (figure, dim) GROUP BY d.figure),
teams AS (
    SELECT coalesce(jsonb_object_agg(CASE WHEN p_node IS NULL THEN t.node || '/' ELSE '' END
                                     || t.team, coalesce(s.v, 0)), '{}') AS o
    FROM wmsync.team_first t
    LEFT JOIN (SELECT node, team, sum(value)::bigint AS v FROM wmsync.team_service_days
               WHERE day BETWEEN p_from AND p_to GROUP BY node, team) s
           ON s.node = t.node AND s.team = t.team
    WHERE p_node IS NULL OR t.node = p_node),
sites AS (
    SELECT count(*) AS reporting, count(*) FILTER (WHERE plaque) AS plaque,
           count(*) FILTER (WHERE rules) AS rules, count(*) FILTER (WHERE equipment) AS equipment,
           count(*) FILTER (WHERE manager) AS manager, count(*) FILTER (WHERE ledger) AS ledger,
           count(*) FILTER (WHERE plan) AS plan, count(*) FILTER (WHERE theme) AS theme,
           count(*) FILTER (WHERE plaque AND rules AND equipment AND manager AND ledger AND plan
                                  AND theme) AS six_haves,
           count(*) FILTER (WHERE model_station) AS model_stations
    FROM wmsync.site_latest WHERE p_node IS NULL OR node = p_node),
plans AS (
    SELECT count(*) FILTER (WHERE due BETWEEN p_from AND p_to) AS due,
           count(*) FILTER (WHERE done BETWEEN p_from AND p_to) AS done,
           count(*) FILTER (WHERE due < least(p_to, p_today)
                              AND (done IS NULL OR done > least(p_to, p_today))) AS overdue
    FROM wmsync.plan_status WHERE NOT voided AND (p_node IS NULL OR node = p_node)),
one(figure, v) AS (
    SELECT x, coalesce((SELECT sum(v) FROM f WHERE f.figure = x), 0)::bigint
    FROM unnest(ARRAY['participants', 'activity_volunteers', 'service_hours_x100',
                      'festival_events', 'grassroots_lectures', 'late_entries',
                      'recruitment_posts', 'funding_fen', 'volunteers_registered',
                      'volunteers_verified']) AS x)
SELECT jsonb_build_object(
    'activities', (SELECT o FROM byd WHERE figure = 'activities'),
    'volunteer_services', jsonb_build_object(
        'by_kind', (SELECT o FROM byd WHERE figure = 'volunteer_services'),
        'by_team', (SELECT o FROM teams),
        'total', (SELECT o->'volunteer_service' FROM byd WHERE figure = 'activities')),
    'participants', (SELECT v FROM one WHERE figure = 'participants'),
    'activity_volunteers', (SELECT v FROM one WHERE figure = 'activity_volunteers'),
    'service_hours_x100', (SELECT v FROM one WHERE figure = 'service_hours_x100'),
    'service_hours', round((SELECT v FROM one WHERE figure = 'service_hours_x100') / 100.0, 2),
    'festival_events', (SELECT v FROM one WHERE figure = 'festival_events'),
    'grassroots_lectures', (SELECT v FROM one WHERE figure = 'grassroots_lectures'),
    'late_entries', (SELECT v FROM one WHERE figure = 'late_entries'),
    'recruitment_posts', (SELECT v FROM one WHERE figure = 'recruitment_posts'),
    'funding_fen', (SELECT v FROM one WHERE figure = 'funding_fen'),
    'funding_yuan', round((SELECT v FROM one WHERE figure = 'funding_fen') / 100.0, 2),
    'publicity', (SELECT o FROM byd WHERE figure = 'publicity'),
    'volunteers', jsonb_build_object(
        'registered', (SELECT v FROM one WHERE figure = 'volunteers_registered'),
        'verified', (SELECT v FROM one WHERE figure = 'volunteers_verified'),
        'registered_cumulative', coalesce((SELECT v FROM cum WHERE figure = 'volunteers_registered'), 0),
        'verified_cumulative', coalesce((SELECT v FROM cum WHERE figure = 'volunteers_verified'), 0)),
    'sites', (SELECT to_jsonb(sites) FROM sites),
    'plans', (SELECT to_jsonb(plans) FROM plans))
$$;
