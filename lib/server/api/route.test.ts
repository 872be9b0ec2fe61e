import { apiContract } from "@/lib/core/api-contract";
import { OperationalError, UserError } from "@/lib/core/errors";
import { CallerVariableError } from "@/lib/scheduler/api-triggers";
import { replyWith, route } from "./route";

const context = <T>(params: T) => ({ params: Promise.resolve(params) });

async function answer(response: Response): Promise<{ status: number; body: unknown }> {
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : null };
}

describe("route(): one contract entry, one handler", () => {
  it("parses params, query and body with the contract and hands the handler typed values", async () => {
    const GET = route(apiContract.getOutputPage, ({ params, query }) => ({ schema: [], total_rows: 0, offset: query.offset, rows: [{ run: params.id, block: params.b, limit: query.limit }], stats: [], bytes: 0 }));
    const page = await answer(await GET(new Request("http://localhost/api/runs/r1/blocks/trips/output?offset=5"), context({ id: "r1", b: "trips" })));
    expect(page).toEqual({ status: 200, body: { schema: [], total_rows: 0, offset: 5, rows: [{ run: "r1", block: "trips", limit: 200 }], stats: [], bytes: 0 } });
  });

  it("answers a bad path parameter, query value or body with a 400 naming it", async () => {
    const handler = () => ({ run_id: "never" });
    const POST = route(apiContract.startRun, handler);
    const badName = await answer(await POST(new Request("http://localhost/x", { method: "POST", body: "{}" }), context({ p: "Bad Name" })));
    expect(badName).toMatchObject({ status: 400, body: { error: { code: "invalid_input", message: "invalid pipeline name: use lowercase letters, digits and _ only" } } });
    const badMode = await answer(await POST(new Request("http://localhost/x", { method: "POST", body: '{"mode":"sideways"}' }), context({ p: "taxi" })));
    expect(badMode).toMatchObject({ status: 400, body: { error: { code: "invalid_input", details: { issues: [{ path: "mode" }] } } } });
    const GET = route(apiContract.getOutputPage, () => {
      throw new Error("not reached");
    });
    const badLimit = await answer(await GET(new Request("http://localhost/x?limit=0"), context({ id: "r1", b: "trips" })));
    expect(badLimit).toMatchObject({ status: 400, body: { error: { code: "invalid_input", message: expect.stringContaining("limit") } } });
  });

  it("sends the endpoint's status, another documented one through replyWith, and no body for 204", async () => {
    const created = route(apiContract.rerunRun, () => ({ run_id: "r2" }));
    expect(await answer(await created(new Request("http://localhost/x", { method: "POST" }), context({ id: "r1" })))).toEqual({ status: 201, body: { run_id: "r2" } });
    const endedHere = route(apiContract.cancelRun, () => replyWith(200, { cancelled: true as const }));
    expect((await endedHere(new Request("http://localhost/x", { method: "POST" }), context({ id: "r1" }))).status).toBe(200);
    const deleted = route(apiContract.deletePipeline, ({ headers }) => {
      expect(headers["if-match"]).toBe('"v1"');
      return null;
    });
    expect(await answer(await deleted(new Request("http://localhost/x", { method: "DELETE", headers: { "If-Match": '"v1"' } }), context({ p: "taxi" })))).toEqual({ status: 204, body: null });
  });

  it("maps engine errors by the code registry: conflicts, throttling, refused variables with their details", async () => {
    const fire = (error: Error) =>
      route(apiContract.fireApiTrigger, () => {
        throw error;
      })(new Request("http://localhost/x", { method: "POST", body: "{}" }), context({ id: "taxi.hourly" })).then(answer);
    expect(await fire(new UserError("trigger_disabled", "trigger hourly of taxi is disabled"))).toMatchObject({ status: 409, body: { error: { code: "trigger_disabled" } } });
    expect(await fire(new OperationalError("max_active_runs", "trigger hourly of taxi already has 1 active run(s)"))).toMatchObject({ status: 429 });
    expect(await fire(new UserError("unauthorized", "missing or invalid trigger token"))).toMatchObject({ status: 401 });
    expect(await fire(new CallerVariableError("variable_not_allowed", 'variable "output_dir" is not allowed', { variable: "output_dir" }))).toEqual({
      status: 422,
      body: { error: { code: "variable_not_allowed", message: 'variable "output_dir" is not allowed', details: { variable: "output_dir" } } },
    });
    // Codes the registry does not list keep their kind's status.
    expect(await fire(new UserError("sql_error", "syntax error at line 3"))).toMatchObject({ status: 422 });
    const logged = jest.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await fire(new OperationalError("db_unreachable", "connect ECONNREFUSED"))).toMatchObject({ status: 503 });
    // A plain Error is a bug: a generic 500, never its message.
    expect(await fire(new Error("secret detail at /srv/x"))).toEqual({ status: 500, body: { error: { code: "internal", message: expect.stringContaining("server's log") } } });
    logged.mockRestore();
  });
});
