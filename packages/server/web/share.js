// The share page says when its link expires without this script; this keeps
// the countdown current and shows the expiry in the reader's own time zone.
const time = document.getElementById('expires');
const countdown = document.getElementById('countdown');

if (time instanceof HTMLTimeElement && countdown) {
  const end = Date.parse(time.dateTime);
  time.textContent = new Date(end).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const tick = () => {
    const left = end - Date.now();
    if (left <= 0) {
      countdown.textContent = 'expired';
      return;
    }
    countdown.textContent = `in ${duration(left)}`;
    setTimeout(tick, 1000 - (Date.now() % 1000));
  };
  tick();
}

/** 2 d 3 h, 3 h 12 min, 12 min 5 s, 5 s: the two largest units. */
function duration(ms) {
  const seconds = Math.floor(ms / 1000);
  const [d, h, m, s] = [Math.floor(seconds / 86400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}
