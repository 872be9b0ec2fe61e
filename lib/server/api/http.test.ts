import { jsonDepth, MAX_JSON_DEPTH, nameSchema, readBody, runIdSchema, toErrorResponse, withoutAbsolutePaths } from "./http";
import { z } from "zod";

describe("the API boundary", () => {
  it("measures JSON nesting, ignoring brackets inside strings", () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('{"a":"[[[[{{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth("[".repeat(10_000) + "]".repeat(10_000))).toBe(10_000);
  });

  it("refuses a deeply nested body with a 400, not a stack overflow", async () => {
    const deep = `{"x":${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}}`;
    const request = new Request("http://localhost/api/x", { method: "POST", body: deep });
    await expect(readBody(request, z.object({ x: z.unknown() }))).rejects.toMatchObject({ status: 400, code: "json_too_deep" });
    const fine = new Request("http://localhost/api/x", { method: "POST", body: '{"x":[[1]]}' });
    await expect(readBody(fine, z.object({ x: z.unknown() }))).resolves.toEqual({ x: [[1]] });
  });

  it("caps names and run ids at 100 characters, saying so", () => {
    expect(nameSchema.safeParse("a".repeat(100)).success).toBe(true);
    expect(nameSchema.safeParse("a".repeat(101)).error?.issues[0].message).toBe("names are at most 100 characters");
    expect(runIdSchema.safeParse("r".repeat(101)).error?.issues[0].message).toBe("run ids are at most 100 characters");
  });

  it("answers a bug with a generic 500 and keeps its message (and any path in it) in the log", async () => {
    const logged = jest.spyOn(console, "error").mockImplementation(() => undefined);
    const response = toErrorResponse(new Error("ENOENT: no such file or directory, open '/srv/sluice/pipelines/x/pipeline.yaml'"));
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("/srv/sluice");
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: expect.stringContaining("server's log") } });
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
  });

  it("takes absolute paths out of messages", () => {
    expect(withoutAbsolutePaths("could not read x/pipeline.yaml: EACCES: permission denied, open '/srv/p/x/pipeline.yaml'")).toBe(
      "could not read x/pipeline.yaml: EACCES: permission denied, open '…'",
    );
    expect(withoutAbsolutePaths("failed at C:\\sluice\\x.ts")).toBe("failed at …");
  });
});
