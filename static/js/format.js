// How numbers, times and names read on screen.

const pad = (n) => String(n).padStart(2, '0');

// 75.3 → "01:15"; past an hour "1:02:05".
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds ?? 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(total % 60)}` : `${pad(m)}:${pad(total % 60)}`;
}

// "01:15" or "1:02:05" or "75" → seconds; null when it is not a time.
export function parseClock(text) {
  const parts = String(text).trim().split(':');
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return null;
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}

export function date(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function percent(fraction) {
  return `${Math.floor((fraction ?? 0) * 100)} %`;
}

export function eta(seconds) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

// "detecting_speech" → "Detecting speech", "COMPLETED" → "Completed": whatever the server names.
export function humanize(name) {
  if (!name) return '';
  const words = name.replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// A job's state in a few words: "Transcribing · 40 %", "Failed: <why>", "Completed".
export function jobState(status, job) {
  if (status === 'RUNNING' && job) return `${humanize(job.stage || status)} · ${percent(job.progress)}`;
  if (status === 'FAILED' && job?.error) return `Failed: ${job.error}`;
  return humanize(status);
}

// The name people gave a speaker, else "Speaker 1" for SPEAKER_00 (as in exports).
export function speakerName(label, names) {
  if (!label) return 'Unknown speaker';
  if (names?.[label]) return names[label];
  const number = /(\d+)$/.exec(label);
  return number ? `Speaker ${Number(number[1]) + 1}` : label;
}

// A score in -1..1 with its sign: 0.4213 → "+0.42".
export function signed(score) {
  const text = Math.abs(score ?? 0).toFixed(2);
  return score > 0 ? `+${text}` : score < 0 ? `−${text}` : text;
}
