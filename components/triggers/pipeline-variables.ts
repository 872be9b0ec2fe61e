/** The pipeline's variables and which are secret (their values hidden by the API), read when `wanted` first turns true. */
import { useEffect, useState } from "react";
import { apiCall, seg } from "@/components/ui/api-client";
import type { ResponseOf } from "@/lib/core/api-contract";
import type { Variables } from "@/lib/core/model";

export function usePipelineVariables(pipeline: string, wanted: boolean): { variables: Variables; secrets: string[] } | null {
  const [loaded, setLoaded] = useState<{ variables: Variables; secrets: string[] } | null>(null);
  useEffect(() => {
    if (!wanted || loaded) return;
    let live = true;
    void apiCall<ResponseOf<"getPipeline">>(`/api/pipelines/${seg(pipeline)}`).then((result) => {
      if (!live) return;
      setLoaded(result.ok ? { variables: result.data.pipeline.variables as Variables, secrets: result.data.pipeline.secretVariables ?? [] } : { variables: {}, secrets: [] });
    });
    return () => {
      live = false;
    };
  }, [pipeline, wanted, loaded]);
  return loaded;
}
