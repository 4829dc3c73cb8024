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

/** Monday = 0 ... Sunday = 6 (as pandas) of a day count from 1970-01-01, a Thursday. */
const weekdayOf = (days: number): number => (((days + 3) % 7) + 7) % 7;

/** The UTC time (ms) of step t of a series starting at `start` (ms); business days skip Saturdays and Sundays. */
export function timeOfStep(freq: Frequency, start: number, t: number): number {
  if (freq === 'H') return start + t * HOUR_MS;
  if (freq === 'D') return start + t * DAY_MS;
  // Weekday 0 = Monday, as pandas. A business-day series starts on a weekday.
  const weekday0 = weekdayOf(Math.floor(Math.trunc(start) / DAY_MS));
  if (weekday0 > 4) throw new Error(`timeOfStep: a business-day series must start on a weekday, got ${new Date(start).toISOString()}`);
  const total = weekday0 + t;
  const days = Math.floor(total / 5) * 7 + (((total % 5) + 5) % 5) - weekday0;
  return start + days * DAY_MS;
}

/** Calendar features per step: hour of day (hourly only), day of week, day of month, day of year; then age. */
export function numTimeFeatures(freq: Frequency): number { return (freq === 'H' ? 4 : 3) + 1; }

/** Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12), as Hinnant's days_from_civil. */
function daysFromCivil(y: number, m: number, d: number): number {
  const year = m <= 2 ? y - 1 : y;
  const era = Math.floor(year / 400), yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;  // counted from March 1
  return era * 146097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719468;
}

/** The year, month (1..12) and day of month of a day count from 1970-01-01 (Hinnant's civil_from_days). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468, era = Math.floor(z / 146097), dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));  // from March 1
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1];
}

/**
 * Writes the time features of step t (counted from the series start) into out[offset ...]. The calendar is
 * computed from the day count rather than through a Date object (the same values, several times faster:
 * training writes them for every step of every window).
 */
export function writeTimeFeatures(freq: Frequency, start: number, t: number, out: Float32Array, offset: number): void {
  const ms = Math.trunc(timeOfStep(freq, start, t));  // a Date's time value is an integer
  const days = Math.floor(ms / DAY_MS);
  const [year, , dayOfMonth] = civilFromDays(days);
  let i = offset;
  if (freq === 'H') out[i++] = Math.floor((ms - days * DAY_MS) / HOUR_MS) / 23 - 0.5;
  out[i++] = weekdayOf(days) / 6 - 0.5;
  out[i++] = (dayOfMonth - 1) / 30 - 0.5;
  out[i++] = (days - daysFromCivil(year, 1, 1)) / 365 - 0.5;
  out[i] = Math.log10(2 + Math.max(t, 0));
}
