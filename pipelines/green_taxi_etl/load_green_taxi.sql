-- The green taxi trips of the run's slice, read straight from the monthly CSV.gz files green_files lists
-- (DuckDB reads the months in parallel; the rows never leave the run's database on their way to clean_trips).
-- Explicit column types, as in the Zoomcamp's pandas dtype map: no guessing, and a bad value fails loudly.
-- Each row keeps the month of the file it came from (source_month), which the exporters replace by; a run
-- with a data interval keeps only the trips picked up on its days (green_files' pickup_from/pickup_to).
SELECT
  * EXCLUDE (filename),
  regexp_extract(filename, '(\d{4}-\d{2})\.csv', 1) AS source_month
FROM read_csv(
  {{ upstream.green_files.path }},
  header = true,
  timestampformat = '%Y-%m-%d %H:%M:%S',
  filename = true,
  columns = {
    'VendorID': 'INTEGER',
    'lpep_pickup_datetime': 'TIMESTAMP',
    'lpep_dropoff_datetime': 'TIMESTAMP',
    'store_and_fwd_flag': 'VARCHAR',
    'RatecodeID': 'INTEGER',
    'PULocationID': 'INTEGER',
    'DOLocationID': 'INTEGER',
    'passenger_count': 'INTEGER',
    'trip_distance': 'DOUBLE',
    'fare_amount': 'DOUBLE',
    'extra': 'DOUBLE',
    'mta_tax': 'DOUBLE',
    'tip_amount': 'DOUBLE',
    'tolls_amount': 'DOUBLE',
    'ehail_fee': 'DOUBLE',
    'improvement_surcharge': 'DOUBLE',
    'total_amount': 'DOUBLE',
    'payment_type': 'INTEGER',
    'trip_type': 'INTEGER',
    'congestion_surcharge': 'DOUBLE'
  }
)
WHERE (SELECT max(pickup_from) FROM green_files) = ''
   OR (lpep_pickup_datetime >= (SELECT CAST(NULLIF(max(pickup_from), '') AS TIMESTAMP) FROM green_files)
       AND lpep_pickup_datetime < (SELECT CAST(NULLIF(max(pickup_to), '') AS TIMESTAMP) FROM green_files))
