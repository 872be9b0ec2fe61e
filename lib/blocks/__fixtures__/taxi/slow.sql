SELECT count(*) AS n FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1
