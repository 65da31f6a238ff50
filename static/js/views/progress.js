// One file on its way: bytes going up, then its job's stages, percent and ETA, live. A recording's by
// default; `kind` says what the file becomes (a document, say): its link once ready, and how to retry.

import { announce } from '../announce.js';
import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { bytes, eta, humanize, percent } from '../format.js';
import { FINISHED, cancelJob, followJob } from '../jobs.js';

const RETRY = 'mutation($id: ID!) { retryRecording(id: $id) { id job { id } } }';

const RECORDING = {
  ready: 'transcript ready',
  open: (recording) => h('a', { class: 'button', href: `#/recordings/${recording.id}` }, 'Open transcript'),
  retry: async (recording) => (await gql(RETRY, { id: recording.id })).retryRecording.job.id,
};

// onFinished() runs when the job ends, whichever way.
export function progressItem(file, onFinished, kind = RECORDING) {
  const name = file.name;
  const bar = h('progress', { max: 100, value: 0, 'aria-label': `Progress of ${name}` });
  const state = h('span', { class: 'state' }, 'Waiting to upload');
  const stages = h('ol', { class: 'stages', 'aria-label': 'Stages' });
  const actions = h('div', { class: 'actions' });
  const element = h(
    'li',
    { class: 'progress-item' },
    h('div', { class: 'progress-head' }, h('strong', { class: 'file-name' }, name), state),
    bar,
    stages,
    actions,
  );
  let stop = () => {};
  let uploaded = null; // what the file became: the recording or document
  let lastStage = null;

  function show(fraction, text) {
    bar.value = Math.round(fraction * 100);
    state.textContent = text;
  }

  function markStage(stage, finished) {
    if (stage && stage !== lastStage) {
      for (const item of stages.children) item.className = 'done';
      stages.append(h('li', { class: 'current' }, humanize(stage)));
      lastStage = stage;
      announce(`${name}: ${humanize(stage)}`);
    }
    if (finished) for (const item of stages.children) item.className = 'done';
  }

  function onEvent(event) {
    markStage(event.stage, event.status === 'COMPLETED');
    element.dataset.status = event.status;
    if (event.status === 'COMPLETED') {
      show(1, `Completed · ${percent(1)}`);
      fill(actions, kind.open(uploaded));
      announce(`${name}: ${kind.ready}`);
    } else if (event.status === 'FAILED' || event.status === 'CANCELLED') {
      const why = event.status === 'FAILED' ? `Failed: ${event.error || 'unknown error'}` : 'Cancelled';
      show(event.progress, why);
      fill(actions, kind.retry && h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Retry'));
      announce(`${name}: ${why}`);
    } else {
      const parts = [humanize(event.stage || event.status), percent(event.progress), eta(event.etaSeconds)];
      show(event.progress, parts.filter(Boolean).join(' · '));
    }
    if (FINISHED.has(event.status)) {
      stop();
      onFinished();
    }
  }

  function follow(jobId) {
    lastStage = null;
    stages.replaceChildren();
    show(0, 'Queued');
    element.dataset.status = 'QUEUED';
    const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => cancelJob(jobId).catch(failed) }, 'Cancel');
    fill(actions, cancel);
    stop = followJob(jobId, onEvent, failed);
  }

  async function retry() {
    try {
      follow(await kind.retry(uploaded));
    } catch (e) {
      failed(e);
    }
  }

  // error: what went wrong, or already the words to show.
  function failed(error) {
    state.textContent = typeof error === 'string' ? error : describe(error);
    element.dataset.status = 'ERROR';
  }

  return {
    element,
    uploading(fraction) {
      show(fraction, `Uploading · ${percent(fraction)} of ${bytes(file.size)}`);
    },
    uploaded(thing) {
      uploaded = thing;
      follow(thing.job.id);
    },
    uploadFailed(error) {
      failed(error);
      bar.value = 0;
      fill(actions);
    },
    stop: () => stop(),
  };
}
