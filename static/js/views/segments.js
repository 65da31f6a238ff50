// The transcript's segments: speaker, [mm:ss] time (seek), words (click to seek), text edited in place,
// speaker changed per segment, and checkboxes to pick segments for export.

import { announce, showError } from '../announce.js';
import { gql } from '../client.js';
import { fill, h, marked } from '../dom.js';
import { describe } from '../errors.js';
import { clock, speakerName } from '../format.js';

export const SEGMENT_FIELDS = 'id index start end speaker overlappingSpeakers text words { start end text }';
const UPDATE_TEXT = `mutation($id: ID!, $text: String!) { updateSegment(id: $id, text: $text) { ${SEGMENT_FIELDS} } }`;
const UPDATE_SPEAKER = `mutation($id: ID!, $speaker: String!) { updateSegment(id: $id, speaker: $speaker) { ${SEGMENT_FIELDS} } }`;

// Index of the last item whose start(item) is <= t (items sorted by start), or -1.
function lastStartingBy(items, t, start = (item) => item.start) {
  let low = 0;
  let high = items.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (start(items[middle]) <= t) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

// onRedrawn() runs after a segment was drawn anew (edited), so playback highlighting can find it again.
export function segmentList({ transcript, names, onSeek, onSelectionChange, onRedrawn }) {
  const speakers = transcript.speakers.map((s) => s.label);
  const selected = new Set();
  const list = h('ol', { class: 'segments' });
  const rows = transcript.segments.map((segment) => ({ segment }));
  let matches = new Map(); // segment id → search result

  function words(row) {
    const { segment } = row;
    const hit = new Set(matches.get(segment.id)?.matchedWords ?? []);
    if (!segment.words.length) {
      row.wordElements = [];
      return matches.has(segment.id) ? marked(segment.text, matches.get(segment.id).matches ?? []) : [segment.text];
    }
    row.wordElements = segment.words.map((word, i) =>
      h('span', { class: hit.has(i) ? 'word hit' : 'word', dataset: { start: word.start } }, word.text.trim()),
    );
    return row.wordElements.flatMap((element, i) => (i ? [' ', element] : [element]));
  }

  function speakerControl(row) {
    const { segment } = row;
    if (!speakers.length) return null;
    const control = h(
      'select',
      { class: 'speaker', 'aria-label': `Speaker at ${clock(segment.start)}`, value: segment.speaker ?? '' },
      segment.speaker ? null : h('option', { value: '' }, speakerName(null)),
      speakers.map((label) => h('option', { value: label }, speakerName(label, names))),
    );
    control.addEventListener('change', async () => {
      try {
        const { updateSegment } = await gql(UPDATE_SPEAKER, { id: segment.id, speaker: control.value });
        row.segment = updateSegment;
        draw(row);
        row.element.querySelector('select.speaker').focus();
        announce(`Speaker changed to ${speakerName(updateSegment.speaker, names)}`);
      } catch (e) {
        control.value = segment.speaker ?? '';
        showError(e);
      }
    });
    return control;
  }

  function draw(row) {
    const { segment } = row;
    const at = clock(segment.start);
    const checkbox = h('input', { type: 'checkbox', class: 'pick', 'aria-label': `Select segment at ${at}`, checked: selected.has(segment.id) });
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) selected.add(segment.id);
      else selected.delete(segment.id);
      row.element.classList.toggle('picked', checkbox.checked);
      onSelectionChange([...selected]);
    });
    row.text = h('p', { class: 'text' }, words(row));
    row.editButton = h('button', { type: 'button', class: 'secondary small edit', 'aria-label': `Edit text at ${at}`, onclick: () => edit(row) }, 'Edit');
    const element = h(
      'li',
      {
        class: selected.has(segment.id) ? 'segment picked' : 'segment',
        id: `segment-${segment.id}`,
        dataset: { id: segment.id },
        style: speakers.includes(segment.speaker) ? `--speaker: var(--speaker-${speakers.indexOf(segment.speaker) % 6})` : null,
      },
      h(
        'div',
        { class: 'segment-head' },
        checkbox,
        h('button', { type: 'button', class: 'time', 'aria-label': `Play from ${at}`, onclick: () => onSeek(segment.start) }, `[${at}]`),
        speakerControl(row),
        segment.overlappingSpeakers?.length
          ? h('span', { class: 'muted overlap' }, `with ${segment.overlappingSpeakers.map((label) => speakerName(label, names)).join(', ')}`)
          : null,
        row.editButton,
      ),
      row.text,
    );
    const old = row.element;
    row.element = element;
    if (old) {
      old.replaceWith(element);
      onRedrawn();
    }
    return element;
  }

  function edit(row) {
    const { segment } = row;
    const textarea = h('textarea', { class: 'edit-text', 'aria-label': `Text at ${clock(segment.start)}`, 'aria-describedby': `edit-hint-${segment.id}`, rows: 3 }, segment.text);
    const error = h('p', { class: 'form-error', role: 'alert' });
    const editor = h('div', { class: 'editor' }, textarea, h('p', { class: 'hint', id: `edit-hint-${segment.id}` }, 'Enter saves · Esc cancels'), error);
    let finished = false;

    function close(focus) {
      draw(row);
      if (focus) row.editButton.focus();
    }

    async function finish(save, focus) {
      if (finished) return;
      finished = true;
      const text = textarea.value.trim();
      if (!save || text === segment.text.trim()) return close(focus);
      textarea.readOnly = true;
      try {
        const { updateSegment } = await gql(UPDATE_TEXT, { id: segment.id, text });
        row.segment = updateSegment;
        close(focus);
        announce('Segment saved');
      } catch (e) {
        finished = false;
        textarea.readOnly = false;
        error.textContent = describe(e);
        if (focus) textarea.focus();
      }
    }

    textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        finish(true, true);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        finish(false, true);
      }
    });
    textarea.addEventListener('blur', () => finish(true, false));
    row.text.replaceWith(editor);
    row.text = editor;
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  // Click a word to play from it.
  list.addEventListener('click', (event) => {
    const word = event.target.closest('.word');
    if (word) onSeek(Number(word.dataset.start));
  });

  fill(list, rows.map(draw));

  return {
    element: list,
    // The segment and word playing at time t (either may be null).
    at(t) {
      const row = rows[lastStartingBy(rows, t, (r) => r.segment.start)];
      if (!row || t > row.segment.end) return { segment: null, word: null };
      const index = lastStartingBy(row.segment.words, t);
      return { segment: row.element, word: row.wordElements[index] ?? null };
    },
    elementOf(segmentId) {
      return rows.find((r) => r.segment.id === segmentId)?.element ?? null;
    },
    // Search results: highlight their words (or character ranges when a segment has no word timings).
    highlight(results) {
      matches = new Map(results.map((r) => [r.id, r]));
      for (const row of rows) if (row.text.matches('p.text')) fill(row.text, words(row));
    },
    renamed(newNames) {
      names = newNames;
      for (const option of list.querySelectorAll('select.speaker option[value]')) {
        if (option.value) option.textContent = speakerName(option.value, names);
      }
    },
    selectAll(on) {
      selected.clear();
      if (on) for (const row of rows) selected.add(row.segment.id);
      rows.forEach(draw);
      onSelectionChange([...selected]);
    },
  };
}
