import { TriggersPage } from "@/components/triggers/TriggersPage";

export const dynamic = "force-dynamic";

/** The triggers page of a pipeline: schedules, API triggers, run now, backfills. */
export default async function PipelineTriggersPage({ params }: { params: Promise<{ p: string }> }) {
  const { p } = await params;
  return <TriggersPage pipeline={p} />;
}
