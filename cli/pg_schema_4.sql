-- SPDX-License-Identifier: MIT
-- wmsync's PostgreSQL schema, version 4 (docs/postgres.md): an aggregator
-- counts the orders of its own log only, as `wmctl rollup` does
-- (wm_orders_keep_log): a town that pinned its county holds the county's
-- log to send it down, and the county's orders are the county's, never
-- the town's own figures (dispatched, overdue). The orders counted are
-- those made in the log of an exporting node (wmsync.export_cursor's
-- source), or every order when no cursor says who exported (--since).
CREATE OR REPLACE FUNCTION wmsync.order_figures(p_from date, p_to date, p_node text DEFAULT NULL)
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
    FROM wmsync.order_book() b
    WHERE (p_node IS NULL OR b.counted_at = p_node)
      AND (b.node IN (SELECT source FROM wmsync.export_cursor)
           OR NOT EXISTS (SELECT 1 FROM wmsync.export_cursor)))
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
