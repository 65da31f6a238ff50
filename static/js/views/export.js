// Export the transcript, whole or a part (chosen segments or a time range), in each format, then
// download it from the signed link (exportTranscript); the link needs no Authorization header.

import { announce } from '../announce.js';
import { gql } from '../client.js';
import { h } from '../dom.js';
import { describe } from '../errors.js';
import { clock, parseClock } from '../format.js';

const FORMATS = [
  ['DOCX', 'Word document'],
  ['SRT', 'SubRip subtitles'],
  ['VTT', 'WebVTT subtitles'],
  ['JSON', 'JSON with all details'],
  ['TXT', 'Plain text'],
];
const NAMES_OPTIONAL = new Set(['SRT', 'VTT', 'TXT']); // DOCX and JSON always name speakers
const TYPES = { id: 'ID!', format: 'ExportFormat!', start: 'Float', end: 'Float', segmentIds: '[ID!]', rebase: 'Boolean', speakers: 'Boolean' };

// Only the arguments in use go into the document: a whole-transcript export needs just id and format.
function exportMutation(variables) {
  const names = Object.keys(variables);
  return `mutation(${names.map((n) => `$${n}: ${TYPES[n]}`).join(', ')}) {
    exportTranscript(${names.map((n) => `${n}: $${n}`).join(', ')}) { url filename contentType expiresAt } }`;
}

function download(link) {
  const anchor = h('a', { href: link.url, download: link.filename, hidden: true });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

// selectAll(on) ticks or clears every segment. Returns the panel and selected(ids) to call on changes.
export function exportPanel({ transcriptId, durationSeconds, selectAll }) {
  let chosen = [];
  const error = h('p', { class: 'form-error', role: 'alert' });
  const radio = (value, label, extra = {}) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'part', value, ...extra }), label);
  const selectedLabel = h('span', {}, 'Selected segments (0)');
  const from = h('input', { id: 'export-from', name: 'from', placeholder: '00:00', inputmode: 'decimal', size: 6 });
  const to = h('input', { id: 'export-to', name: 'to', placeholder: clock(durationSeconds), inputmode: 'decimal', size: 6 });
  const form = h(
    'form',
    { class: 'export-form' },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Part'),
      radio('whole', 'Whole transcript', { checked: true }),
      radio('selected', selectedLabel, { disabled: true }),
      h(
        'div',
        { class: 'row small' },
        h('button', { type: 'button', class: 'link', onclick: () => selectAll(true) }, 'Select all'),
        h('button', { type: 'button', class: 'link', onclick: () => selectAll(false) }, 'Select none'),
      ),
      radio('range', 'Time range'),
      h('div', { class: 'row range' }, h('label', { for: 'export-from' }, 'From'), from, h('label', { for: 'export-to' }, 'to'), to),
    ),
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', name: 'rebase' }), 'Start a part’s times at 00:00'),
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', name: 'speakers', checked: true }), 'Speaker names in subtitles and text'),
    h(
      'div',
      { class: 'formats', role: 'group', 'aria-label': 'Download as' },
      FORMATS.map(([format, description]) =>
        h('button', { type: 'button', title: description, 'aria-label': `Download ${format}: ${description}`, onclick: (event) => run(event.currentTarget, format) }, format),
      ),
    ),
    error,
  );
  const [, selectedRadio, rangeRadio] = form.elements.part;
  for (const input of [from, to]) input.addEventListener('focus', () => (rangeRadio.checked = true));

  function variables(format) {
    const part = form.elements.part.value;
    const fragment = part !== 'whole';
    const vars = { id: transcriptId, format };
    if (part === 'selected') vars.segmentIds = chosen;
    if (part === 'range') {
      const start = from.value.trim() ? parseClock(from.value) : null;
      const end = to.value.trim() ? parseClock(to.value) : null;
      if (start === null && from.value.trim()) throw new Error('Write the start as mm:ss, like 01:30.');
      if (end === null && to.value.trim()) throw new Error('Write the end as mm:ss, like 02:45.');
      if (start !== null) vars.start = start;
      if (end !== null) vars.end = end;
    }
    if (fragment && form.elements.rebase.checked) vars.rebase = true;
    if (NAMES_OPTIONAL.has(format)) vars.speakers = form.elements.speakers.checked;
    return vars;
  }

  // Enter in a field must not start a download in whichever format comes first.
  form.addEventListener('submit', (event) => event.preventDefault());

  async function run(button, format) {
    error.textContent = '';
    let vars;
    try {
      vars = variables(format);
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    button.disabled = true;
    try {
      const { exportTranscript } = await gql(exportMutation(vars), vars);
      download(exportTranscript);
      announce(`Downloading ${exportTranscript.filename}`);
    } catch (e) {
      error.textContent = describe(e);
    } finally {
      button.disabled = false;
    }
  }

  return {
    element: h('details', { class: 'card tool export' }, h('summary', {}, h('h2', {}, 'Export')), form),
    selected(ids) {
      const before = chosen.length;
      chosen = ids;
      selectedLabel.textContent = `Selected segments (${ids.length})`;
      selectedRadio.disabled = ids.length === 0;
      if (ids.length && !before) selectedRadio.checked = true;
      if (!ids.length && selectedRadio.checked) form.elements.part[0].checked = true;
    },
  };
}
