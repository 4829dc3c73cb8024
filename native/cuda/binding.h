// The CUDA backend's N-API functions (native/cuda/binding.cc), added to the
// addon's exports by native/addon.cc when the addon is built with nvcc.
#pragma once

#include <napi.h>

// Adds cudaDeviceCount (0 without a GPU or driver, never throws), cudaInit,
// storage (cudaAlloc, cudaFree, cudaWrite, cudaRead, cudaReadSync,
// cudaSync, cudaMemory, cudaEmptyCache) and one function per kernel.
void RegisterCuda(Napi::Env env, Napi::Object exports);
