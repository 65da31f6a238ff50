// Background jobs: live progress over the jobProgress subscription, and cancelling.

import { gql, subscribe } from './client.js';

const PROGRESS = `subscription($jobId: ID!, $after: Int) {
  jobProgress(jobId: $jobId, after: $after) { seq status stage progress etaSeconds message error } }`;
const CANCEL = 'mutation($id: ID!) { cancelJob(id: $id) { id status } }';

export const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

// Calls onEvent(event) for every progress event of the job, from its first, until it finishes.
// After a dropped connection it resumes after the last event seen. Returns a function that stops.
export function followJob(jobId, onEvent, onError) {
  let after = null;
  return subscribe(PROGRESS, () => ({ jobId, after }), {
    next(data) {
      after = data.jobProgress.seq;
      onEvent(data.jobProgress);
    },
    error: onError,
  });
}

export function cancelJob(jobId) {
  return gql(CANCEL, { id: jobId });
}
