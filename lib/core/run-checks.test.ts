import { UserError } from "./errors";
import { newBlockSpec, newPipeline } from "./builders";
import { assertRunnable, findRunIssues } from "./pipeline-checks";
import { tablesReadBy } from "./sql-tables";

describe("tablesReadBy", () => {
  it("finds tables after FROM and JOIN, and each table of a FROM list", () => {
    expect(tablesReadBy("SELECT * FROM trips t JOIN zones z ON t.z = z.id LEFT JOIN rates USING (id)")).toEqual(["trips", "zones", "rates"]);
    expect(tablesReadBy("select a.x from a, b as bb, c where a.x = bb.x")).toEqual(["a", "b", "c"]);
    expect(tablesReadBy('FROM "Mixed" SELECT *')).toEqual(["Mixed"]);
  });

  it("skips CTE names, table functions, file paths, subqueries, qualified names, templates and comments", () => {
    const sql = `-- FROM commented_out
      WITH recent AS (SELECT * FROM trips WHERE d > now()), z(id) AS (SELECT 1)
      SELECT * FROM recent JOIN z ON true
      JOIN read_csv('x.csv') r ON true
      JOIN 'data/*.parquet' p ON true
      JOIN (SELECT * FROM inner_t) s ON true
      JOIN information_schema.tables it ON true
      JOIN {{ variables.table }} v ON true /* FROM hidden */`;
    expect(tablesReadBy(sql)).toEqual(["trips", "inner_t"]);
  });

  it("does not take the FROM of EXTRACT, SUBSTRING or TRIM for a table", () => {
    expect(tablesReadBy("SELECT EXTRACT(YEAR FROM pickup) AS y, substring(name FROM 2), trim(BOTH ' ' FROM s) FROM trips")).toEqual(["trips"]);
    expect(tablesReadBy("SELECT * FROM range(10)")).toEqual([]);
    expect(tablesReadBy("SELECT * FROM a WHERE id IN (SELECT id FROM b)")).toEqual(["a", "b"]);
  });
});

describe("findRunIssues", () => {
  const connections = { file: "/project/sluice.yaml", names: ["warehouse", "default"] };
  const pipeline = newPipeline("taxi", {
    blocks: [
      newBlockSpec({ name: "load", type: "loader" }),
      newBlockSpec({ name: "zones", type: "loader", language: "sql" }),
      newBlockSpec({ name: "clean", type: "transformer", language: "sql", upstream: ["load"] }),
      newBlockSpec({ name: "orphan", type: "transformer" }),
      newBlockSpec({ name: "save", type: "exporter", language: "sql", upstream: ["clean"], connection: "warehous" }),
    ],
  });
  const code = {
    zones: "SELECT * FROM read_parquet('zones.parquet')",
    clean: "WITH t AS (SELECT * FROM load) SELECT * FROM t JOIN zones USING (id) JOIN lod ON true",
    save: "INSERT INTO public.trips SELECT * FROM clean JOIN public.dim ON true JOIN zones ON true",
  };

  it("reports a transformer without upstream, tables that are not upstreams, and an unknown connection", () => {
    const issues = findRunIssues(pipeline, { code, connections });
    expect(issues.map((i) => [i.code, i.block])).toEqual([
      ["unknown_table", "clean"],
      ["unknown_table", "clean"],
      ["no_upstream", "orphan"],
      ["unknown_connection", "save"],
      ["unknown_table", "save"],
    ]);
    expect(issues[0].message).toBe('SQL block "clean" reads table "zones", which is not one of its upstreams (its upstreams are load); add "zones" as an upstream');
    expect(issues[1].message).toContain('reads table "lod", which is not one of its upstreams (its upstreams are load) (did you mean "load"?)');
    expect(issues[2].message).toBe('block "orphan" is a transformer without an upstream, so it has no input; add an upstream (or make it a loader)');
    expect(issues[3].message).toBe('block "save" uses connection "warehous", which /project/sluice.yaml does not define (known: warehouse, default) (did you mean "warehouse"?)');
  });

  it("checks only the blocks a run plans, and passes a sound pipeline", () => {
    expect(findRunIssues(pipeline, { code, connections }, ["load", "zones"])).toEqual([]);
    const noFile = findRunIssues(pipeline, { code, connections: { file: "/p/sluice.yaml", names: [] } }, ["save"]);
    expect(noFile[0].message).toContain("/p/sluice.yaml does not define (it defines none)");
  });

  it("assertRunnable refuses with every problem in one located error", () => {
    let error: unknown;
    try {
      assertRunnable(pipeline, { code, connections }, ["orphan", "save"]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: "no_upstream", location: { block: "orphan" } });
    expect((error as Error).message).toMatch(/^pipeline "taxi" cannot run: 3 problems: block "orphan" is a transformer/);
  });
});
