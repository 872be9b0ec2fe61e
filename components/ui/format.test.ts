/** Times on the runs, triggers and pipelines pages: unambiguous and always with their zone. */
import { formatCount, formatTime } from "./format";

describe("formatTime", () => {
  it("writes year first with the zone, in UTC by default whatever zone the process runs in", () => {
    expect(formatTime("2026-12-04T05:00:00.000Z")).toBe("2026-12-04 05:00:00 UTC");
    expect(formatTime("2026-12-04T23:59:59.999Z")).toBe("2026-12-04 23:59:59 UTC");
  });

  it("shows a trigger's own zone when given, and falls back to UTC for an unknown one", () => {
    expect(formatTime("2026-12-04T05:00:00.000Z", "America/New_York")).toBe("2026-12-04 00:00:00 EST");
    expect(formatTime("2026-07-04T05:00:00.000Z", "America/New_York")).toBe("2026-07-04 01:00:00 EDT");
    expect(formatTime("2026-12-04T05:00:00.000Z", "Not/AZone")).toBe("2026-12-04 05:00:00 UTC");
  });

  it("leaves nothing for a missing time and shows an unparsable one as given", () => {
    expect(formatTime(null)).toBe("");
    expect(formatTime(undefined)).toBe("");
    expect(formatTime("yesterday-ish")).toBe("yesterday-ish");
  });
});

describe("formatCount", () => {
  it("groups thousands and leaves unknown counts empty", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(null)).toBe("");
  });
});
