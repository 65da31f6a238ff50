// A modal question with real buttons. <dialog> traps focus, and Esc closes it (as "no").

import { h } from './dom.js';

export function confirmDialog(title, message, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        h('p', {}, message),
        h(
          'div',
          { class: 'actions' },
          h('button', { value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'),
          h('button', { value: 'confirm', class: 'danger' }, confirmLabel),
        ),
      ),
    );
    const opener = document.activeElement;
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus?.();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
