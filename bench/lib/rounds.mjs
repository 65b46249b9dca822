/**
 * Measures each side `rounds` times, alternating which goes first, and keeps
 * each side's best round: the machine is shared (other work, the load
 * generator), so a slow round says more about the neighbours than the server.
 */
export async function bestOfRounds({ rounds, sides, score }) {
  const names = Object.keys(sides);
  const all = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) all[name].push(await sides[name](round));
  }
  const best = Object.fromEntries(
    names.map((name) => [name, { ...all[name].reduce((a, b) => (score(b) > score(a) ? b : a)), rounds: all[name].map(score) }]),
  );
  return best;
}
