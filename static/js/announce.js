// Messages for everyone: status changes read out by screen readers, and errors shown on screen.

import { h } from './dom.js';
import { describe } from './errors.js';

// Polite: a screen reader says it when the person pauses (progress, saved, downloaded...).
export function announce(message) {
  const region = document.getElementById('status');
  region.textContent = '';
  // A fresh text node, so the same message twice is still read out.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}

// Shows an error until dismissed; the region is role="alert", so it is read out at once.
export function showError(error) {
  const message = typeof error === 'string' ? error : describe(error);
  const alerts = document.getElementById('alerts');
  const alert = h(
    'div',
    { class: 'alert' },
    h('p', {}, message),
    h('button', { type: 'button', class: 'secondary', 'aria-label': 'Dismiss message', onclick: () => alert.remove() }, '×'),
  );
  alerts.append(alert);
}

export function clearErrors() {
  document.getElementById('alerts').replaceChildren();
}
