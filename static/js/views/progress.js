// One file on its way: bytes going up, then the transcription job's stages, percent and ETA, live.

import { announce } from '../announce.js';
import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { bytes, eta, humanize, percent } from '../format.js';
import { FINISHED, cancelJob, followJob } from '../jobs.js';

const RETRY = 'mutation($id: ID!) { retryRecording(id: $id) { id job { id } } }';

// onFinished() runs when the job ends, whichever way.
export function progressItem(file, onFinished) {
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
  let recording = null;
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
      fill(actions, h('a', { class: 'button', href: `#/recordings/${recording.id}` }, 'Open transcript'));
      announce(`${name}: transcript ready`);
    } else if (event.status === 'FAILED' || event.status === 'CANCELLED') {
      const why = event.status === 'FAILED' ? `Failed: ${event.error || 'unknown error'}` : 'Cancelled';
      show(event.progress, why);
      fill(actions, h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Retry'));
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
      const { retryRecording } = await gql(RETRY, { id: recording.id });
      follow(retryRecording.job.id);
    } catch (e) {
      failed(e);
    }
  }

  function failed(error) {
    state.textContent = describe(error);
    element.dataset.status = 'ERROR';
  }

  return {
    element,
    uploading(fraction) {
      show(fraction, `Uploading · ${percent(fraction)} of ${bytes(file.size)}`);
    },
    uploaded(uploadedRecording) {
      recording = uploadedRecording;
      follow(recording.job.id);
    },
    uploadFailed(error) {
      failed(error);
      bar.value = 0;
      fill(actions);
    },
    stop: () => stop(),
  };
}
