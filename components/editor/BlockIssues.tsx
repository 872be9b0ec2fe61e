"use client";

/**
 * What a run would be refused for, shown on the block itself: no upstream for a block that reads one, a SQL
 * table that is not an upstream. (Connections are checked in the settings panel, which reads sluice.yaml.)
 */
import { useMemo } from "react";
import { findRunIssues } from "@/lib/core/pipeline-checks";
import { useEditor } from "./EditorProvider";
import styles from "./settings.module.css";

export function BlockIssues({ block }: { block: string }) {
  const pipeline = useEditor((s) => s.pipeline);
  const code = useEditor((s) => s.code[block]?.code);
  const issues = useMemo(() => findRunIssues(pipeline, { code: code === undefined ? {} : { [block]: code } }, [block]), [pipeline, code, block]);
  if (issues.length === 0) return null;
  return (
    <ul className={styles.issues} aria-label={`Problems of ${block}`} data-testid={`issues-${block}`}>
      {issues.map((issue, i) => (
        <li key={i}>{issue.message}</li>
      ))}
    </ul>
  );
}
