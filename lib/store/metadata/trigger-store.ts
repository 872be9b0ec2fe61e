/**
 * The scheduler's state in the metadata store, one idea per file: what each trigger last scheduled
 * (`trigger-state.ts`), the claims that make scheduling exactly-once (`schedule-claims.ts`, with the locks
 * of the limited claims in `claim-locks.ts`), backfills (`backfill-store.ts`) and API-trigger token hashes
 * (`api-token-store.ts`). `TriggerStore` is all of them behind the run store's `triggers`, so the
 * scheduler reaches them through one object; code that needs one part may depend on that part alone.
 */
import type { Kysely } from "kysely";
import { KyselyApiTokenStore, type ApiTokenStore } from "./api-token-store";
import { KyselyBackfillStore, type BackfillStore } from "./backfill-store";
import type { ExclusiveWrite } from "./kysely-run-store";
import { KyselyScheduleClaimStore, type ScheduleClaimStore } from "./schedule-claims";
import { KyselySlaMissStore, type SlaMissStore } from "./sla-misses";
import type { MetadataDatabase } from "./schema";
import { KyselyTriggerStateStore, type TriggerStateStore } from "./trigger-state";

export type { ApiTokenStore } from "./api-token-store";
export type { SlaMissStore } from "./sla-misses";
export type { Backfill, BackfillRun, BackfillSlot, BackfillState, BackfillStore, CreateBackfillInput } from "./backfill-store";
export type { ActiveRun, LimitedClaimInput, LimitedClaimOutcome, ScheduleClaimStore, ScheduledRun, ScheduledRunStatus } from "./schedule-claims";
export type { TriggerDefinition, TriggerKind, TriggerState, TriggerStateStore } from "./trigger-state";

/** The scheduler's slice of the metadata store; every method is atomic on its own. */
export interface TriggerStore extends TriggerStateStore, ScheduleClaimStore, BackfillStore, ApiTokenStore, SlaMissStore {}

/** `TriggerStore` over the same Kysely database as the run store (SQLite or PostgreSQL). */
export class KyselyTriggerStore implements TriggerStore {
  private readonly states: TriggerStateStore;
  private readonly claims: ScheduleClaimStore;
  private readonly backfills: BackfillStore;
  private readonly tokens: ApiTokenStore;
  private readonly slaMisses: SlaMissStore;

  constructor(db: Kysely<MetadataDatabase>, exclusive: ExclusiveWrite = (work) => work()) {
    this.states = new KyselyTriggerStateStore(db, exclusive);
    this.claims = new KyselyScheduleClaimStore(db, exclusive);
    this.backfills = new KyselyBackfillStore(db, exclusive);
    this.tokens = new KyselyApiTokenStore(db, exclusive);
    this.slaMisses = new KyselySlaMissStore(db, exclusive);
  }

  readonly listTriggerStates: TriggerStore["listTriggerStates"] = (...args) => this.states.listTriggerStates(...args);
  readonly syncTriggers: TriggerStore["syncTriggers"] = (...args) => this.states.syncTriggers(...args);
  readonly deleteTriggersOfOtherPipelines: TriggerStore["deleteTriggersOfOtherPipelines"] = (...args) => this.states.deleteTriggersOfOtherPipelines(...args);
  readonly advanceTrigger: TriggerStore["advanceTrigger"] = (...args) => this.states.advanceTrigger(...args);
  readonly setNextDue: TriggerStore["setNextDue"] = (...args) => this.states.setNextDue(...args);

  readonly claimScheduledRun: TriggerStore["claimScheduledRun"] = (...args) => this.claims.claimScheduledRun(...args);
  readonly claimScheduledRunWithinLimit: TriggerStore["claimScheduledRunWithinLimit"] = (...args) => this.claims.claimScheduledRunWithinLimit(...args);
  readonly finishClaim: TriggerStore["finishClaim"] = (...args) => this.claims.finishClaim(...args);
  readonly releaseClaim: TriggerStore["releaseClaim"] = (...args) => this.claims.releaseClaim(...args);
  readonly releaseStaleClaims: TriggerStore["releaseStaleClaims"] = (...args) => this.claims.releaseStaleClaims(...args);
  readonly listScheduledRuns: TriggerStore["listScheduledRuns"] = (...args) => this.claims.listScheduledRuns(...args);
  readonly listActiveRuns: TriggerStore["listActiveRuns"] = (...args) => this.claims.listActiveRuns(...args);

  readonly claimSlaMiss: TriggerStore["claimSlaMiss"] = (...args) => this.slaMisses.claimSlaMiss(...args);

  readonly createBackfill: TriggerStore["createBackfill"] = (...args) => this.backfills.createBackfill(...args);
  readonly getBackfill: TriggerStore["getBackfill"] = (...args) => this.backfills.getBackfill(...args);
  readonly listBackfills: TriggerStore["listBackfills"] = (...args) => this.backfills.listBackfills(...args);
  readonly setBackfillState: TriggerStore["setBackfillState"] = (...args) => this.backfills.setBackfillState(...args);
  readonly claimBackfillRun: TriggerStore["claimBackfillRun"] = (...args) => this.backfills.claimBackfillRun(...args);
  readonly claimBackfillRunWithinLimit: TriggerStore["claimBackfillRunWithinLimit"] = (...args) => this.backfills.claimBackfillRunWithinLimit(...args);
  readonly setBackfillRunId: TriggerStore["setBackfillRunId"] = (...args) => this.backfills.setBackfillRunId(...args);
  readonly releaseBackfillRun: TriggerStore["releaseBackfillRun"] = (...args) => this.backfills.releaseBackfillRun(...args);
  readonly releaseStaleBackfillRuns: TriggerStore["releaseStaleBackfillRuns"] = (...args) => this.backfills.releaseStaleBackfillRuns(...args);
  readonly listBackfillRuns: TriggerStore["listBackfillRuns"] = (...args) => this.backfills.listBackfillRuns(...args);

  readonly setTokenHash: TriggerStore["setTokenHash"] = (...args) => this.tokens.setTokenHash(...args);
  readonly getTokenHash: TriggerStore["getTokenHash"] = (...args) => this.tokens.getTokenHash(...args);
  readonly deleteToken: TriggerStore["deleteToken"] = (...args) => this.tokens.deleteToken(...args);
}
