/**
 * Dynamic instances (`fetch[2020-10]`) are block runs of their own: the run routes that name a block run (logs,
 * output pages, top values) take their names, and still refuse anything else.
 */
import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";

const context = <T>(params: T) => ({ params: Promise.resolve(params) });

describe("run routes and dynamic instances", () => {
  const GET = route(apiContract.getLogs, ({ params }) => ({ lines: [{ at: "2026-01-01T00:00:00.000Z", level: "info" as const, message: params.b, attempt: 1 }] }));
  const call = async (block: string) => {
    const response = await GET(new Request(`http://localhost/api/runs/r1/blocks/${encodeURIComponent(block)}/logs`), context({ id: "r1", b: block }));
    return { status: response.status, body: (await response.json()) as { lines?: { message: string }[]; error?: { message: string } } };
  };

  it("accepts a block and an instance of one", async () => {
    expect((await call("fetch")).body.lines?.[0].message).toBe("fetch");
    expect((await call("fetch[2020-10]")).body.lines?.[0].message).toBe("fetch[2020-10]");
    expect((await call("fetch[0]")).status).toBe(200);
  });

  it("refuses names that are neither", async () => {
    for (const bad of ["fetch[", "fetch[a b]", "Fetch[0]", "fetch[0][1]", "../x"]) {
      const { status, body } = await call(bad);
      expect(status).toBe(400);
      expect(body.error?.message).toMatch(/invalid block name/);
    }
  });

  it("retries one instance alone through the API (from_block)", async () => {
    const POST = route(apiContract.retryRun, ({ body }) => ({ run_id: body.from_block ?? "none" }));
    const response = await POST(
      new Request("http://localhost/api/runs/r1/retry", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from_block: "fetch[1]" }) }),
      context({ id: "r1" }),
    );
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 202, body: { run_id: "fetch[1]" } });
  });
});
