import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays } from "apache-arrow";
import { describeConnectorContract } from "./connector-contract";
import { DuckDBWarehouse } from "./duckdb-warehouse";

describeConnectorContract("duckdb warehouse", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "sluice-warehouse-test-"));
  const connector = new DuckDBWarehouse({}, { dataDir });
  return {
    connector,
    target: (name: string) => ({ write: `lake.${name}`, read: { table: name, schema: "lake" } }),
    cleanup: async () => {
      await connector.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}, { upstreamRefs: true });

describe("duckdb warehouse", () => {
  it("keeps data in <dataDir>/warehouse.duckdb across connector instances, and a failed load leaves the table", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "sluice-warehouse-unit-"));
    try {
      const first = new DuckDBWarehouse({}, { dataDir });
      await first.write(tableFromArrays({ n: new Int32Array([1, 2]) }), "t");
      async function* failing() {
        yield tableFromArrays({ n: new Int32Array([9]) }).batches[0];
        throw new Error("source broke");
      }
      await expect(first.write(failing(), "t")).rejects.toThrow("source broke");
      await first.close();
      const second = new DuckDBWarehouse({ path: join(dataDir, "warehouse.duckdb") }, { dataDir });
      const back = await second.read({ sql: "SELECT n FROM t WHERE n >= $1 ORDER BY n", params: [1] });
      expect(back.getChild("n")?.toArray()).toEqual(new Int32Array([1, 2]));
      await expect(second.read("SELECT * FROM missing")).rejects.toThrow(/duckdb "default".*read:.*missing/s);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
