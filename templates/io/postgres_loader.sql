-- Loader (SQL, ELT in the warehouse): runs in Postgres when the block names the connection
-- (`connection: default` in pipeline.yaml). Variables are bound, never pasted into the SQL.
-- @sluice expects: nothing (it reads its connection's own tables, no upstream).
SELECT "PULocationID", count(*) AS trips, sum(total_amount) AS revenue
FROM green_trips
WHERE lpep_pickup_datetime >= {{ variables.since }}
GROUP BY 1
