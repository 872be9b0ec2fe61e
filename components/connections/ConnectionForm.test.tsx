/**
 * @jest-environment jsdom
 *
 * The connection form with the real field lists of each kind (read off the sluice.yaml schema as the server
 * does): a stored secret is never shown and is kept when not re-typed, a value typed into a secret field is
 * sent once, the server's located errors show under their fields, and "Test connection" tests the values as
 * typed without saving.
 */
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ConnectionsListingJson, ConnectionViewJson } from "@/lib/core/api-contract";
import { CONNECTION_KINDS, connectionFields, kindDescription } from "@/lib/io/profile-edit";
import { serveApi, TEST_CSRF_TOKEN, type ApiHandler, type FakeApi } from "@/test/api-fetch";
import { ConnectionForm } from "./ConnectionForm";

const KINDS: ConnectionsListingJson["kinds"] = CONNECTION_KINDS.map((kind) => ({ kind, description: kindDescription(kind), fields: connectionFields(kind) }));

const WAREHOUSE: ConnectionViewJson = {
  name: "warehouse",
  kind: "postgres",
  fields: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" },
  secrets: { password: { set: true, env_var: "PG_PASSWORD" } },
  headers: [],
  version: "3f1c0aa2b7d94e01",
};

let answer: ApiHandler;
let api: FakeApi;
beforeEach(() => {
  answer = (request) => {
    if (request.method === "PUT" && request.path === "/api/connections/warehouse") return { status: 200, body: { connection: WAREHOUSE, created: false } };
    if (request.method === "POST" && request.path === "/api/connections/warehouse/test") {
      return { status: 200, body: { ok: false, message: 'postgres "warehouse": connection refused at 127.0.0.1:5433', elapsed_ms: 3 } };
    }
    return undefined;
  };
  api = serveApi((request) => answer(request));
});
afterEach(() => {
  cleanup();
  api.restore();
});

it("edits without re-typing the password: the field stays empty, says where the value comes from, and is not sent", async () => {
  const saved: string[] = [];
  render(<ConnectionForm kinds={KINDS} editing={WAREHOUSE} onSaved={(c) => saved.push(c.name)} onCancel={() => undefined} />);
  const password = screen.getByLabelText(/^password/) as HTMLInputElement;
  expect(password.type).toBe("password");
  expect(password.value).toBe("");
  expect(password.placeholder).toBe("from env PG_PASSWORD — leave empty to keep");
  expect((screen.getByLabelText("Name") as HTMLInputElement).disabled).toBe(true);
  const port = screen.getByLabelText("port") as HTMLInputElement;
  expect(port.value).toBe("5432");
  await userEvent.clear(port);
  await userEvent.type(port, "6543");
  await userEvent.type(screen.getByLabelText("schema"), "analytics");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  await waitFor(() => expect(saved).toEqual(["warehouse"]));
  const put = api.requests.find((r) => r.method === "PUT");
  expect(put?.headers["x-csrf-token"]).toBe(TEST_CSRF_TOKEN);
  // The edit is based on the version read: a connection changed since is not overwritten.
  expect(put?.headers["if-match"]).toBe('"3f1c0aa2b7d94e01"');
  expect(put?.body).toEqual({ kind: "postgres", fields: { host: "127.0.0.1", port: 6543, database: "test", user: "postgres", schema: "analytics" } });
});

it("sends a re-typed secret, and a removal only when asked", async () => {
  render(<ConnectionForm kinds={KINDS} editing={WAREHOUSE} onSaved={() => undefined} onCancel={() => undefined} />);
  await userEvent.click(screen.getByLabelText("Remove the stored password"));
  expect((screen.getByLabelText(/^password/) as HTMLInputElement).disabled).toBe(true);
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  await waitFor(() => expect(api.requests.some((r) => r.method === "PUT")).toBe(true));
  expect(api.requests.find((r) => r.method === "PUT")?.body).toMatchObject({ clear: ["password"] });

  cleanup();
  api.requests.length = 0;
  render(<ConnectionForm kinds={KINDS} editing={WAREHOUSE} onSaved={() => undefined} onCancel={() => undefined} />);
  await userEvent.type(screen.getByLabelText(/^password/), "n3w-s3cr3t-value");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  await waitFor(() => expect(api.requests.some((r) => r.method === "PUT")).toBe(true));
  expect(api.requests.find((r) => r.method === "PUT")?.body).toMatchObject({ fields: { password: "n3w-s3cr3t-value" } });
});

it("shows the server's located errors under their fields", async () => {
  answer = (request) =>
    request.method === "PUT"
      ? {
          status: 422,
          body: {
            error: {
              code: "invalid_connection",
              message: "sluice.yaml:7:11: connections.warehouse.port: expected a number, got the text \"abc\"",
              details: { errors: [{ field: "port", message: 'sluice.yaml:7:11: connections.warehouse.port: expected a number, got the text "abc"' }] },
            },
          },
        }
      : undefined;
  const saved: string[] = [];
  render(<ConnectionForm kinds={KINDS} editing={WAREHOUSE} onSaved={(c) => saved.push(c.name)} onCancel={() => undefined} />);
  const port = screen.getByLabelText("port");
  await userEvent.clear(port);
  await userEvent.type(port, "abc");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  await waitFor(() => expect(port.getAttribute("aria-invalid")).toBe("true"));
  const described = (port.getAttribute("aria-describedby") ?? "").split(" ").map((id) => document.getElementById(id)?.textContent);
  expect(described).toContain('sluice.yaml:7:11: connections.warehouse.port: expected a number, got the text "abc"');
  expect(api.requests.find((r) => r.method === "PUT")?.body).toMatchObject({ fields: { port: "abc" } });
  expect(screen.getByRole("alert").textContent).toBe("Some fields need fixing: see below.");
  expect(saved).toEqual([]);
});

it("tests the values as typed without saving, and announces the result", async () => {
  render(<ConnectionForm kinds={KINDS} editing={WAREHOUSE} onSaved={() => undefined} onCancel={() => undefined} />);
  const port = screen.getByLabelText("port");
  await userEvent.clear(port);
  await userEvent.type(port, "5433");
  await userEvent.click(screen.getByRole("button", { name: "Test connection" }));
  await waitFor(() => expect(screen.getByTestId("form-test-result").textContent).toBe('Failed: postgres "warehouse": connection refused at 127.0.0.1:5433 (3 ms)'));
  expect(screen.getByTestId("form-test-result").getAttribute("aria-live")).toBe("polite");
  expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/connections/warehouse/test"]);
  expect(api.requests[0].body).toMatchObject({ edit: { kind: "postgres", fields: { port: 5433 } } });
});

it("a new HTTP connection: kind picked, headers as rows, a name required before anything is sent", async () => {
  answer = (request) => (request.method === "PUT" ? { status: 200, body: { connection: { ...WAREHOUSE, name: "api", kind: "http" }, created: true } } : undefined);
  const saved: string[] = [];
  render(<ConnectionForm kinds={KINDS} editing={null} onSaved={(c) => saved.push(c.name)} onCancel={() => undefined} />);
  await userEvent.selectOptions(screen.getByLabelText("Kind"), "http");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  expect(screen.getByText("a connection needs a name")).toBeTruthy();
  expect(api.requests).toEqual([]);
  await userEvent.type(screen.getByLabelText("Name"), "api");
  await userEvent.type(screen.getByLabelText("base_url"), "https://example.test/");
  await userEvent.click(screen.getByRole("button", { name: "Add header" }));
  await userEvent.type(screen.getByLabelText("Header 1 name"), "Authorization");
  await userEvent.type(screen.getByLabelText("Header Authorization value"), "Bearer tok3n-value");
  await userEvent.click(screen.getByRole("button", { name: "Save" }));
  await waitFor(() => expect(saved).toEqual(["api"]));
  expect(api.requests[0]).toMatchObject({
    method: "PUT",
    path: "/api/connections/api",
    headers: { "if-match": '"new"' },
    body: { kind: "http", fields: { base_url: "https://example.test/" }, headers: [{ name: "Authorization", value: "Bearer tok3n-value" }] },
  });
});
