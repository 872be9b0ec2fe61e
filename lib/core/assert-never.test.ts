import { assertNever } from "./assert-never";
import { UnexpectedError } from "./errors";

type Shape = { kind: "circle" } | { kind: "square" };

function sides(shape: Shape): number {
  switch (shape.kind) {
    case "circle":
      return 0;
    case "square":
      return 4;
    default:
      return assertNever(shape, "shape");
  }
}

describe("assertNever", () => {
  it("is unreachable for handled members", () => {
    expect(sides({ kind: "square" })).toBe(4);
  });

  it("throws UnexpectedError naming the value when unchecked data gets through", () => {
    const smuggled: unknown = { kind: "hexagon" };
    const call = () => assertNever(smuggled as never, "shape");
    expect(call).toThrow(UnexpectedError);
    expect(call).toThrow('unhandled shape: {"kind":"hexagon"}');
  });
});
