import { PipelineEditor } from "@/components/editor/PipelineEditor";
import { getPipeline } from "@/lib/server/api/pipelines-service";
import { messageOf } from "@/lib/core/errors";
import { PageHeader } from "@/components/ui/PageHeader";

export const dynamic = "force-dynamic";

/** The pipeline editor. A pipeline that cannot be read shows its error (file:line) instead. */
export default async function PipelinePage({ params }: { params: Promise<{ p: string }> }) {
  const { p } = await params;
  let doc;
  try {
    doc = await getPipeline(p);
  } catch (error) {
    return (
      <main className="home">
        <PageHeader title={p} crumbs={[{ href: "/", label: "Pipelines" }]} />
        <p className="error" role="alert" data-testid="pipeline-error">
          {messageOf(error)}
        </p>
        <p>Fix the file on disk, then reload this page.</p>
      </main>
    );
  }
  return <PipelineEditor doc={doc} />;
}
