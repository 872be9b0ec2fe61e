import { ByteLru } from "./byte-lru";

describe("ByteLru", () => {
  it("evicts the least recently used entries beyond its byte budget", () => {
    const lru = new ByteLru<string>(10);
    lru.set("a", "A", 4);
    lru.set("b", "B", 4);
    expect(lru.get("a")).toBe("A"); // a is now the most recent
    lru.set("c", "C", 4); // evicts b
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")).toBe("A");
    expect(lru.get("c")).toBe("C");
    lru.set("huge", "H", 11); // heavier than the budget: not kept, nothing evicted
    expect(lru.get("huge")).toBeUndefined();
    expect(lru.size).toBe(2);
  });

  it("deletes by prefix and replaces entries with their new weight", () => {
    const lru = new ByteLru<number>(100);
    lru.set("/out/run1/a.arrow", 1, 10);
    lru.set("/out/run1/a.arrow#0", 2, 10);
    lru.set("/out/run2/a.arrow", 3, 10);
    lru.deletePrefix("/out/run1/");
    expect(lru.size).toBe(1);
    lru.set("/out/run2/a.arrow", 4, 95);
    expect(lru.get("/out/run2/a.arrow")).toBe(4);
    lru.set("x", 5, 10);
    expect(lru.get("/out/run2/a.arrow")).toBeUndefined();
  });
});
