// The home screen: notebooks, uploads and the recordings list.

import { h } from '../dom.js';
import { notebooksPanel } from './notebooks.js';
import { recordingsList } from './recordings.js';
import { uploadPanel } from './upload.js';

const SELECTED_KEY = 'spek.notebook';

// query: `notebook`, the notebook to show (a link from one of its pages).
export function renderLibrary(main, query = new URLSearchParams()) {
  if (query.get('notebook')) localStorage.setItem(SELECTED_KEY, query.get('notebook'));
  let selected = localStorage.getItem(SELECTED_KEY);
  let notebooks = [];
  const recordings = recordingsList();
  const upload = uploadPanel({ onChanged: () => recordings.reload() });
  recordings.showNotebook(selected);

  const panel = notebooksPanel({
    selected,
    onSelect(id) {
      selected = id;
      if (id) localStorage.setItem(SELECTED_KEY, id);
      else localStorage.removeItem(SELECTED_KEY);
      recordings.showNotebook(id);
      upload.setNotebooks(notebooks, id);
    },
    onLoaded(list) {
      notebooks = list;
      upload.setNotebooks(notebooks, selected);
    },
  });

  main.replaceChildren(
    h('h1', { class: 'visually-hidden' }, 'Your recordings'),
    h('div', { class: 'library' }, panel, h('div', { class: 'library-main' }, upload.element, recordings.element)),
  );
  return () => {
    upload.stop();
    recordings.stop();
  };
}
