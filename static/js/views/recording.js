// One recording: its progress while it is processed, then the transcript player and its tools.

import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { clock, date, eta, humanize, percent } from '../format.js';
import { FINISHED, followJob } from '../jobs.js';
import { exportPanel } from './export.js';
import { syncPlayer } from './player.js';
import { notePanel } from './recording-note.js';
import { searchPanel } from './search.js';
import { SEGMENT_FIELDS, segmentList } from './segments.js';
import { speakersPanel } from './speakers.js';

const RECORDING = `query($id: ID!) { recording(id: $id) {
  id title filename durationSeconds createdAt status audioUrl job { id status stage progress etaSeconds error }
  note { id title } noteJob { id status }
  transcript { id language languageProbability durationSeconds model
    speakers { label name talkTimeSeconds }
    segments { ${SEGMENT_FIELDS} } } } }`;
const AUDIO_URL = 'query($id: ID!) { recording(id: $id) { audioUrl } }';
const RETRY = 'mutation($id: ID!) { retryRecording(id: $id) { id } }';

function languageName(code) {
  try {
    return new Intl.DisplayNames([navigator.language, 'en'], { type: 'language' }).of(code);
  } catch {
    return code;
  }
}

function header(recording) {
  const transcript = recording.transcript;
  const facts = [
    recording.durationSeconds && clock(recording.durationSeconds),
    transcript && `${languageName(transcript.language)} (${percent(transcript.languageProbability)} sure)`,
    transcript?.speakers.length && `${transcript.speakers.length} speakers`,
    date(recording.createdAt),
  ];
  return h(
    'header',
    { class: 'recording-head' },
    h('a', { class: 'back', href: '#/' }, '← All recordings'),
    h('h1', {}, recording.title || recording.filename),
    h('p', { class: 'meta' }, facts.filter(Boolean).join(' · ')),
  );
}

// While the job runs: its progress, live; reloads the screen once it is done.
function processing(recording, reload) {
  const bar = h('progress', { max: 100, value: Math.round((recording.job?.progress ?? 0) * 100), 'aria-label': 'Transcription progress' });
  const state = h('p', { class: 'state' }, humanize(recording.status));
  const box = h('section', { class: 'card processing' }, h('h2', {}, 'Transcript'), state, bar);
  let stop = () => {};
  if (recording.status === 'FAILED' || recording.status === 'CANCELLED') {
    state.textContent = recording.status === 'FAILED' ? `Transcription failed: ${recording.job?.error ?? 'unknown error'}` : 'Transcription was cancelled.';
    box.append(
      h('button', {
        type: 'button',
        onclick: async () => {
          try {
            await gql(RETRY, { id: recording.id });
            reload();
          } catch (e) {
            state.textContent = describe(e);
          }
        },
      }, 'Retry'),
    );
  } else if (recording.job) {
    stop = followJob(
      recording.job.id,
      (event) => {
        bar.value = Math.round(event.progress * 100);
        state.textContent = [humanize(event.stage || event.status), percent(event.progress), eta(event.etaSeconds)].filter(Boolean).join(' · ');
        if (FINISHED.has(event.status)) reload();
      },
      (e) => (state.textContent = describe(e)),
    );
  }
  return { element: box, stop: () => stop() };
}

// The audio element; a fresh signed URL is fetched when the old one has expired.
function audioPlayer(recording) {
  if (!recording.audioUrl) return h('p', { class: 'muted' }, 'The audio of this recording is not available.');
  const audio = h('audio', { controls: true, preload: 'metadata', src: recording.audioUrl, 'aria-label': 'Recording audio' });
  let renewedAt = 0;
  audio.addEventListener('error', async () => {
    if (Date.now() - renewedAt < 60_000) return;
    renewedAt = Date.now();
    const at = audio.currentTime;
    const { recording: fresh } = await gql(AUDIO_URL, { id: recording.id });
    if (!fresh?.audioUrl) return;
    audio.src = fresh.audioUrl;
    audio.currentTime = at;
  });
  return audio;
}

// `startAt`: seconds to put the player at (a search hit's place), or null.
function workspace(recording, startAt) {
  const { transcript } = recording;
  let names = Object.fromEntries(transcript.speakers.filter((s) => s.name).map((s) => [s.label, s.name]));
  const audio = audioPlayer(recording);
  let player = { seek() {}, refresh() {}, stop() {} };
  const exporter = exportPanel({ transcriptId: transcript.id, durationSeconds: transcript.durationSeconds, selectAll: (on) => segments.selectAll(on) });
  const segments = segmentList({
    transcript,
    names,
    onSeek: (t) => player.seek(t),
    onSelectionChange: (ids) => exporter.selected(ids),
    onRedrawn: () => player.refresh(),
  });
  if (audio instanceof HTMLAudioElement) player = syncPlayer(audio, (t) => segments.at(t));

  const search = searchPanel({
    transcriptId: transcript.id,
    names: () => names,
    onResults: (found) => segments.highlight(found),
    onJump(segment) {
      player.seek(segment.start);
      segments.elementOf(segment.id)?.querySelector('.time').focus({ preventScroll: true });
    },
  });
  const speakers = speakersPanel({
    transcriptId: transcript.id,
    speakers: transcript.speakers,
    onRenamed(list) {
      names = Object.fromEntries(list.filter((s) => s.name).map((s) => [s.label, s.name]));
      segments.renamed(names);
    },
  });

  const note = notePanel(recording);

  const body = transcript.segments.length
    ? segments.element
    : h('p', { class: 'empty' }, 'No speech was found in this recording.');
  const element = [
    h('div', { class: 'player-bar' }, audio),
    h(
      'div',
      { class: 'workspace' },
      h('div', { class: 'tools' }, search, note.element, speakers, exporter.element),
      h('section', { class: 'transcript', 'aria-labelledby': 'transcript-title' }, h('h2', { id: 'transcript-title', class: 'visually-hidden' }, 'Transcript'), body),
    ),
  ];
  if (startAt !== null) requestAnimationFrame(() => player.seek(startAt));
  return {
    element,
    stop: () => {
      player.stop();
      note.stop();
    },
  };
}

// query: `t`, a time in seconds to start the player at.
export function renderRecording(main, id, query = new URLSearchParams()) {
  const t = Number.parseFloat(query.get('t'));
  const startAt = Number.isFinite(t) && t >= 0 ? t : null;
  let stop = () => {};
  const view = h('article', { class: 'recording-view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the recording…'));
  main.replaceChildren(view);

  async function load() {
    stop();
    let recording;
    try {
      recording = (await gql(RECORDING, { id })).recording;
    } catch (e) {
      fill(view, h('a', { class: 'back', href: '#/' }, '← All recordings'), h('p', { class: 'form-error' }, describe(e)));
      view.removeAttribute('aria-busy');
      return;
    }
    const part = recording.status === 'COMPLETED' && recording.transcript ? workspace(recording, startAt) : processing(recording, load);
    stop = part.stop;
    view.removeAttribute('aria-busy');
    fill(view, header(recording), part.element);
  }

  load();
  return () => stop();
}
