-- Loader (SQL): runs in the DuckDB warehouse when the block names it as its connection
-- (`connection: warehouse` in pipeline.yaml). Variables are bound, never pasted into the SQL.
SELECT *
FROM green_trips
WHERE lpep_pickup_datetime >= {{ variables.since }}
