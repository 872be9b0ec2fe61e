WITH t AS (SELECT *, trip_distance * 2 AS double_distance FROM clean_trips)
SELECT * FROM t ORDER BY pickup NULLS LAST -- trailing comment
