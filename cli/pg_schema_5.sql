-- SPDX-License-Identifier: MIT
-- wmsync's PostgreSQL schema, version 5 (docs/postgres.md): a service
-- order re-dispatched down the tiers (层层派单) names the parent's order it
-- carries on (ServiceOrder.from_order, "LOG:EPOCH:SEQ"); wmsync.service_order
-- gains it as its last column, '' for an order made where it is logged.
-- Nothing is counted differently: the figures count each log's own orders.
CREATE OR REPLACE VIEW wmsync.service_order AS
SELECT node, epoch, seq, captured, (body->>'date')::date AS date,
       (body->>'due')::date AS due, coalesce(body->>'title', '') AS title,
       body->>'service_kind' AS service_kind,
       coalesce(body->>'to_station', '') AS to_station,
       coalesce(body->>'to_team', '') AS to_team,
       ARRAY(SELECT substring(n FROM '^(.*):[0-9]+:[0-9]+$')
             FROM jsonb_array_elements_text(coalesce(body->'needs', '[]')) WITH ORDINALITY AS x(n, i)
             WHERE n ~ '^[^:]+:[0-9]{1,10}:0*[1-9][0-9]{0,19}$' ORDER BY i) AS need_nodes,
       coalesce(body->>'from_order', '') AS from_order
FROM wmsync.records WHERE kind = 'service_order';
