// Frequency-dependent inputs of DeepAR, as GluonTS computes them: the lag set
// (gluonts.time_feature.lag.get_lags_for_frequency) and the calendar features
// (time_features_from_frequency_str, each scaled to [-0.5, 0.5]) plus the age
// feature log10(2 + t) of AddAgeFeature.

/** Hourly, calendar-daily and business-daily series. */
export type Frequency = 'H' | 'D' | 'B';
export const FREQUENCIES: readonly Frequency[] = ['H', 'D', 'B'];

export function checkFrequency(fn: string, freq: string): Frequency {
  if (!(FREQUENCIES as readonly string[]).includes(freq)) throw new Error(`${fn}: unknown frequency '${freq}' (one of ${FREQUENCIES.join(', ')})`);
  return freq as Frequency;
}

const around = (middle: number): number[] => [middle - 1, middle, middle + 1];
// Python's `//` on floats: the multiples below are fractions such as 1/7, as in GluonTS.
const floorDiv = (a: number, b: number): number => Math.floor(a / b);

const lagsForHour = (multiple: number): number[][] => [1, 2, 3, 4, 5, 6, 7].map((k) => around(floorDiv(k * 24, multiple)));
function lagsForDay(multiple: number, daysInWeek = 7, daysInMonth = 30): number[][] {
  return [...[1, 2, 3, 4].map((k) => around(floorDiv(k * daysInWeek, multiple))), around(floorDiv(daysInMonth, multiple))];
}
function lagsForWeek(multiple: number): number[][] {
  return [...[1, 2, 3].map((k) => around(floorDiv(k * 52, multiple))), [4, 8, 12].map((w) => floorDiv(w, multiple))];
}

/**
 * GluonTS's lags for a frequency: 1..7, then the same season (+-1) in earlier
 * cycles, those in (7, lagUpperBound], sorted and unique.
 */
export function lagsForFrequency(freq: Frequency, lagUpperBound = 1200): number[] {
  const groups = freq === 'H' ? [...lagsForHour(1), ...lagsForDay(1 / 24), ...lagsForWeek(1 / (24 * 7))]
    : freq === 'D' ? [...lagsForDay(1), ...lagsForWeek(1 / 7)]
      : [...lagsForDay(1, 5, 22), ...lagsForWeek(1 / 5)];
  const seasonal = groups.flat().map(Math.trunc).filter((lag) => lag > 7 && lag <= lagUpperBound);
  return [...new Set([1, 2, 3, 4, 5, 6, 7, ...seasonal])].sort((a, b) => a - b);
}

const HOUR_MS = 3600e3, DAY_MS = 24 * HOUR_MS;

/** The UTC time (ms) of step t of a series starting at `start` (ms); business days skip Saturdays and Sundays. */
export function timeOfStep(freq: Frequency, start: number, t: number): number {
  if (freq === 'H') return start + t * HOUR_MS;
  if (freq === 'D') return start + t * DAY_MS;
  // Weekday 0 = Monday, as pandas. A business-day series starts on a weekday.
  const weekday0 = (new Date(start).getUTCDay() + 6) % 7;
  if (weekday0 > 4) throw new Error(`timeOfStep: a business-day series must start on a weekday, got ${new Date(start).toISOString()}`);
  const total = weekday0 + t;
  const days = Math.floor(total / 5) * 7 + (((total % 5) + 5) % 5) - weekday0;
  return start + days * DAY_MS;
}

/** Calendar features per step: hour of day (hourly only), day of week, day of month, day of year; then age. */
export function numTimeFeatures(freq: Frequency): number { return (freq === 'H' ? 4 : 3) + 1; }

/** Writes the time features of step t (counted from the series start) into out[offset ...]. */
export function writeTimeFeatures(freq: Frequency, start: number, t: number, out: Float32Array, offset: number): void {
  const d = new Date(timeOfStep(freq, start, t));
  let i = offset;
  if (freq === 'H') out[i++] = d.getUTCHours() / 23 - 0.5;
  out[i++] = ((d.getUTCDay() + 6) % 7) / 6 - 0.5;
  out[i++] = (d.getUTCDate() - 1) / 30 - 0.5;
  const dayOfYear = Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS);
  out[i++] = dayOfYear / 365 - 0.5;
  out[i] = Math.log10(2 + Math.max(t, 0));
}
