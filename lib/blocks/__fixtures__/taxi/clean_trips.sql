-- keep trips of at least {{ variables.min_distance }} miles, and those whose distance is unknown
SELECT *
FROM load_trips
WHERE trip_distance IS NULL OR trip_distance >= {{ variables.min_distance }};
