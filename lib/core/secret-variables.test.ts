import { isSluiceError } from "./errors";
import type { Pipeline } from "./model";
import { restoreSecretVariables, secretPlaceholder } from "./secret-variables";

function pipeline(variables: Pipeline["variables"], secretVariables?: string[]): Pipeline {
  return { version: 1, name: "p", description: "", variables, blocks: [], ...(secretVariables ? { secretVariables } : {}) };
}

describe("restoreSecretVariables", () => {
  it("takes a recorded secret from the pipeline's default and keeps every other value as recorded", () => {
    const p = pipeline({ api_key: "k-123456789", region: "eu" }, ["api_key"]);
    expect(restoreSecretVariables(p, { api_key: secretPlaceholder("api_key"), region: "us" }, "r1")).toEqual({ api_key: "k-123456789", region: "us" });
  });

  it("refuses a secret that was given for the run only, naming it", () => {
    const p = pipeline({ region: "eu" }, ["api_key"]);
    let thrown: unknown;
    try {
      restoreSecretVariables(p, { api_key: secretPlaceholder("api_key") }, "r1");
    } catch (error) {
      thrown = error;
    }
    expect(isSluiceError(thrown) && thrown.code).toBe("secret_variable_not_stored");
    expect(String(thrown)).toContain('"api_key"');
  });

  it("leaves a variable that merely looks like a placeholder alone when it is not declared secret", () => {
    const p = pipeline({}, []);
    expect(restoreSecretVariables(p, { note: "[secret:note]" }, "r1")).toEqual({ note: "[secret:note]" });
  });
});
