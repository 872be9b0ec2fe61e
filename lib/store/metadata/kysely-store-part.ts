/** What every part of the Kysely metadata store holds: the database, and how its writes are serialised. */
import type { Kysely } from "kysely";
import type { ExclusiveWrite } from "./kysely-run-store";
import type { MetadataDatabase } from "./schema";

/** Base of the trigger store's parts (trigger state, claims, backfills, tokens): one database, one write serialiser. */
export abstract class KyselyStorePart {
  constructor(
    protected readonly db: Kysely<MetadataDatabase>,
    /** Serialises writes with the other stores of this process on the same database (see `KyselyRunStoreOptions`). */
    protected readonly exclusive: ExclusiveWrite = (work) => work(),
  ) {}
}
