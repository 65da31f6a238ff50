// The star that marks a note as a favourite (a toggle button: aria-pressed says which way it is).

import { announce, showError } from '../announce.js';
import { gql } from '../client.js';
import { h } from '../dom.js';

const FAVORITE = 'mutation($id: ID!, $on: Boolean!) { updateNote(id: $id, isFavorite: $on) { id isFavorite } }';

// onChanged(isFavorite) after the server took the change.
export function favoriteButton(note, onChanged = () => {}) {
  let on = note.isFavorite;
  const button = h('button', { type: 'button', class: 'star', 'aria-label': `Favourite: ${note.title}` });

  function draw() {
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? '★' : '☆';
    button.title = on ? 'Remove from favourites' : 'Add to favourites';
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      on = (await gql(FAVORITE, { id: note.id, on: !on })).updateNote.isFavorite;
      draw();
      announce(on ? `Added “${note.title}” to favourites` : `Removed “${note.title}” from favourites`);
      onChanged(on);
    } catch (e) {
      showError(e);
    }
    button.disabled = false;
  });
  draw();
  return button;
}
