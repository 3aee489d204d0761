/**
 * The stored records the API answers with (defined by the store, main/store/types.ts), as the
 * renderer sees them: the renderer imports them from here, the API contract, never from the store.
 */
export type {
  DatasetRecord,
  StoredExample,
  ModelRecord,
  StudyRecord,
  RunRecord,
  RunStatus,
  StoredRunStatus,
  TokenInfo,
  RelevanceRecord,
  ResultRecord,
  MetricRecord,
} from '../store/types';
export { RUN_STATUSES, STORED_RUN_STATUSES } from '../store/types';
export type { AffectedStudy, DeletedRun, DeletionImpact, DeletionKind } from '../store/deletions-repo';
