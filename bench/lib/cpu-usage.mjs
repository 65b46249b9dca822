import { readFileSync, readdirSync } from 'node:fs';

// Linux /proc accounting: where the 2 cores went during one load, so a ratio
// can be read as "the gateway was saturated" or "it waited on something else".
const TICKS_PER_SEC = 100;

/** Starts counting; the returned function gives each process's CPU in % of one core, and the machine's busy %. */
export function startCpuUsage(processes) {
  const pidsOf = (proc) => [proc.child.pid, ...childPids(proc.child.pid)];
  const before = new Map(processes.map((proc) => [proc.name, sumTicks(pidsOf(proc))]));
  const machineBefore = machineTicks();
  const t0 = process.hrtime.bigint();
  return () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const perProcess = {};
    for (const proc of processes) {
      const ticks = sumTicks(pidsOf(proc)) - before.get(proc.name);
      perProcess[proc.name] = Math.round((100 * ticks) / TICKS_PER_SEC / seconds);
    }
    const machine = machineTicks();
    const busy = machine.busy - machineBefore.busy;
    const total = busy + machine.idle - machineBefore.idle;
    return {
      perProcessCorePercent: perProcess,
      machineBusyPercent: total > 0 ? Math.round((100 * busy) / total) : null,
      seconds,
    };
  };
}

function sumTicks(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone, or not Linux.
    }
  }
  return ticks;
}

/** nginx's workers are children of its master. */
function childPids(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function machineTicks() {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const idle = values[3] + values[4];
    return { idle, busy: values.reduce((a, b) => a + b, 0) - idle };
  } catch {
    return { idle: 0, busy: 0 };
  }
}
