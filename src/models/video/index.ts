// Video models: torchvision's video ResNets (R3D, MC3, R(2+1)D, a Bottleneck
// 3D ResNet-50), sub-pseudo labels (SPL, AAAI 2022) for weakly-labelled web
// videos, a synthetic weakly-labelled video benchmark, and Grad-CAM for 3D CNNs.
export {
  VideoResNet, VideoConv3d, BasicBlock, Bottleneck, r3d18, mc318, r2plus1d18, r3d50, midPlanes, loadTorchvisionWeights, STAGES,
} from './resnet.js';
export type { VideoResNetOptions, VideoResNetSpec, ConvKind, BlockKind, StemKind, StageName } from './resnet.js';
export { confusionMatrix, subPseudoLabels, agreementFilter, splHeatmap } from './spl.js';
export { countHeatmap, frameStrip, heatColor } from './svg.js';
export type { HeatmapOptions, FrameStripRow } from './svg.js';
export type { SplOptions, SplLabels, SplClass, SplVariant, SmallCells } from './spl.js';
export { videoBenchmark, benchmarkOptions, clipBatch, SHAPES, MOTIONS } from './synthetic.js';
export type { BenchmarkOptions, VideoBenchmark, ClipSet, ClipContent } from './synthetic.js';
export { trainClips, predictClips, argmaxRows, topK } from './train.js';
export type { ClipTrainOptions, Classifier } from './train.js';
export { splExperiment, summarize, ARMS, ARM_LABELS, PAPER_KINETICS200 } from './experiment.js';
export type { Arm, SplExperimentOptions, SplExperimentResult, SeedReport, ArmRun, Summary } from './experiment.js';
export { gradCam3d, gradCamStrip, trilinearResize, clipFrames, overlayFrames } from './gradcam.js';
export type { GradCamOptions, GradCamResult, GradCamStripItem } from './gradcam.js';
