import { PipelineList } from "@/components/pipelines/PipelineList";
import { PageHeader } from "@/components/ui/PageHeader";
import { listPipelines } from "@/lib/server/api/pipelines-service";

export const dynamic = "force-dynamic";

/** Home: the pipelines of this project. */
export default async function HomePage() {
  const pipelines = await listPipelines();
  return (
    <main className="home">
      <PageHeader title="Sluice pipelines">
        Open a pipeline to edit its blocks, or run one with <code>npx sluice run &lt;name&gt;</code>.
      </PageHeader>
      <PipelineList pipelines={pipelines} />
    </main>
  );
}
