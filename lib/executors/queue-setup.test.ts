import { checkQueueSetup } from "./queue-setup";

describe("checkQueueSetup", () => {
  const who = "sluice worker";

  it("needs REDIS_URL", () => {
    expect(() => checkQueueSetup({ databaseUrl: "postgres://db/x", singleMachine: false, who })).toThrow(/needs Redis: set REDIS_URL/);
  });

  it("accepts PostgreSQL metadata for workers anywhere", () => {
    expect(checkQueueSetup({ redisUrl: "redis://r:6379", databaseUrl: "postgres://db/x", singleMachine: false, who })).toEqual({
      redisUrl: "redis://r:6379",
      metadata: { kind: "postgres", url: "postgres://db/x" },
    });
  });

  it("refuses SQLite when workers may be on other machines, naming both ways out", () => {
    expect(() => checkQueueSetup({ redisUrl: "redis://r:6379", singleMachine: false, who })).toThrow(
      /SQLite, a file on one machine.*DATABASE_URL=postgres:\/\/.*--local/,
    );
  });

  it("accepts SQLite in a declared single-machine setup", () => {
    expect(checkQueueSetup({ redisUrl: "redis://r:6379", singleMachine: true, who }).metadata).toEqual({ kind: "sqlite" });
  });

  it("refuses a DATABASE_URL that is not PostgreSQL", () => {
    expect(() => checkQueueSetup({ redisUrl: "redis://r", databaseUrl: "mysql://db/x", singleMachine: true, who })).toThrow(/must be a postgres:\/\/ URL/);
  });
});
