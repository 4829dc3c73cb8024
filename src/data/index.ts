export { dataDir, datasetDir, setDataDir } from './paths.js';
export { loadLinqs, type CitationGraph, type LinqsOptions } from './linqs.js';
export { loadOgbNodeProperty, type NodePropertyGraph, type OgbOptions } from './ogb.js';
export { loadIdx, loadMnist, type IdxData, type IdxDType, type MnistData } from './idx.js';
export { loadDelimited, loadExchangeRate, type NumericTable, type DelimitedOptions } from './timeseries.js';
export { uniqueUndirected } from './edges.js';
export { twoMoons, gaussianBlobs, csbm, type LabelledPoints, type CsbmOptions, type CsbmGraph } from './synthetic.js';
export {
  DataLoader, defaultCollate, rowDataset, subset,
  type Dataset, type DataLoaderOptions, type Shaped, type Collated, type NumericArray,
} from './loader.js';
export { toTensors, tensorCollate, type Tensorized, type ToTensorsOptions } from './tensors.js';
export { mnistDetection, shapesDetection, type DetectionSet, type MnistDetectionOptions, type ShapesDetectionOptions } from './detection.js';
export { loadDetectionFolder, decodeImage, letterbox, type DetectionFolderOptions } from './detection-folder.js';
export { loadProfiles, type LoadProfileOptions, type LoadProfileItem, type LoadProfilePanel } from './loadprofiles.js';
