/**
 * Stands in for a CSS module in Jest: every class name reads as itself, so a component test can find
 * `styles.state_failed` as the class "state_failed" without a CSS pipeline.
 */
module.exports = new Proxy(
  {},
  {
    get(_target, key) {
      if (key === "__esModule") return false;
      return typeof key === "string" ? key : undefined;
    },
  },
);
