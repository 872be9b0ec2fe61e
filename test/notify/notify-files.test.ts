/**
 * The file formats: `notify:` and `on_*` in pipeline.yaml, `notify:` and `sla:` in triggers.yaml, and the
 * `channels:` of sluice.yaml — parsed, written back the same, bad input refused at its line, secrets hidden.
 */
import { parsePipelineYaml, serializePipeline } from "../../lib/core/pipeline-schema";
import { parseTriggersYaml, serializeTriggers } from "../../lib/core/triggers-schema";
import { parseChannels } from "../../lib/io/channels";
import { redact } from "../../lib/io/redact";

describe("notify in pipeline.yaml and triggers.yaml", () => {
  const pipelineYaml = `version: 1
name: etl
blocks:
  - { name: a, type: loader, language: ts, upstream: [] }
notify:
  - { on: [failure, retry], channel: team_slack }
on_failure: [page_oncall]
on_success: [post_summary]
`;

  test("pipeline.yaml: read into the model and written back the same", () => {
    const pipeline = parsePipelineYaml(pipelineYaml, "pipeline.yaml");
    expect(pipeline.notify).toEqual([{ on: ["failure", "retry"], channel: "team_slack" }]);
    expect(pipeline.callbacks).toEqual({ onSuccess: ["post_summary"], onFailure: ["page_oncall"], onRetry: [] });
    expect(parsePipelineYaml(serializePipeline(pipeline), "pipeline.yaml")).toEqual(pipeline);
    expect(parsePipelineYaml("version: 1\nname: etl\nblocks: []\n", "pipeline.yaml")).not.toHaveProperty("notify");
  });

  test("pipeline.yaml: an unknown event or a callback path is refused at its line", () => {
    expect(() => parsePipelineYaml(pipelineYaml.replace("[failure, retry]", "[failure, exploded]"), "pipeline.yaml")).toThrow(/pipeline\.yaml:6:.*notify\[0\]\.on\[1\]/);
    expect(() => parsePipelineYaml(pipelineYaml.replace("[page_oncall]", "[../steal]"), "pipeline.yaml")).toThrow(/pipeline\.yaml:7:.*a callback is a file name without \.ts/);
  });

  test("triggers.yaml: sla and notify read, written back, and a bad sla refused", () => {
    const text = `version: 1
triggers:
  - name: nightly
    type: schedule
    schedule: "0 3 * * *"
    sla: 45m
    notify: [{ on: [sla_miss, failure], channel: oncall }]
`;
    const { triggers } = parseTriggersYaml(text, "triggers.yaml");
    expect(triggers[0]).toMatchObject({ slaMs: 45 * 60_000, notify: [{ on: ["sla_miss", "failure"], channel: "oncall" }] });
    expect(parseTriggersYaml(serializeTriggers(triggers), "triggers.yaml").triggers).toEqual(triggers);
    expect(() => parseTriggersYaml(text.replace("sla: 45m", "sla: soon"), "triggers.yaml")).toThrow(/triggers\.yaml:6:.*sla/);
  });
});

describe("channels: in sluice.yaml", () => {
  test("each kind parsed; env_var values filled in and their secrets hidden", () => {
    const channels = parseChannels(
      `connections: { db: { kind: duckdb } }
channels:
  hook: { kind: webhook, url: "https://ops.example.test/hook", secret: "{{ env_var('HOOK_SECRET') }}" }
  chat: { kind: slack, url: "{{ env_var('SLACK_URL') }}" }
  mail: { kind: email, host: smtp.example.test, port: 2525, user: sluice, password: "{{ env_var('SMTP_PW') }}", from: a@example.test, to: [b@example.test] }
`,
      "sluice.yaml",
      { HOOK_SECRET: "hmac-secret-1234", SLACK_URL: "https://hooks.slack.test/services/T1/B2/XYZSECRET", SMTP_PW: "mail-password-99" },
    );
    expect(Object.keys(channels)).toEqual(["hook", "chat", "mail"]);
    expect(channels.mail).toMatchObject({ kind: "email", port: 2525, to: ["b@example.test"] });
    const leaked = "posting to https://hooks.slack.test/services/T1/B2/XYZSECRET with hmac-secret-1234 and mail-password-99";
    expect(redact(leaked)).toBe("posting to [secret:channels.chat.url] with [secret:channels.hook.secret] and [secret:channels.mail.password]");
  });

  test("bad input is refused at its key and line; other keys' problems are not this file's", () => {
    expect(() => parseChannels("channels:\n  hook: { kind: webhook, url: ftp://x }\n", "sluice.yaml", {})).toThrow(/sluice\.yaml:2:.*channels\.hook\.url.*http/);
    expect(() => parseChannels("channels:\n  mail: { kind: email, host: h, from: a, to: [b], pasword: x }\n", "sluice.yaml", {})).toThrow(/pasword/);
    expect(() => parseChannels("channels:\n  chat: { kind: pager }\n", "sluice.yaml", {})).toThrow(/sluice\.yaml:2:/);
    expect(parseChannels("connections: { pg: { kind: postgres, password: \"{{ env_var('MISSING') }}\" } }\n", "sluice.yaml", {})).toEqual({});
  });
});
