// Shared pieces of the torchinfer command-line tool: errors, argument scanning, models and
// .npy inputs. The tool uses only the public C API (torchinfer.h).
#ifndef TORCHINFER_TOOLS_CLI_H
#define TORCHINFER_TOOLS_CLI_H

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "torchinfer.h"

namespace cli {

// Exit statuses: 0 success, 1 an error (library or input file), 2 a command-line usage error.
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// An error printed as "CODE: message" on stderr. `code` is a library code name from
// ti_code_name ("TI_ERR_NOT_FOUND"), or empty for a usage error.
struct Error : std::runtime_error {
  Error(std::string code_name, const std::string &message, int exit_status = kExitError)
      : std::runtime_error(message), code(std::move(code_name)), status(exit_status) {}
  std::string code;
  int status;
};

// A usage error of `command` ("run"): printed with a pointer to its --help, exit status 2.
[[noreturn]] void usage_error(const std::string &command, const std::string &message);

// Throws an Error carrying the library error's code name when `e` is not NULL (and frees it).
// `context` (a file name, "forward") prefixes the message when not empty.
void check(ti_error_t *e, const std::string &context = "");

struct ModelDeleter { void operator()(ti_model_t *m) const { ti_model_free(m); } };
struct TensorDeleter { void operator()(ti_tensor_t *t) const { ti_tensor_free(t); } };
struct OutputsDeleter { void operator()(ti_outputs_t *o) const { ti_outputs_free(o); } };
struct InputsDeleter { void operator()(ti_inputs_t *in) const { ti_inputs_free(in); } };
using ModelPtr = std::unique_ptr<ti_model_t, ModelDeleter>;
using TensorPtr = std::unique_ptr<ti_tensor_t, TensorDeleter>;
using OutputsPtr = std::unique_ptr<ti_outputs_t, OutputsDeleter>;
using InputsPtr = std::unique_ptr<ti_inputs_t, InputsDeleter>;

class Args;

// How a command loads its model: --device, --ops (repeatable), --no-native-code.
struct ModelOptions {
  std::string device;            // "" = the library's default
  std::vector<std::string> ops;  // operator libraries, loaded in order before the model
  bool allow_native_code = true;
  // Consumes the current argument when it is one of the options above.
  bool parse(Args &args);
};
// The help lines for ModelOptions, shared by every command that loads a model.
extern const char kModelOptionsHelp[];

// Loads the operator libraries, then the model at `path`.
ModelPtr load_model(const std::string &path, const ModelOptions &options);

// One argument of a call, from the command line. A positional argument is FILE.npy. A named
// one is PATH=VALUE, PATH in the library's path grammar (its first segment an argument's name
// or position; it has no '/', so "./a=b.npy" is a file), VALUE one of
//   FILE.npy   a tensor           str:TEXT       a str           strfile:FILE  a str, FILE's bytes
//   int:N      an int             float:X        a float         bool:true|false
//   none       None               empty          an empty list or dict
enum class Kind { tensor, string, integer, real, boolean, none, empty };
struct Input {
  std::string spec;  // as given
  std::string name;  // the path; empty when positional
  Kind kind = Kind::tensor;
  std::string path;  // the file read (tensor, strfile)
  ti_dtype_t dtype = TI_DTYPE_FLOAT32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
};
Input read_input(const std::string &command, const std::string &spec);
TensorPtr make_tensor(const Input &in);

// The arguments of one call: all named or all positional (a usage error otherwise).
struct Inputs {
  std::vector<Input> items;
  bool named() const { return !items.empty() && !items[0].name.empty(); }
  // Every argument a tensor given by position or by an argument's name (no path below it, not
  // a position in decimal): the call can use ti_model_run, the tensor-only fast path.
  bool plain() const;
};
Inputs read_inputs(const std::string &command, const std::vector<std::string> &specs);

// One call's arguments, made once and run any number of times (from any number of threads):
// tensors for ti_model_run when the inputs are plain(), otherwise a ti_inputs_t set by path
// for ti_model_run_inputs. `inputs` must outlive it.
class Call {
 public:
  Call(ti_model_t *model, const std::string &method, const Inputs &inputs);
  ti_error_t *run(const ti_run_options_t *opts, ti_outputs_t **out) const;
  bool structured() const { return args_ != nullptr; }
  // The tensors and their names (NULL when positional), for ti_batcher_run; only when !structured().
  const char *const *names() const { return named_ ? names_.data() : nullptr; }
  const ti_tensor_t *const *tensors() const { return ptrs_.data(); }
  size_t count() const { return ptrs_.size(); }

 private:
  ti_model_t *model_;
  std::string method_;
  bool named_ = false;
  std::vector<TensorPtr> tensors_;
  std::vector<const ti_tensor_t *> ptrs_;
  std::vector<const char *> names_;
  InputsPtr args_;
};

// Command-line scanning: options may be given as "--opt VALUE" or "--opt=VALUE"; "--" ends
// the options.
class Args {
 public:
  Args(const std::string &command, int argc, char **argv) : command_(command), argc_(argc), argv_(argv) {}
  bool next();                              // advances; false at the end
  const std::string &arg() const { return arg_; }
  bool positional() const { return positional_; }
  bool is(const char *name) const;          // the current argument is option `name` (with or without =VALUE)
  bool flag(const char *name) const;        // as is(), for an option without a value
  std::string value();                      // the option's value (a usage error if missing)
  int int_value(int min);                   // value() as an integer >= min
  double double_value(double min_exclusive);
  [[noreturn]] void unknown() const;

 private:
  std::string command_;
  int argc_;
  char **argv_;
  int i_ = 0;
  bool options_done_ = false, positional_ = false;
  std::string arg_, inline_value_;
  bool has_inline_ = false;
};

// "[2, 3]"
std::string shape_text(const int64_t *shape, size_t ndim);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);

}  // namespace cli

#endif
