// Room and display names. The rules mirror protocol.NormalizeRoom and
// protocol.NormalizeName so that the client refuses a name before the server does.

const ROOM = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;
const MAX_NAME = 64;

/** Returns the room name in lower case, or null if the server would refuse it. */
export function normalizeRoom(raw) {
  return typeof raw === 'string' && ROOM.test(raw) ? raw.toLowerCase() : null;
}

/** Returns the display name trimmed, or null if the server would refuse it. */
export function normalizeName(raw) {
  if (typeof raw !== 'string') return null;
  const name = raw.trim();
  // Count code points, as Go's utf8.RuneCountInString does.
  const length = [...name].length;
  return length > 0 && length <= MAX_NAME && PRINTABLE.test(name) ? name : null;
}

/** The initials of a display name, for an avatar: "Ann Lee" → "AL"; "?" for none. */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : words;
  return letters.map((w) => [...w][0]).join('').toUpperCase() || '?';
}

const ADJECTIVES = [
  'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'cosy', 'crisp', 'eager', 'fair',
  'gentle', 'glad', 'golden', 'happy', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'merry',
  'mighty', 'nimble', 'proud', 'quick', 'quiet', 'rapid', 'silver', 'sunny', 'swift', 'witty',
];
const ANIMALS = [
  'badger', 'beaver', 'bison', 'crane', 'dolphin', 'eagle', 'falcon', 'ferret', 'finch', 'fox',
  'gecko', 'heron', 'ibis', 'koala', 'lark', 'lemur', 'lynx', 'marten', 'moose', 'newt',
  'otter', 'owl', 'panda', 'puffin', 'raven', 'robin', 'seal', 'stork', 'tiger', 'wombat',
];

/** Returns a readable random room name such as "bright-otter-42". */
export function randomRoom() {
  const [a, b, n] = crypto.getRandomValues(new Uint32Array(3));
  return `${ADJECTIVES[a % ADJECTIVES.length]}-${ANIMALS[b % ANIMALS.length]}-${10 + (n % 90)}`;
}
