-- Zoomcamp module 2 cleaning: drop trips without passengers or distance, snake_case the columns,
-- and add the pickup date the lake is partitioned by (with source_month, the file a row came from).
SELECT
  VendorID              AS vendor_id,
  lpep_pickup_datetime,
  lpep_dropoff_datetime,
  CAST(lpep_pickup_datetime AS DATE) AS lpep_pickup_date,
  store_and_fwd_flag,
  RatecodeID            AS ratecode_id,
  PULocationID          AS pu_location_id,
  DOLocationID          AS do_location_id,
  passenger_count,
  trip_distance,
  fare_amount,
  extra,
  mta_tax,
  tip_amount,
  tolls_amount,
  ehail_fee,
  improvement_surcharge,
  total_amount,
  payment_type,
  trip_type,
  congestion_surcharge,
  source_month
FROM load_green_taxi
WHERE passenger_count > 0 AND trip_distance > 0
