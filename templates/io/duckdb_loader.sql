-- Loader (SQL): runs in the DuckDB warehouse when the block names it as its connection
-- (`connection: warehouse` in pipeline.yaml). Variables are bound, never pasted into the SQL.
-- @sluice expects: nothing (it reads its connection's own tables, no upstream).
SELECT *
FROM green_trips
WHERE lpep_pickup_datetime >= {{ variables.since }}
