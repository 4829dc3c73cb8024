export { DeepAR, SampleForecast, resolveConfig, DEFAULT_START } from './deepar.js';
export type { DeepARConfig, DeepAROptions, ForecastSeries, FitOptions, PredictOptions } from './deepar.js';
export { lagsForFrequency, timeOfStep, writeTimeFeatures, numTimeFeatures, checkFrequency, FREQUENCIES } from './frequency.js';
export type { Frequency } from './frequency.js';
