// torchinfer info: what a model is and how to call it.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "blas.h"
#include "cli.h"

namespace cli {
namespace {

const char kHelp[] =
    "Usage: torchinfer info MODEL [OPTIONS]\n"
    "\n"
    "Prints the model's format (TorchScript or AOTInductor .pt2), its device, its methods,\n"
    "forward's inputs with their names and declared types, every method's schema, the\n"
    "library's versions and the BLAS LibTorch's matrix products go through.\n"
    "\n"
    "  --json       print a JSON object instead of text\n"
    "  -h, --help   this help\n";

std::string display_format(const std::string &format) {
  if (format == "torchscript") return "TorchScript";
  if (format == "aotinductor") return "AOTInductor (.pt2)";
  return format;
}

}  // namespace

int cmd_info(int argc, char **argv) {
  std::string model_path;
  ModelOptions model_options;
  bool json = false;
  Args args("info", argc, argv);
  while (args.next()) {
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kHelp, stdout);
      std::fputs("\nLoading the model:\n", stdout);
      std::fputs(kModelOptionsHelp, stdout);
      return 0;
    } else if (args.flag("--json")) {
      json = true;
    } else if (model_options.parse(args)) {
    } else if (args.positional() && model_path.empty()) {
      model_path = args.arg();
    } else {
      args.unknown();
    }
  }
  if (model_path.empty()) usage_error("info", "missing MODEL");

  ModelPtr model = load_model(model_path, model_options);
  const ti_model_t *m = model.get();
  nlohmann::ordered_json j;
  j["model"] = model_path;
  j["format"] = ti_model_format(m);
  j["device"] = ti_model_device(m);
  j["methods"] = nlohmann::json::array();
  for (size_t i = 0; i < ti_model_method_count(m); ++i) j["methods"].push_back(ti_model_method_name(m, i));
  j["inputs"] = nlohmann::json::array();
  for (size_t i = 0; i < ti_model_input_count(m); ++i) {
    const char *type = ti_model_input_type(m, i);
    j["inputs"].push_back({{"name", ti_model_input_name(m, i)}, {"type", type ? type : ""}});
  }
  j["schemas"] = nlohmann::ordered_json::object();
  for (size_t i = 0; i < ti_model_method_count(m); ++i) {
    const char *name = ti_model_method_name(m, i), *schema = ti_model_method_schema(m, name);
    j["schemas"][name] = schema ? schema : "";
  }
  j["torchinfer_version"] = ti_version();
  j["torch_version"] = ti_torch_version();
  const blas::Info b = blas::detect();
  j["blas"] = {{"name", b.name}, {"path", b.path}, {"slow", b.slow}};

  if (json) {
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model:   %s\n", model_path.c_str());
  std::printf("format:  %s\n", display_format(ti_model_format(m)).c_str());
  std::printf("device:  %s\n", ti_model_device(m));
  std::string methods;
  for (size_t i = 0; i < ti_model_method_count(m); ++i) methods += (i ? ", " : "") + std::string(ti_model_method_name(m, i));
  std::printf("methods: %s\n", methods.c_str());
  const size_t n = ti_model_input_count(m);
  std::printf("inputs:%s\n", n == 0 ? "  none" : "");
  size_t width = 0;
  for (size_t i = 0; i < n; ++i) width = std::max(width, std::string(ti_model_input_name(m, i)).size());
  for (size_t i = 0; i < n; ++i) {
    const char *type = ti_model_input_type(m, i);
    std::printf("  %-*s  %s\n", static_cast<int>(width), ti_model_input_name(m, i), type ? type : "?");
  }
  std::printf("schemas:\n");
  for (size_t i = 0; i < ti_model_method_count(m); ++i) {
    const char *name = ti_model_method_name(m, i), *schema = ti_model_method_schema(m, name);
    std::printf("  %s\n", schema ? schema : (std::string(name) + " (no schema)").c_str());
  }
  std::printf("library: libtorchinfer %s, LibTorch %s\n", ti_version(), ti_torch_version());
  std::printf("blas:    %s\n", b.text().c_str());
  return 0;
}

}  // namespace cli
