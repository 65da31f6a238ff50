// Upload one or many recordings (file picker or drag and drop) with transcription options.
// One file goes up with uploadRecording, several with submitBatch; each gets its own progress item.

import { uploadFiles } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { bytes } from '../format.js';
import { progressItem } from './progress.js';

const MAX_FILES = 10;
const LANGUAGES = ['en', 'ru', 'uk', 'de', 'fr', 'es', 'it', 'pt', 'pl', 'nl', 'tr', 'ar', 'hi', 'zh', 'ja', 'ko'];
const FIELDS = 'id title job { id }';
const UPLOAD = `mutation($file: Upload!, $input: RecordingInput) { uploadRecording(file: $file, input: $input) { ${FIELDS} } }`;
const BATCH = `mutation($files: [Upload!]!, $input: RecordingInput) {
  submitBatch(files: $files, input: $input) { id status progress recordings { ${FIELDS} } } }`;

// How much of each file has gone up, from the bytes of the whole multipart body (files go in order).
function perFile(files, loaded, total) {
  const sizes = files.map((f) => f.size);
  const scale = sizes.reduce((a, b) => a + b, 0) / total;
  let offset = 0;
  return sizes.map((size) => {
    const fraction = size ? Math.min(1, Math.max(0, (loaded * scale - offset) / size)) : 1;
    offset += size;
    return fraction;
  });
}

function select(id, label, options, value) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, name: id, value }, options.map(([v, text]) => h('option', { value: v }, text))),
  );
}

// onChanged(): recordings arrived, or one finished processing.
export function uploadPanel({ onChanged }) {
  const languageNames = new Intl.DisplayNames([navigator.language, 'en'], { type: 'language' });
  const input = h('input', { type: 'file', id: 'files', name: 'files', multiple: true, accept: 'audio/*,video/*' });
  const chosen = h('ul', { class: 'chosen', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Upload and transcribe');
  const notebook = h('select', { id: 'upload-notebook', name: 'notebook' });
  const items = h('ul', { class: 'progress-list', 'aria-label': 'Uploads' });
  const running = new Set();

  const dropzone = h(
    'div',
    { class: 'dropzone' },
    h('label', { for: 'files' }, 'Audio or video files'),
    input,
    h('p', { class: 'hint' }, `Or drop files here. Up to ${MAX_FILES} at once.`),
    chosen,
  );
  const form = h(
    'form',
    { class: 'upload-form' },
    dropzone,
    h(
      'div',
      { class: 'options' },
      select('language', 'Language', [['', 'Detect automatically'], ...LANGUAGES.map((c) => [c, languageNames.of(c)])], ''),
      select('quality', 'Quality', [['FAST', 'Fast'], ['BALANCED', 'Balanced'], ['BEST', 'Best (slowest)']], 'BALANCED'),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'speakers' }, 'Speakers'),
        h('input', { type: 'number', id: 'speakers', name: 'speakers', min: 1, max: 10, inputmode: 'numeric', placeholder: 'Detect', 'aria-describedby': 'speakers-hint' }),
        h('span', { class: 'hint', id: 'speakers-hint' }, 'Leave empty to detect'),
      ),
      h('div', { class: 'field' }, h('label', { for: 'upload-notebook' }, 'Notebook'), notebook),
    ),
    error,
    submit,
  );

  function files() {
    return [...input.files];
  }

  function showChosen() {
    const list = files();
    fill(chosen, list.map((f) => h('li', {}, `${f.name} (${bytes(f.size)})`)));
    error.textContent = list.length > MAX_FILES ? `Choose at most ${MAX_FILES} files at once.` : '';
  }

  input.addEventListener('change', showChosen);
  form.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropzone.classList.add('dragging');
  });
  form.addEventListener('dragleave', (event) => {
    if (!form.contains(event.relatedTarget)) dropzone.classList.remove('dragging');
  });
  form.addEventListener('drop', (event) => {
    event.preventDefault();
    dropzone.classList.remove('dragging');
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showChosen();
    }
  });

  function options() {
    const speakers = form.elements.speakers.value;
    return {
      language: form.elements.language.value || null,
      quality: form.elements.quality.value,
      numSpeakers: speakers ? Number(speakers) : null,
      notebookId: notebook.value || null,
    };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const list = files();
    error.textContent = '';
    if (list.length === 0) return void (error.textContent = 'Choose at least one audio or video file.');
    if (list.length > MAX_FILES) return void (error.textContent = `Choose at most ${MAX_FILES} files at once.`);
    const progress = list.map((file) => {
      const item = progressItem(file, () => {
        running.delete(item);
        onChanged();
      });
      running.add(item);
      return item;
    });
    items.prepend(...progress.map((p) => p.element));
    input.value = '';
    showChosen();
    const onBytes = (loaded, total) => perFile(list, loaded, total).forEach((f, i) => progress[i].uploading(f));
    onBytes(0, 1);
    try {
      const recordings =
        list.length === 1
          ? [(await uploadFiles(UPLOAD, { file: null, input: options() }, { file: list[0] }, onBytes)).uploadRecording]
          : (await uploadFiles(BATCH, { files: list.map(() => null), input: options() }, Object.fromEntries(list.map((f, i) => [`files.${i}`, f])), onBytes)).submitBatch.recordings;
      recordings.forEach((recording, i) => progress[i].uploaded(recording));
      onChanged();
    } catch (e) {
      for (const p of progress) p.uploadFailed(e);
      error.textContent = describe(e);
    }
  });

  return {
    element: h('section', { class: 'card upload', 'aria-labelledby': 'upload-title' }, h('h2', { id: 'upload-title' }, 'Upload recordings'), form, items),
    // The notebooks to choose from, and the one chosen in the notebooks list.
    setNotebooks(notebooks, selected) {
      fill(notebook, h('option', { value: '' }, 'None'), notebooks.map((n) => h('option', { value: n.id }, n.title)));
      notebook.value = selected ?? '';
    },
    stop() {
      for (const item of running) item.stop();
    },
  };
}
