SELECT
  {{ variables.name }} AS name,
  {{ variables.limit }} AS lim,
  {{ logical_date }} AS logical_date,
  {{ run_id }} AS run_id,
  (SELECT count(*) FROM load_trips) AS upstream_rows
