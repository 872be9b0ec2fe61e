import { formatKeyPath } from "./key-path";

describe("formatKeyPath", () => {
  it.each([
    [[], ""],
    [["name"], "name"],
    [["blocks", 1, "upstrem"], "blocks[1].upstrem"],
    [["blocks", 0, "upstream", 2], "blocks[0].upstream[2]"],
    [["variables", "a b", "c"], 'variables["a b"].c'],
    [[3], "[3]"],
  ] as const)("%j → %s", (path, text) => {
    expect(formatKeyPath(path)).toBe(text);
  });
});
