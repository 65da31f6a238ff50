// Speakers with their talk time, each renamed in place (renameSpeaker).

import { announce } from '../announce.js';
import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { clock, speakerName } from '../format.js';

const RENAME = `mutation($transcriptId: ID!, $label: String!, $name: String!) {
  renameSpeaker(transcriptId: $transcriptId, label: $label, name: $name) { speakers { label name talkTimeSeconds } } }`;

// onRenamed(speakers) with the transcript's speakers after a rename.
export function speakersPanel({ transcriptId, speakers, onRenamed }) {
  const list = h('ul', { class: 'speaker-list' });

  function entry(speaker) {
    const id = `speaker-name-${speaker.label}`;
    const input = h('input', { id, name: 'name', value: speaker.name ?? '', placeholder: speakerName(speaker.label), required: true, maxlength: 40, autocomplete: 'off' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      { class: 'speaker-form', dataset: { label: speaker.label } },
      h('label', { for: id }, speakerName(speaker.label, speaker.name ? { [speaker.label]: speaker.name } : {}), h('span', { class: 'muted' }, ` · ${clock(speaker.talkTimeSeconds)} talk time`)),
      h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'secondary', 'aria-label': `Rename ${speakerName(speaker.label)}` }, 'Rename')),
      error,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        const { renameSpeaker } = await gql(RENAME, { transcriptId, label: speaker.label, name: input.value.trim() });
        draw(renameSpeaker.speakers);
        onRenamed(renameSpeaker.speakers);
        announce(`${speakerName(speaker.label)} is now ${input.value.trim()}`);
        list.querySelector(`#${CSS.escape(id)}`)?.focus();
      } catch (e) {
        error.textContent = describe(e);
      }
    });
    return h('li', {}, form);
  }

  function draw(current) {
    fill(list, current.length ? current.map(entry) : h('li', { class: 'muted' }, 'No speakers were told apart in this recording.'));
  }

  draw(speakers);
  return h(
    'details',
    { class: 'card tool speakers' },
    h('summary', {}, h('h2', {}, `Speakers (${speakers.length})`)),
    list,
  );
}
