"use client";

import { useEffect, useState } from "react";
import type { BlockRunState, RunState } from "@/lib/core/run-model";
import { formatCount } from "../ui/format";
import { useEditorStore } from "./EditorProvider";

interface StatusLike {
  runId: string;
  state: BlockRunState;
  rows: number | null;
  error: { code: string; message: string } | null;
}

const BLOCK_WORDS: Partial<Record<BlockRunState, string>> = {
  running: "running",
  success: "succeeded",
  failed: "failed",
  up_for_retry: "failed, retrying",
  upstream_failed: "not run: an upstream failed",
  skipped: "skipped",
  cancelled: "cancelled",
};

const RUN_WORDS: Partial<Record<RunState, string>> = { success: "succeeded", failed: "failed", cancelled: "was cancelled" };

/**
 * What a screen reader should hear between two editor states: each block whose run state changed ("block
 * clean_trips succeeded, 1,204 rows"), then the run's end. Queued and pending say nothing: a run queues every
 * block at once, and hearing each would drown the news.
 */
export function runAnnouncements(
  before: { status: Record<string, StatusLike>; run: { id: string; state: RunState } | null },
  after: { status: Record<string, StatusLike>; run: { id: string; state: RunState } | null },
): string[] {
  const messages: string[] = [];
  for (const [block, status] of Object.entries(after.status)) {
    // Only the run being watched: states loaded from earlier runs (opening the page) are not news.
    if (status.runId !== after.run?.id) continue;
    const previous = before.status[block];
    if (previous && previous.state === status.state && previous.runId === status.runId) continue;
    const word = BLOCK_WORDS[status.state];
    if (!word) continue;
    let message = `Block ${block} ${word}`;
    if (status.state === "success" && status.rows != null) message += `, ${formatCount(status.rows)} rows`;
    if ((status.state === "failed" || status.state === "up_for_retry") && status.error) message += `: ${status.error.message}`;
    messages.push(message);
  }
  const run = after.run;
  if (run && (before.run?.id !== run.id || before.run.state !== run.state)) {
    const word = RUN_WORDS[run.state];
    if (word) messages.push(`Run ${word}`);
  }
  return messages;
}

/** A polite live region that reads out run and block state changes as they stream in. */
export function RunAnnouncer() {
  const store = useEditorStore();
  const [message, setMessage] = useState("");
  useEffect(
    () =>
      store.subscribe((state, previous) => {
        if (state.status === previous.status && state.run === previous.run) return;
        const messages = runAnnouncements(previous, state);
        if (messages.length > 0) setMessage(messages.join(". "));
      }),
    [store],
  );
  return (
    <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="run-announcer">
      {message}
    </div>
  );
}
