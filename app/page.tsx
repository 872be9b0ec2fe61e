import Link from "next/link";
import { PipelineList } from "@/components/pipelines/PipelineList";
import { listPipelines } from "@/lib/server/api/pipelines-service";

export const dynamic = "force-dynamic";

/** Home: the pipelines of this project. */
export default async function HomePage() {
  const pipelines = await listPipelines();
  return (
    <main className="home">
      <h1>Sluice</h1>
      <p>
        Pipelines in this project. Open one to edit its blocks, or run one with <code>npx sluice run &lt;name&gt;</code>.{" "}
        <Link href="/runs">All runs</Link>
      </p>
      <PipelineList pipelines={pipelines} />
    </main>
  );
}
