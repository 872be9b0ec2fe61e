-- Every upstream block is a table of its own name.
SELECT
  borough,
  count(*)              AS trips,
  sum(passengers)       AS passengers,
  round(avg(fare), 2)   AS avg_fare,
  round(sum(fare), 2)   AS total_fare
FROM load_trips
GROUP BY borough
ORDER BY borough
