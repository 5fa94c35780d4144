// torchinfer: inspect, run and benchmark TorchScript and AOTInductor (.pt2) models from the
// command line, through libtorchinfer's C API.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "blas.h"
#include "cli.h"

namespace {

const char kUsage[] =
    "Usage: torchinfer COMMAND [OPTIONS] ...\n"
    "\n"
    "Inspect, run and benchmark PyTorch models (TorchScript archives and AOTInductor .pt2\n"
    "packages) with libtorchinfer.\n"
    "\n"
    "Commands:\n"
    "  info MODEL                 format, device, methods, inputs and schemas, BLAS\n"
    "  run MODEL INPUT...         run a method on .npy files and typed values set by path\n"
    "                             (images.0=a.npy text=str:hi k=int:3 mask=none), write\n"
    "                             one .npy per tensor and one .txt per str output\n"
    "  bench MODEL --input F...   latency percentiles and throughput, direct or through\n"
    "                             the dynamic batcher (--batch N, --compare)\n"
    "\n"
    "Run 'torchinfer COMMAND --help' for a command's options.\n"
    "  -h, --help       this help\n"
    "  --version        the tool's, the library's and LibTorch's versions, and the BLAS\n"
    "                   LibTorch uses\n"
    "\n"
    "Errors are printed on stderr as 'CODE: message', CODE being the library's error code\n"
    "name (TI_ERR_NOT_FOUND, TI_ERR_MODEL_FORMAT, ...). Exit status: 0 success, 1 error,\n"
    "2 command-line usage error.\n";

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return cli::kExitUsage;
  }
  const std::string command = argv[1];
  try {
    if (command == "info") return cli::cmd_info(argc - 1, argv + 1);
    if (command == "run") return cli::cmd_run(argc - 1, argv + 1);
    if (command == "bench") return cli::cmd_bench(argc - 1, argv + 1);
    if (command == "-h" || command == "--help" || command == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (command == "--version") {
      std::printf("torchinfer %s (libtorchinfer %s, LibTorch %s)\n", TI_VERSION_STRING, ti_version(),
                  ti_torch_version());
      std::printf("blas: %s\n", blas::detect().text().c_str());
      return 0;
    }
    std::fprintf(stderr, "torchinfer: unknown command '%s'\nTry 'torchinfer --help'.\n", command.c_str());
    return cli::kExitUsage;
  } catch (const cli::Error &e) {
    std::fflush(stdout);
    if (e.code.empty())
      std::fprintf(stderr, "%s\n", e.what());
    else
      std::fprintf(stderr, "%s: %s\n", e.code.c_str(), e.what());
    return e.status;
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "TI_ERR_OUT_OF_MEMORY: out of memory\n");
    return cli::kExitError;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "TI_ERR_INTERNAL: %s\n", e.what());
    return cli::kExitError;
  }
}
