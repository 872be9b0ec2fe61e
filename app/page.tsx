import { getServices } from "@/lib/server/global-services";

export const dynamic = "force-dynamic";

/** Home: the pipelines of this project. The notebook editor comes with the editor issue. */
export default async function HomePage() {
  const pipelines = await getServices().files.list();
  return (
    <main>
      <h1>Sluice</h1>
      <p>Pipelines in this project. Run one with <code>npx sluice run &lt;name&gt;</code>.</p>
      <table>
        <thead>
          <tr>
            <th>Pipeline</th>
            <th>Description</th>
            <th>Blocks</th>
          </tr>
        </thead>
        <tbody>
          {pipelines.map((p) => (
            <tr key={p.name} data-testid="pipeline-row">
              <td>{p.name}</td>
              <td>{p.error ? <span className="error">{p.error}</span> : p.description}</td>
              <td>{p.blockCount ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
