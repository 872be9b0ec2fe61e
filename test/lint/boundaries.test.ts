import { lintSource } from "./eslint-cli";

const boundaryErrors = (messages: { ruleId: string | null; message: string }[]) =>
  messages.filter((m) => m.ruleId === "sluice/folder-boundaries").map((m) => m.message);

describe("folder boundaries (npm run lint)", () => {
  test("lib/arrow importing the block runtime is an error naming both folders and the import", async () => {
    const errors = boundaryErrors(
      await lintSource("lib/arrow/boundary-fixture.ts", 'import { runSqlBlock } from "../blocks/sql-block";\nexport const run = runSqlBlock;\n'),
    );
    expect(errors).toEqual([expect.stringContaining("lib/arrow may not import lib/blocks ('../blocks/sql-block')")]);
  });

  test("an upward import through the @/ alias or a dynamic import is caught too", async () => {
    const source = 'import type { Services } from "@/lib/server/services";\nexport type S = Services;\nexport const load = () => import("../runner/runner");\n';
    const errors = boundaryErrors(await lintSource("lib/store/boundary-fixture.ts", source));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("lib/store may not import lib/server");
    expect(errors[1]).toContain("lib/store may not import lib/runner");
  });

  test("downward imports pass: the block runtime uses the codecs, the codecs use core", async () => {
    const blocks = await lintSource(
      "lib/blocks/boundary-fixture.ts",
      'import { quoteIdentifier } from "../arrow/sql-text";\nimport { UserError } from "../core/errors";\nexport const q = [quoteIdentifier, UserError];\n',
    );
    expect(boundaryErrors(blocks)).toEqual([]);
    const arrow = await lintSource("lib/arrow/boundary-fixture.ts", 'import { UserError } from "../core/errors";\nexport const e = UserError;\n');
    expect(boundaryErrors(arrow)).toEqual([]);
  });

  test("nothing in lib imports the UI", async () => {
    const errors = boundaryErrors(
      await lintSource("lib/server/boundary-fixture.ts", 'import { apiCall } from "../../components/ui/api-client";\nexport const c = apiCall;\n'),
    );
    expect(errors).toEqual([expect.stringContaining("lib/server may not import components")]);
  });

  test("components take server types only as `import type`", async () => {
    const valueImport = 'import { toResponse } from "@/lib/server/api/workers";\nexport const r = toResponse;\n';
    expect(boundaryErrors(await lintSource("components/workers/boundary-fixture.ts", valueImport))).toEqual([
      expect.stringContaining("components may import lib/server for types only"),
    ]);
    const typeImport = 'import type { RunView } from "@/lib/server/api/runs-history-service";\nexport type V = RunView;\n';
    expect(boundaryErrors(await lintSource("components/runs/boundary-fixture.ts", typeImport))).toEqual([]);
  });
});
