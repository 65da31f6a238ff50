// Keeps the transcript in step with the audio: the word and segment playing are highlighted and
// scrolled into view, unless the person scrolled the page themselves in the last few seconds.

const USER_SCROLL_GRACE_MS = 5000;

// locate(t) → { segment, word }: the elements playing at t.
export function syncPlayer(audio, locate) {
  let segment = null;
  let word = null;
  let frame = 0;
  let ownScroll = false;
  let userScrolledAt = 0;

  function inView(element) {
    const box = element.getBoundingClientRect();
    const top = document.querySelector('.player-bar')?.getBoundingClientRect().bottom ?? 0;
    return box.top >= top && box.bottom <= window.innerHeight;
  }

  function follow(element) {
    if (Date.now() - userScrolledAt < USER_SCROLL_GRACE_MS || inView(element)) return;
    ownScroll = true;
    const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    element.scrollIntoView({ block: 'center', behavior: smooth ? 'smooth' : 'auto' });
    setTimeout(() => (ownScroll = false), 1500); // in case no scrollend comes (nothing to scroll)
  }

  function update(t = audio.currentTime) {
    // A hair past t: a seek to a word's start must land in that word, despite float rounding.
    const found = locate(t + 0.001);
    if (found.word !== word) {
      word?.classList.remove('current');
      found.word?.classList.add('current');
      word = found.word;
    }
    if (found.segment !== segment) {
      segment?.classList.remove('current');
      found.segment?.classList.add('current');
      segment = found.segment;
      if (segment) follow(segment);
    }
  }

  function tick() {
    update();
    frame = audio.paused ? 0 : requestAnimationFrame(tick);
  }

  function onScroll() {
    if (!ownScroll) userScrolledAt = Date.now();
  }
  function onScrollEnd() {
    ownScroll = false;
  }

  audio.addEventListener('play', tick);
  audio.addEventListener('seeked', () => update());
  audio.addEventListener('timeupdate', () => frame || update());
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('scrollend', onScrollEnd);

  return {
    seek(t) {
      audio.currentTime = t;
      userScrolledAt = 0; // the person asked for this place: show it
      update(t);
    },
    // The elements were redrawn (an edit): find the playing ones again.
    refresh() {
      segment = word = null;
      update();
    },
    stop() {
      cancelAnimationFrame(frame);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('scrollend', onScrollEnd);
    },
  };
}
