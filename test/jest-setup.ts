/**
 * Runs after each test file. On a 2-core machine jest runs every file in its own process (in band), so code
 * under test that sets `process.exitCode` — a command's entry point deciding how "its" process ends — would
 * decide jest's exit code too, failing a green run with no failed test to show for it. The test's own
 * assertions are what pass or fail it: the exit code is reset here, and the file that set it is named.
 */
afterAll(() => {
  const code = process.exitCode;
  if (code === undefined || code === null || code === 0) return;
  console.warn(`${expect.getState().testPath ?? "a test file"}: code under test set process.exitCode to ${code}; reset to 0`);
  process.exitCode = 0;
});
