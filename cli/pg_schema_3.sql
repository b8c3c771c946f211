-- SPDX-License-Identifier: MIT
-- wmsync's PostgreSQL schema, version 3 (docs/postgres.md): the figures of
-- needs and orders (群众点单、派单、接单、评单; record.proto 30–39) in the
-- views, as `wmctl rollup` counts them (storage/wm_orders.c): the order
-- state machine is a fold over the records of every exported log, applied
-- sorted by each record's own date and step, again while a pass changes
-- anything (PROTOCOL.md §5, "Order of application"); each figure counts in
-- the period of its own record's date; overdue is judged at the period's
-- end. wmsync.totals gains the "orders" object of the rollup JSON (absent
-- when every figure is 0, as wmctl rollup writes it).

-- A resident's need, raised at a station (its log is `node`).
CREATE VIEW wmsync.need AS
SELECT node, epoch, seq, captured, (body->>'date')::date AS date,
       coalesce(body->>'title', '') AS title, body->>'service_kind' AS service_kind
FROM wmsync.records WHERE kind = 'need';

-- The aggregator's review of a need (`node` is the reviewer).
CREATE VIEW wmsync.need_review AS
SELECT node, epoch, seq, captured, (body->>'date')::date AS date,
       body->>'need_station' AS need_node,
       coalesce((body->>'need_epoch')::bigint, 0) AS need_epoch,
       coalesce((body->>'need_seq')::bigint, 0) AS need_seq,
       coalesce((body->>'accept')::boolean, false) AS accept,
       coalesce(body->>'reason', '') AS reason
FROM wmsync.records WHERE kind = 'need_review';

-- A service order, made in the aggregator's log `node`; need_nodes: the
-- logs that raised the needs it answers (from their ids LOG:EPOCH:SEQ).
CREATE VIEW wmsync.service_order AS
SELECT node, epoch, seq, captured, (body->>'date')::date AS date,
       (body->>'due')::date AS due, coalesce(body->>'title', '') AS title,
       body->>'service_kind' AS service_kind,
       coalesce(body->>'to_station', '') AS to_station,
       coalesce(body->>'to_team', '') AS to_team,
       ARRAY(SELECT substring(n FROM '^(.*):[0-9]+:[0-9]+$')
             FROM jsonb_array_elements_text(coalesce(body->'needs', '[]')) WITH ORDINALITY AS x(n, i)
             WHERE n ~ '^[^:]+:[0-9]{1,10}:0*[1-9][0-9]{0,19}$' ORDER BY i) AS need_nodes
FROM wmsync.records WHERE kind = 'service_order';

-- Every step on an order, with its rank among the steps of one day (the
-- order in which a node applies them): reviews 1, the aggregator's
-- assignment 2, acceptances 3, completions 4, ratings 5, cancellations 6.
-- `named`: the station an order_assigned / order_completed names.
CREATE VIEW wmsync.order_step AS
SELECT node, epoch, seq, captured, kind, (body->>'date')::date AS date,
       CASE kind WHEN 'order_assigned' THEN 2 WHEN 'order_accept' THEN 3
                 WHEN 'order_done' THEN 4 WHEN 'order_completed' THEN 4
                 WHEN 'rating' THEN 5 ELSE 6 END AS rank,
       body->>'order_station' AS order_node,
       coalesce((body->>'order_epoch')::bigint, 0) AS order_epoch,
       coalesce((body->>'order_seq')::bigint, 0) AS order_seq,
       coalesce(body->>'station', '') AS named,
       coalesce(body->>'team', '') AS team,
       substring(body->>'score' FROM '[0-9]+')::int AS score
FROM wmsync.records
WHERE kind IN ('order_accept', 'order_done', 'rating', 'order_cancel', 'order_assigned',
               'order_completed');

-- Each need and its review: pending until the first review from another
-- log than the need's own, in the order of application (a review dated
-- before the need applies only when none dated on or after it does).
CREATE VIEW wmsync.need_status AS
SELECT DISTINCT ON (n.node, n.epoch, n.seq)
       n.node, n.epoch, n.seq, n.date, n.title,
       CASE WHEN r.node IS NULL THEN 'pending' WHEN r.accept THEN 'accepted' ELSE 'rejected' END
           AS state,
       r.date AS reviewed
FROM wmsync.need n
LEFT JOIN wmsync.need_review r
       ON r.need_node = n.node AND r.need_epoch = n.epoch AND r.need_seq = n.seq
          AND r.node <> n.node
ORDER BY n.node, n.epoch, n.seq, (r.date < n.date), r.date, r.node COLLATE "C", r.epoch, r.seq;

-- One step applied to an order's state (storage/wm_orders.c, station_step).
CREATE FUNCTION wmsync.order_apply(o wmsync.service_order, x wmsync.order_step,
                                   INOUT st text, INOUT taker text, INOUT acc date,
                                   INOUT dn date, INOUT rt date, INOUT cn date, INOUT sc int)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF x.kind = 'order_accept' THEN
        IF st = 'dispatched' AND (o.to_station = '' OR o.to_station = x.node) THEN
            taker := x.node; st := 'accepted'; acc := x.date;
        END IF;
    ELSIF x.kind = 'order_done' THEN
        IF st = 'accepted' AND taker = x.node THEN
            st := 'done'; dn := x.date;
        END IF;
    ELSIF x.kind = 'rating' THEN
        IF st = 'done' AND (CASE WHEN cardinality(o.need_nodes) = 0 THEN taker = x.node
                                 ELSE x.node = ANY (o.need_nodes) END) THEN
            st := 'rated'; rt := x.date; sc := x.score;
        END IF;
    ELSIF x.node = o.node AND st IN ('dispatched', 'accepted') THEN
        IF x.kind = 'order_cancel' THEN
            st := 'cancelled'; cn := x.date;
        ELSIF x.kind = 'order_assigned' THEN
            taker := x.named; st := 'accepted'; acc := x.date;
        ELSE -- order_completed
            taker := x.named; acc := coalesce(acc, x.date); st := 'done'; dn := x.date;
        END IF;
    END IF;
END $$;

-- The book of orders: each order's state and the dates of its steps, as
-- every node computes it. A first pass applies the steps sorted after the
-- order's creation (dated on or after it), later passes every step, while
-- a pass changes anything. `counted_at`: the station an order counts at
-- (the taker; not taken: the station addressed; open: the aggregator).
CREATE FUNCTION wmsync.order_book()
RETURNS TABLE (node text, epoch bigint, seq bigint, title text, date date, due date,
               to_station text, station text, state text, accepted date, done date,
               rated date, cancelled date, score int, counted_at text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    g record;
    x wmsync.order_step;
    st text; taker text; acc date; dn date; rt date; cn date; sc int;
    before text;
    pass int;
BEGIN
    FOR g IN
        SELECT o, array_agg(s ORDER BY s.date, s.rank, s.node COLLATE "C", s.epoch, s.seq)
                   FILTER (WHERE s.node IS NOT NULL) AS steps
        FROM wmsync.service_order o
        LEFT JOIN wmsync.order_step s
               ON s.order_node = o.node AND s.order_epoch = o.epoch AND s.order_seq = o.seq
        GROUP BY o
    LOOP
        st := 'dispatched'; taker := ''; acc := NULL; dn := NULL; rt := NULL; cn := NULL;
        sc := NULL; pass := 0;
        LOOP
            before := concat_ws('|', st, taker, acc, dn, rt, cn, sc);
            FOREACH x IN ARRAY coalesce(g.steps, '{}') LOOP
                IF pass > 0 OR x.date >= (g.o).date THEN
                    SELECT * INTO st, taker, acc, dn, rt, cn, sc
                    FROM wmsync.order_apply(g.o, x, st, taker, acc, dn, rt, cn, sc);
                END IF;
            END LOOP;
            pass := pass + 1;
            EXIT WHEN pass > 1 AND concat_ws('|', st, taker, acc, dn, rt, cn, sc) = before;
        END LOOP;
        node := (g.o).node; epoch := (g.o).epoch; seq := (g.o).seq; title := (g.o).title;
        date := (g.o).date; due := (g.o).due; to_station := (g.o).to_station;
        station := taker; state := st; accepted := acc; done := dn; rated := rt;
        cancelled := cn; score := sc;
        counted_at := CASE WHEN taker <> '' THEN taker WHEN (g.o).to_station <> ''
                           THEN (g.o).to_station ELSE (g.o).node END;
        RETURN NEXT;
    END LOOP;
END $$;

CREATE VIEW wmsync.order_status AS SELECT * FROM wmsync.order_book();

-- The "orders" object of `wmctl rollup --format json` for days
-- [p_from, p_to] of one node (a need counts at the station that raised
-- it, an order at counted_at) or of every node (NULL); NULL when every
-- figure is 0. The two ratios are derived from the sums (NULL without a
-- closed loop).
CREATE FUNCTION wmsync.order_figures(p_from date, p_to date, p_node text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE AS $$
WITH n AS (
    SELECT count(*) FILTER (WHERE date BETWEEN p_from AND p_to) AS needs_received,
           count(*) FILTER (WHERE state = 'accepted' AND reviewed BETWEEN p_from AND p_to)
               AS needs_accepted,
           count(*) FILTER (WHERE state = 'rejected' AND reviewed BETWEEN p_from AND p_to)
               AS needs_rejected
    FROM wmsync.need_status WHERE p_node IS NULL OR node = p_node),
o AS (
    SELECT count(*) FILTER (WHERE date BETWEEN p_from AND p_to) AS orders_dispatched,
           count(*) FILTER (WHERE station <> '' AND accepted BETWEEN p_from AND p_to)
               AS orders_accepted,
           count(*) FILTER (WHERE station <> '' AND done BETWEEN p_from AND p_to) AS orders_done,
           count(*) FILTER (WHERE date <= p_to AND due <= p_to
                              AND NOT coalesce(done <= p_to, false)
                              AND NOT coalesce(cancelled <= p_to, false)) AS orders_overdue,
           count(*) FILTER (WHERE state = 'rated' AND rated BETWEEN p_from AND p_to)
               AS loops_closed,
           coalesce(sum(score) FILTER (WHERE state = 'rated' AND rated BETWEEN p_from AND p_to),
                    0) AS rating_sum,
           count(*) FILTER (WHERE state = 'rated' AND rated BETWEEN p_from AND p_to
                              AND score >= 4) AS ratings_satisfied
    FROM wmsync.order_book() b WHERE p_node IS NULL OR b.counted_at = p_node)
SELECT CASE WHEN n.needs_received + n.needs_accepted + n.needs_rejected + o.orders_dispatched
                 + o.orders_accepted + o.orders_done + o.orders_overdue + o.loops_closed
                 + o.rating_sum + o.ratings_satisfied = 0 THEN NULL
       ELSE jsonb_build_object(
           'needs_received', n.needs_received, 'needs_accepted', n.needs_accepted,
           'needs_rejected', n.needs_rejected, 'orders_dispatched', o.orders_dispatched,
           'orders_accepted', o.orders_accepted, 'orders_done', o.orders_done,
           'orders_overdue', o.orders_overdue, 'loops_closed', o.loops_closed,
           'rating_sum', o.rating_sum, 'ratings_satisfied', o.ratings_satisfied,
           'rating_avg', CASE WHEN o.loops_closed > 0
                              THEN o.rating_sum::float8 / o.loops_closed END,
           'satisfaction_rate', CASE WHEN o.loops_closed > 0
                                     THEN o.ratings_satisfied::float8 / o.loops_closed END)
       END
FROM n, o
$$;

-- wmsync.totals of version 1 stays as wmsync.totals_records (every figure
-- but those of needs and orders); wmsync.totals adds "orders".
ALTER FUNCTION wmsync.totals(date, date, text, date) RENAME TO totals_records;
CREATE FUNCTION wmsync.totals(p_from date, p_to date, p_node text DEFAULT NULL,
                              p_today date DEFAULT current_date)
RETURNS jsonb LANGUAGE sql STABLE AS $$
SELECT wmsync.totals_records(p_from, p_to, p_node, p_today)
       || CASE WHEN f IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('orders', f) END
FROM (SELECT wmsync.order_figures(p_from, p_to, p_node) AS f) x
$$;
