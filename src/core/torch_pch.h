// Precompiled for every translation unit of the library (TI_USE_PCH).
#pragma once
#include <torch/script.h>
