// T.plot: standalone SVG figures and a small PNG encoder for the pictures inside them.
export * from './svg.js';
export { encodePng, encodePngPixels } from './png.js';
