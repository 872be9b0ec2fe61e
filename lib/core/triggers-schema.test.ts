import { UserError } from "./errors";
import { lintTriggersYaml, parseTriggerDate, parseTriggersYaml, serializeTriggers } from "./triggers-schema";

const FILE = "pipelines/etl/triggers.yaml";

function firstError(text: string): UserError {
  const { errors } = lintTriggersYaml(text, FILE);
  expect(errors.length).toBeGreaterThan(0);
  return errors[0];
}

describe("triggers.yaml v1", () => {
  it("reads schedule and api triggers with defaults", () => {
    const file = parseTriggersYaml(
      `version: 1
triggers:
  - name: nightly
    type: schedule
    schedule: "0 3 * * *"
    timezone: Europe/London
    start_date: 2024-01-01
    missed_run_policy: all
    max_active_runs: 2
    on_max_active: skip
    run_timeout: 2h
    variables: { months: [10, 11] }
  - name: every_15m
    type: schedule
    interval: 15m
  - name: daily
    type: schedule
    schedule: "@daily"
    timezone: Asia/Kolkata
  - name: hook
    type: api
    enabled: false
`,
      FILE,
    );
    const [nightly, every, daily, hook] = file.triggers;
    expect(nightly).toMatchObject({
      name: "nightly",
      type: "schedule",
      cron: "0 3 * * *",
      timezone: "Europe/London",
      startDate: "2024-01-01",
      missedRunPolicy: "all",
      maxActiveRuns: 2,
      onMaxActive: "skip",
      runTimeoutMs: 7_200_000,
      enabled: true,
      variables: { months: [10, 11] },
      schedule: { kind: "cron", cron: "0 3 * * *", timezone: "Europe/London", startMs: Date.parse("2024-01-01T00:00:00Z"), endMs: null },
    });
    expect(every).toMatchObject({ intervalMs: 900_000, timezone: "UTC", missedRunPolicy: "latest", maxActiveRuns: null, onMaxActive: "wait", schedule: { kind: "interval", everyMs: 900_000 } });
    expect(daily).toMatchObject({ cron: "@daily", schedule: { kind: "cron", cron: "0 0 * * *", timezone: "Asia/Kolkata" } });
    expect(hook).toEqual({ name: "hook", type: "api", description: "", enabled: false, variables: {}, variablesAllowed: [], maxActiveRuns: null, onMaxActive: "wait", runTimeoutMs: null });
  });

  it("treats an empty file or no triggers key as no triggers", () => {
    expect(parseTriggersYaml("", FILE).triggers).toEqual([]);
    expect(parseTriggersYaml("version: 1\n", FILE).triggers).toEqual([]);
  });

  it("@once needs a start date and fires at it", () => {
    const ok = parseTriggersYaml(`version: 1\ntriggers:\n  - name: once\n    type: schedule\n    schedule: "@once"\n    start_date: 2024-05-01T12:00:00Z\n`, FILE);
    expect(ok.triggers[0]).toMatchObject({ schedule: { kind: "once", atMs: Date.parse("2024-05-01T12:00:00Z") } });
    const error = firstError(`version: 1\ntriggers:\n  - name: once\n    type: schedule\n    schedule: "@once"\n`);
    expect(error.message).toContain("@once runs once at start_date");
  });

  it("locates errors: unknown key with a suggestion, bad cron, bad zone, bad preset, duplicate names", () => {
    const unknown = firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    interval: 1h\n    timezon: UTC\n`);
    expect(unknown.code).toBe("unknown_key");
    expect(unknown.location).toMatchObject({ file: FILE, line: 6, column: 5 });
    expect(unknown.message).toContain('did you mean "timezone"');

    const cron = firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    schedule: "61 * * * *"\n`);
    expect(cron.message).toMatch(/^pipelines\/etl\/triggers.yaml:5:15: triggers\[0\]\.schedule: invalid cron "61 \* \* \* \*"/);

    const zone = firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    interval: 1h\n    timezone: Europe/Londn\n`);
    expect(zone.location).toMatchObject({ line: 6, path: "triggers[0].timezone" });
    expect(zone.message).toContain("unknown time zone");

    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    schedule: "@yearly"\n`).message).toContain("unknown preset");
    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    schedule: "@daily"\n    interval: 1h\n`).message).toContain("not both");
    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n`).message).toContain("give schedule");
    const dup = firstError(`version: 1\ntriggers:\n  - name: a\n    type: api\n  - name: a\n    type: api\n`);
    expect(dup.location).toMatchObject({ line: 5 });
    expect(dup.message).toContain("duplicate trigger name");
    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: cron\n`).code).toBe("invalid_value");
    expect(firstError(`version: 2\n`).message).toContain("unsupported version 2");
    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    interval: 1h\n    missed_run_policy: some\n`).message).toContain("none, latest, all");
    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    interval: 1h\n    start_date: tomorrow\n`).message).toContain("is not a date");
    expect(firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    interval: 1h\n    start_date: 2024-02-01\n    end_date: 2024-01-01\n`).message).toContain("before start_date");
    expect(() => parseTriggersYaml("version: 1\ntriggers: [\n", FILE)).toThrow(UserError);
  });

  it("reads an API trigger's variables_allowed, and locates a bad entry, a duplicate or the key on a schedule", () => {
    const [hook] = parseTriggersYaml(`version: 1\ntriggers:\n  - name: hook\n    type: api\n    variables_allowed: [months, region]\n`, FILE).triggers;
    expect(hook).toMatchObject({ type: "api", variablesAllowed: ["months", "region"] });
    const duplicate = firstError(`version: 1\ntriggers:\n  - name: hook\n    type: api\n    variables_allowed:\n      - months\n      - months\n`);
    expect(duplicate.location).toMatchObject({ line: 7, path: "triggers[0].variables_allowed[1]" });
    expect(duplicate.message).toContain(`"months" is listed twice`);
    const notAList = firstError(`version: 1\ntriggers:\n  - name: hook\n    type: api\n    variables_allowed: months\n`);
    expect(notAList.location).toMatchObject({ line: 5, path: "triggers[0].variables_allowed" });
    const empty = firstError(`version: 1\ntriggers:\n  - name: hook\n    type: api\n    variables_allowed: [""]\n`);
    expect(empty.message).toContain("a variable name cannot be empty");
    const onSchedule = firstError(`version: 1\ntriggers:\n  - name: a\n    type: schedule\n    interval: 1h\n    variables_allowed: [months]\n`);
    expect(onSchedule).toMatchObject({ code: "unknown_key", location: { line: 6 } });
  });

  it("reads dates without an offset as wall time in the trigger's zone", () => {
    expect(new Date(parseTriggerDate("2024-01-01", "America/New_York") ?? 0).toISOString()).toBe("2024-01-01T05:00:00.000Z");
    expect(new Date(parseTriggerDate("2024-07-01T06:30", "Europe/London") ?? 0).toISOString()).toBe("2024-07-01T05:30:00.000Z");
    expect(new Date(parseTriggerDate("2024-01-01T00:00", "Asia/Kolkata") ?? 0).toISOString()).toBe("2023-12-31T18:30:00.000Z");
    // In the spring-forward gap: moves forward by the gap.
    expect(new Date(parseTriggerDate("2024-03-10T02:30", "America/New_York") ?? 0).toISOString()).toBe("2024-03-10T07:30:00.000Z");
    expect(new Date(parseTriggerDate("2024-01-01T00:00:00+02:00", "UTC") ?? 0).toISOString()).toBe("2023-12-31T22:00:00.000Z");
    expect(parseTriggerDate("2024-02-30", "UTC")).toBeNull();
  });

  it("writes a clean file that reads back the same", () => {
    const text = `version: 1
triggers:
  - name: nightly
    type: schedule
    schedule: 0 3 * * *
    timezone: Europe/London
    start_date: 2024-01-01
    missed_run_policy: all
    max_active_runs: 2
    on_max_active: skip
    run_timeout: 2h
    variables:
      months:
        - 10
  - name: hook
    type: api
    enabled: false
    variables_allowed:
      - months
`;
    const parsed = parseTriggersYaml(text, FILE);
    const written = serializeTriggers(parsed.triggers);
    expect(written).toBe(text);
    expect(parseTriggersYaml(written, FILE)).toEqual(parsed);
  });
});
