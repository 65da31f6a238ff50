// Sign in and sign up: one form each, with the server's own words when it refuses.

import { signIn, signUp, takeNotice } from '../auth.js';
import { h } from '../dom.js';
import { describe } from '../errors.js';
import { go } from '../router.js';

export function renderAuth(main, mode) {
  const signingUp = mode === 'sign-up';
  const error = h('p', { class: 'form-error', id: 'auth-error', role: 'alert' }, takeNotice());
  const submit = h('button', { type: 'submit' }, signingUp ? 'Create account' : 'Sign in');
  const field = (id, label, attrs) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, required: true, ...attrs }));

  const form = h(
    'form',
    { class: 'card auth-form', 'aria-describedby': 'auth-error' },
    h('h1', {}, signingUp ? 'Create your Spek account' : 'Sign in to Spek'),
    field('email', 'Email', { type: 'email', autocomplete: 'email', autofocus: true }),
    field('password', 'Password', {
      type: 'password',
      autocomplete: signingUp ? 'new-password' : 'current-password',
      minlength: signingUp ? 8 : null,
    }),
    signingUp && h('p', { class: 'hint', id: 'password-hint' }, 'At least 8 characters.'),
    signingUp &&
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'display-name' }, 'Your name ', h('span', { class: 'optional' }, '(optional)')),
        h('input', { id: 'display-name', name: 'display-name', autocomplete: 'name' }),
      ),
    error,
    submit,
    h(
      'p',
      { class: 'switch' },
      signingUp ? 'Already have an account? ' : 'New to Spek? ',
      h('a', { href: signingUp ? '#/sign-in' : '#/sign-up' }, signingUp ? 'Sign in' : 'Create an account'),
    ),
  );
  if (signingUp) form.querySelector('#password').setAttribute('aria-describedby', 'password-hint');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = signingUp ? 'Creating account…' : 'Signing in…';
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    try {
      if (signingUp) await signUp(email, password, form.elements['display-name'].value.trim());
      else await signIn(email, password);
      go('/');
    } catch (e) {
      error.textContent = describe(e);
      submit.disabled = false;
      submit.textContent = signingUp ? 'Create account' : 'Sign in';
      form.elements.password.focus();
    }
  });

  main.replaceChildren(h('section', { class: 'auth' }, form));
  form.querySelector('#email').focus();
}
