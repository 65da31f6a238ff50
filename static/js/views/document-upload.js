// Upload a document (PDF, Word, HTML, Markdown, text): bytes going up, then the job that embeds its
// passages, live. A file Spek cannot read is refused at once, with the server's reason.

import { ApiError } from '../api.js';
import { uploadFiles } from '../client.js';
import { h } from '../dom.js';
import { describe } from '../errors.js';
import { bytes } from '../format.js';
import { progressItem } from './progress.js';

const UPLOAD = 'mutation($file: Upload!) { uploadDocument(file: $file) { id title status job { id } } }';
const ACCEPT = '.pdf,.docx,.html,.htm,.md,.markdown,.txt,application/pdf,text/*,application/vnd.openxmlformats-officedocument.wordprocessingml.document';

// What a refusal means, before the server's own words (which name the file and what to do).
const REFUSED = {
  UNSUPPORTED_MEDIA: 'Spek cannot read this file.',
  PAYLOAD_TOO_LARGE: 'This file is too large.',
  BAD_USER_INPUT: 'There is nothing Spek can add from this file.',
};

function refusal(error) {
  const lead = error instanceof ApiError ? REFUSED[error.code] : null;
  return lead ? `${lead} ${error.message}` : describe(error);
}

const DOCUMENT = {
  ready: 'ready to search',
  open: (document) => h('a', { class: 'button', href: `#/documents/${document.id}` }, 'Open document'),
  retry: null,
};

// onChanged(): a document arrived, or finished processing.
export function documentUpload({ onChanged }) {
  const input = h('input', { type: 'file', id: 'document-file', name: 'file', accept: ACCEPT, 'aria-describedby': 'document-hint' });
  const chosen = h('p', { class: 'chosen', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const items = h('ul', { class: 'progress-list', 'aria-label': 'Document uploads' });
  const running = new Set();
  const form = h(
    'form',
    { class: 'upload-form document-upload' },
    h(
      'div',
      { class: 'dropzone' },
      h('label', { for: 'document-file' }, 'Document'),
      input,
      h('p', { class: 'hint', id: 'document-hint' }, 'PDF, Word (.docx), HTML, Markdown or plain text.'),
      chosen,
    ),
    error,
    h('button', { type: 'submit' }, 'Upload document'),
  );

  input.addEventListener('change', () => {
    const [file] = input.files;
    chosen.textContent = file ? `${file.name} (${bytes(file.size)})` : '';
    error.textContent = '';
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const [file] = input.files;
    error.textContent = '';
    if (!file) return void (error.textContent = 'Choose a document to upload.');
    const item = progressItem(
      file,
      () => {
        running.delete(item);
        onChanged();
      },
      DOCUMENT,
    );
    running.add(item);
    items.prepend(item.element);
    input.value = '';
    chosen.textContent = '';
    item.uploading(0);
    try {
      const { uploadDocument } = await uploadFiles(UPLOAD, { file: null }, { file }, (loaded, total) => item.uploading(loaded / total));
      item.uploaded(uploadDocument);
      onChanged();
    } catch (e) {
      const message = refusal(e);
      item.uploadFailed(message);
      error.textContent = message;
    }
  });

  return {
    element: h('section', { class: 'card upload', 'aria-labelledby': 'document-upload-title' }, h('h2', { id: 'document-upload-title' }, 'Add a document'), form, items),
    stop() {
      for (const item of running) item.stop();
    },
  };
}
