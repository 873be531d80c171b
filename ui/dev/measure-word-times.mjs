// How far off the read-aloud caption's marked word is (issue 19, "the
// spoken word highlighted"): espeak-ng's program gives no word events, so
// js/read-aloud.js estimates each word's share of a part's audio
// (`wordTimes`). This measures that estimate against espeak-ng itself.
// NOT part of the app or the tests; figures go into docs/benchmarks.md.
//
//   node ui/dev/measure-word-times.mjs [--rate 175] [--voice gmw/nl]
//
// Two estimates are measured: by letters (what the page does without the
// kiosk's weights) and by espeak-ng's phonemes per word (what the kiosk
// gives with the audio: kiosk-core `tools::word_weights`, mirrored below).
//
// The reference: for a part of N words, espeak-ng speaks the first k words
// (k = 1..N) on their own; where the sound of that prefix ends (the last
// sample above a threshold) is where word k ends in the whole part, give or
// take the lengthening espeak-ng gives a last word. At the middle of each
// word by that reference, the page's estimate (`wordAt` over `wordTimes`,
// by the whole part's audio length, as the page plays it) is compared with
// the word actually being spoken.

import { execFileSync } from 'node:child_process';
import { wordTimes, wordAt } from '../js/read-aloud.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rate = opt('--rate', '175');
const voice = opt('--voice', 'gmw/nl');

// Dutch exam texts as the kiosk reads them (the demo test and the fixtures).
const PARTS = [
  'Een klant wil een broek ruilen zonder kassabon.',
  'Wat doe je als eerste?',
  'Een koptelefoon kost € 100,00 zonder btw. Het btw-tarief is 21%.',
  'Hoeveel btw betaalt de klant?',
  'Een rol tuindraad van 8 meter kost € 30,00. Wat kost één meter tuindraad?',
  'De grafiek toont de verkoop per kwartaal.',
  'Leg in je eigen woorden uit wat de grafiek laat zien en geef een mogelijke oorzaak.',
  'Bij een retour zonder kassabon geef je de klant een tegoedbon, contant geld of niets terug.',
  'Gekoelde producten bewaar je op ten hoogste zeven graden. Diepvriesproducten bewaar je op min achttien graden of kouder.',
  'Hieronder zie je het schap en de voorraadlijst van vandaag. Welk artikel moet je als eerste bijvullen?',
];

/** Seconds of audio and the time the last sound ends, from espeak-ng's WAV. */
function speak(text) {
  const wav = execFileSync('/usr/bin/espeak-ng', ['-v', voice, '-s', rate, '-b', '1', '--stdout', '--stdin'], { input: text, env: {} });
  const rateHz = wav.readUInt32LE(24);
  let data = 12;
  while (data < wav.length - 8 && wav.toString('ascii', data, data + 4) !== 'data') data += 8 + wav.readUInt32LE(data + 4);
  const samples = new Int16Array(wav.buffer.slice(wav.byteOffset + data + 8, wav.byteOffset + wav.length - ((wav.length - data - 8) % 2)));
  let last = 0;
  for (let i = 0; i < samples.length; i += 1) if (Math.abs(samples[i]) > 500) last = i;
  return { seconds: samples.length / rateHz, soundEnd: last / rateHz };
}

/** Per word: its phonemes (espeak-ng -x, one line per word) + 1, + 4 after a sentence end, + 2 after a comma — as tools::word_weights. */
function phonemeWeights(words) {
  const input = words.map((w) => `${w.replace(/[.!?…:;,]+$/, '')}.\n`).join('');
  const lines = execFileSync('/usr/bin/espeak-ng', ['-v', voice, '-b', '1', '-q', '-x', '--sep=_', '--stdin'], { input, env: {} }).toString().split('\n').filter((l) => l.trim());
  if (lines.length !== words.length) return null;
  return words.map((w, i) => Math.max(1, lines[i].split(/[_ \t]/).filter((p) => /[^',#|!]/.test(p)).length) + (/[.!?…:;]$/.test(w) ? 4 : /,$/.test(w) ? 2 : 0) + 1);
}

const tally = {};
const count = (name, off) => {
  const t = (tally[name] ||= { words: 0, exact: 0, one: 0, more: 0, worst: 0 });
  t.words += 1;
  if (off === 0) t.exact += 1;
  else if (off === 1) t.one += 1;
  else t.more += 1;
  t.worst = Math.max(t.worst, off);
};
for (const part of PARTS) {
  const times = wordTimes(part);
  const whole = speak(part);
  const ends = times.map((_, k) => speak(times.slice(0, k + 1).map((w) => w.text).join(' ')).soundEnd);
  const byPhonemes = wordTimes(part, phonemeWeights(times.map((w) => w.text)));
  ends.forEach((end, k) => {
    const start = k === 0 ? 0 : ends[k - 1];
    const mid = (start + end) / 2;
    // As the page does: over the whole audio, its silence at the end included.
    count('by letters', Math.abs(wordAt(times, mid / whole.seconds) - k));
    count('by espeak-ng phonemes (the kiosk)', Math.abs(wordAt(byPhonemes, mid / whole.seconds) - k));
  });
}
console.log(`espeak-ng ${voice} at ${rate} wpm, ${PARTS.length} parts`);
for (const [name, t] of Object.entries(tally)) {
  const pct = (n) => `${((100 * n) / t.words).toFixed(1)} %`;
  console.log(`${name}: of ${t.words} words, the marked one at each word's middle is right for ${t.exact} (${pct(t.exact)}), one off for ${t.one} (${pct(t.one)}), more for ${t.more} (${pct(t.more)}); worst ${t.worst} off`);
}
