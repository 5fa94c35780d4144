// Structured inputs and outputs (issue 16): every case of values_reference.json (references from
// PyTorch running the saved TorchScript), torchvision's detection model with its operator
// library, the schema, and every set-time and run-time error with its exact code and path.
#include "fixture.h"

#include <atomic>
#include <cmath>
#include <fstream>
#include <thread>

using namespace ti_test;
using nlohmann::json;

namespace {

struct InputsDeleter { void operator()(ti_inputs_t* in) const { ti_inputs_free(in); } };
using Inputs = std::unique_ptr<ti_inputs_t, InputsDeleter>;

Inputs inputs_for(ti_model_t* m, const char* method = nullptr) {
  ti_inputs_t* in = nullptr;
  EXPECT_TRUE(Ok(ti_inputs_create(m, method, &in)));
  return Inputs(in);
}

json values_reference() {
  std::ifstream in(model_path("values_reference.json"));
  EXPECT_TRUE(in.good()) << "missing " << model_path("values_reference.json");
  return json::parse(in);
}

// The path of torchvision's operator library, from the fixtures ("" when it was not found).
std::string torchvision_ops() {
  std::ifstream in(model_path("torchvision_ops.txt"));
  std::string path;
  std::getline(in, path);
  return path;
}

// A case of values_reference.json (read once; the json lives for the process).
const json* find_case(const std::string& name) {
  static const json ref = values_reference();
  for (const auto& c : ref["cases"]) {
    if (c["name"] == name) return &c;
  }
  return nullptr;
}

void set_input(ti_inputs_t* in, const json& i) {
  const std::string path = i["path"], kind = i["kind"];
  SCOPED_TRACE(path);
  if (kind == "tensor") {
    auto t = make_input(i);
    ASSERT_TRUE(Ok(ti_inputs_set_tensor(in, path.c_str(), t.get())));  // t freed at once: the inputs keep it
  } else if (kind == "int") {
    ASSERT_TRUE(Ok(ti_inputs_set_int(in, path.c_str(), i["value"].get<int64_t>())));
  } else if (kind == "float") {
    ASSERT_TRUE(Ok(ti_inputs_set_float(in, path.c_str(), i["value"].get<double>())));
  } else if (kind == "bool") {
    ASSERT_TRUE(Ok(ti_inputs_set_bool(in, path.c_str(), i["value"].get<bool>())));
  } else if (kind == "string") {
    const std::string s = i["value"];
    ASSERT_TRUE(Ok(ti_inputs_set_string(in, path.c_str(), s.data(), s.size())));
  } else if (kind == "none") {
    ASSERT_TRUE(Ok(ti_inputs_set_none(in, path.c_str())));
  } else if (kind == "empty") {
    ASSERT_TRUE(Ok(ti_inputs_set_empty(in, path.c_str())));
  } else {
    FAIL() << "unknown kind " << kind;
  }
}

void expect_outputs(const ti_outputs_t* o, const json& expected_leaves, double rel, double abs) {
  ASSERT_EQ(ti_outputs_count(o), expected_leaves.size());
  for (size_t k = 0; k < expected_leaves.size(); ++k) {
    const auto& e = expected_leaves[k];
    const std::string name = e["name"], kind = e["kind"];
    SCOPED_TRACE(name);
    EXPECT_EQ(ti_outputs_name(o, k), name);
    if (kind == "string") {
      ASSERT_EQ(ti_outputs_kind(o, k), TI_KIND_STRING);
      const char* data = nullptr;
      size_t len = 0;
      ASSERT_TRUE(Ok(ti_outputs_string(o, k, &data, &len)));
      EXPECT_EQ(std::string(data, len), e["value"].get<std::string>());
      EXPECT_EQ(data[len], '\0');
      continue;
    }
    if (kind == "none") {
      EXPECT_EQ(ti_outputs_kind(o, k), TI_KIND_NONE);
      continue;
    }
    ASSERT_EQ(ti_outputs_kind(o, k), TI_KIND_TENSOR);
    ti_tensor_t* raw = nullptr;
    ASSERT_TRUE(Ok(ti_outputs_get(o, k, &raw)));
    Tensor t(raw);
    EXPECT_EQ(ti_tensor_dtype(t.get()), dtype_from_name(e["dtype"]));
    EXPECT_EQ(shape_of(t.get()), e["shape"].get<std::vector<int64_t>>());
    const auto want = e["data"].get<std::vector<double>>();
    const auto got = values_of(t.get());
    ASSERT_EQ(got.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_NEAR(got[j], want[j], abs + rel * std::fabs(want[j])) << j;
  }
}

Outputs run_case(ti_model_t* m, const json& c) {
  const std::string method = c["method"];
  auto in = inputs_for(m, method.c_str());
  for (const auto& i : c["inputs"]) set_input(in.get(), i);
  ti_outputs_t* raw = nullptr;
  EXPECT_TRUE(Ok(ti_model_run_inputs(m, in.get(), nullptr, &raw)));
  return Outputs(raw);
}

class Values : public CapiTest {};

// Runs first in this file: once torchvision's library is loaded it stays for the process.
TEST_F(Values, ModelWithUnregisteredOperatorsGetsAShortMessage) {
  if (torchvision_ops().empty()) GTEST_SKIP() << "no torchvision operator library for this LibTorch";
  ti_model_t* m = nullptr;
  ti_error_t* e = ti_model_load(model_path("detection.pt").c_str(), nullptr, &m);
  ASSERT_NE(e, nullptr);
  const std::string message = ti_error_message(e);
  EXPECT_EQ(ti_error_code(e), TI_ERR_MODEL_FORMAT);
  EXPECT_NE(message.find("torchvision::"), std::string::npos) << message;
  EXPECT_NE(message.find("ti_op_library_load"), std::string::npos) << message;
  EXPECT_LT(message.size(), 400u) << message;  // not LibTorch's 3 KB traceback
  ti_error_free(e);
  EXPECT_EQ(m, nullptr);
}

TEST_F(Values, OperatorLibraryErrors) {
  EXPECT_TRUE(Fails(ti_op_library_load(nullptr), TI_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(Fails(ti_op_library_load("/nonexistent/libops.so"), TI_ERR_NOT_FOUND, "/nonexistent/libops.so"));
  // A file that is not a shared library: the loader's own message.
  EXPECT_TRUE(Fails(ti_op_library_load(model_path("values.pt").c_str()), TI_ERR_RUNTIME, "cannot load operator library"));
}

TEST_F(Values, EveryReferenceCaseMatchesPyTorch) {
  const json ref = values_reference();
  ASSERT_GE(ref["cases"].size(), 5u);
  for (const auto& c : ref["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    if (c["ops"].get<bool>()) continue;  // DetectionModelFromTorchvision (its load takes seconds)
    auto m = load(c["model"]);
    ASSERT_NE(m, nullptr);
    auto o = run_case(m.get(), c);
    ASSERT_NE(o, nullptr);
    expect_outputs(o.get(), c["outputs"], 1e-5, 1e-6);
  }
}

TEST_F(Values, DetectionModelFromTorchvision) {
  const std::string ops = torchvision_ops();
  if (ops.empty()) GTEST_SKIP() << "no torchvision operator library for this LibTorch";
  ASSERT_TRUE(Ok(ti_op_library_load(ops.c_str())));
  ASSERT_TRUE(Ok(ti_op_library_load(ops.c_str())));  // a second load is a no-op
  auto m = load("detection.pt");
  ASSERT_NE(m, nullptr);
  const std::string schema = ti_model_method_schema(m.get(), nullptr);
  EXPECT_EQ(schema.rfind("forward(Tensor[] images, Dict(str, Tensor)[]? targets=None) -> ", 0), 0u) << schema;
  const json* c = find_case("detection");
  ASSERT_NE(c, nullptr);
  auto o = run_case(m.get(), *c);
  ASSERT_NE(o, nullptr);
  expect_outputs(o.get(), (*c)["outputs"], 1e-4, 1e-3);
  // The losses dict is empty in eval mode: no leaf. Each image has boxes, labels and scores.
  ASSERT_EQ(ti_outputs_count(o.get()), 6u);
  EXPECT_STREQ(ti_outputs_name(o.get(), 0), "1.0.boxes");
  EXPECT_STREQ(ti_outputs_name(o.get(), 5), "1.1.scores");
}

TEST_F(Values, SchemaAsLibTorchPrintsIt) {
  auto m = load("values.pt");
  EXPECT_STREQ(ti_model_method_schema(m.get(), "echo"), "echo(str s) -> str");
  const std::string forward = ti_model_method_schema(m.get(), nullptr);
  EXPECT_EQ(forward, ti_model_method_schema(m.get(), "forward"));
  EXPECT_EQ(forward.rfind("forward((Tensor, Tensor)[] pairs, Dict(int, Tensor) by_id, str text, str[] words, "
                          "Tensor? maybe=None, int k=2, float scale=1.", 0), 0u) << forward;
  EXPECT_EQ(ti_model_method_schema(m.get(), "nope"), nullptr);
  EXPECT_EQ(ti_model_method_schema(nullptr, nullptr), nullptr);
}

TEST_F(Values, StringsRoundTripWithNulAndUtf8) {
  auto m = load("values.pt");
  auto in = inputs_for(m.get(), "echo");
  const std::string s("a\0b \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80", 14);
  ASSERT_TRUE(Ok(ti_inputs_set_string(in.get(), "s", s.data(), s.size())));
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
  Outputs o(raw);
  const char* data = nullptr;
  size_t len = 0;
  ASSERT_TRUE(Ok(ti_outputs_string(o.get(), 0, &data, &len)));
  EXPECT_EQ(std::string(data, len), s);
  // The tensor accessors give their neutral values and errors on a string leaf.
  EXPECT_EQ(ti_outputs_nbytes(o.get(), 0), 0u);
  EXPECT_EQ(ti_outputs_shape(o.get(), 0), nullptr);
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Fails(ti_outputs_get(o.get(), 0, &t), TI_ERR_INVALID_ARGUMENT, "output '0' is a string"));
  EXPECT_TRUE(Fails(ti_outputs_find(o.get(), "0", &t), TI_ERR_INVALID_ARGUMENT, "a string"));
  char buf[4];
  EXPECT_TRUE(Fails(ti_outputs_copy_to(o.get(), 0, buf, 0), TI_ERR_INVALID_ARGUMENT, "a string"));
  EXPECT_TRUE(Fails(ti_outputs_string(o.get(), 1, &data, &len), TI_ERR_INVALID_ARGUMENT, "out of range"));
  EXPECT_EQ(ti_outputs_kind(o.get(), 1), TI_KIND_NONE);
  EXPECT_EQ(ti_outputs_kind(nullptr, 0), TI_KIND_NONE);
}

TEST_F(Values, NoneLeafAndStringOnATensorLeaf) {
  const json* c = find_case("values_none");
  ASSERT_NE(c, nullptr);
  auto m = load("values.pt");
  auto o = run_case(m.get(), *c);
  ASSERT_EQ(ti_outputs_kind(o.get(), 5), TI_KIND_NONE);
  EXPECT_STREQ(ti_outputs_name(o.get(), 5), "4");
  EXPECT_STREQ(ti_outputs_name(o.get(), 1), "1.p\\.q");  // the key "p.q", escaped
  ti_tensor_t* t = nullptr;
  EXPECT_TRUE(Fails(ti_outputs_get(o.get(), 5, &t), TI_ERR_INVALID_ARGUMENT, "output '4' is None"));
  ASSERT_TRUE(Ok(ti_outputs_find(o.get(), "1.p\\.q", &t)));
  ti_tensor_free(t);
  const char* data = nullptr;
  size_t len = 0;
  EXPECT_TRUE(Fails(ti_outputs_string(o.get(), 0, &data, &len), TI_ERR_INVALID_ARGUMENT, "is a tensor"));
}

// Values are built from the declared types: an empty list is a List[Tuple[Tensor, Tensor]], a
// one-element list stays a list, the dict is Dict[int, Tensor].
TEST_F(Values, TypesComeFromTheSchema) {
  auto m = load("values.pt");
  auto in = inputs_for(m.get());
  auto a = make_f32({1, 2}, {2});
  ASSERT_TRUE(Ok(ti_inputs_set_empty(in.get(), "pairs")));
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "by_id.3", a.get())));
  ASSERT_TRUE(Ok(ti_inputs_set_string(in.get(), "2", "t", 1)));  // by position
  ASSERT_TRUE(Ok(ti_inputs_set_empty(in.get(), "words")));
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
  Outputs o(raw);
  auto acc = output(o.get(), "1.p\\.q");
  EXPECT_FLOAT_EQ(to_f32(acc.get())[0], 6.0f);  // 1 + 2 + key 3
  // Setting a path below an empty list turns it into a list; setting again replaces.
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.0.0", a.get())));
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.0.1", a.get())));
  ASSERT_TRUE(Ok(ti_inputs_set_int(in.get(), "k", 0)));
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
  Outputs o2(raw);
  EXPECT_FLOAT_EQ(to_f32(output(o2.get(), "0").get())[0], 5.0f);  // 1*1 + 2*2 + k 0
  // int for a float argument, and the one-element-tensor rule for int arguments.
  ASSERT_TRUE(Ok(ti_inputs_set_int(in.get(), "scale", 2)));
  auto three = make_i64_scalar(3);
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "k", three.get())));
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
  Outputs o3(raw);
  EXPECT_FLOAT_EQ(to_f32(output(o3.get(), "0").get())[0], 13.0f);  // 5 * 2 + 3
}

TEST_F(Values, SetTimeErrorsNameThePathAndTheType) {
  auto m = load("values.pt");
  auto in = inputs_for(m.get());
  auto t = make_f32({1}, {1});
  const struct {
    ti_error_t* e;
    const char* part;
  } cases[] = {
      {ti_inputs_set_tensor(in.get(), "nope", t.get()), "no argument 'nope'; its arguments are: pairs"},
      {ti_inputs_set_tensor(in.get(), "7", t.get()), "no argument '7'"},
      {ti_inputs_set_tensor(in.get(), "pairs.x.0", t.get()), "input 'pairs' (List[Tuple[Tensor, Tensor]]): 'x' is not a list index"},
      {ti_inputs_set_tensor(in.get(), "pairs.01.0", t.get()), "'01' is not a list index"},
      {ti_inputs_set_tensor(in.get(), "pairs.0.2", t.get()), "input 'pairs.0' (Tuple[Tensor, Tensor]): '2' is not a tuple index"},
      {ti_inputs_set_tensor(in.get(), "by_id.one", t.get()), "input 'by_id' (Dict[int, Tensor]): 'one' is not an int key"},
      {ti_inputs_set_tensor(in.get(), "maybe.0", t.get()), "input 'maybe' (Optional[Tensor]): there is nothing below a Tensor"},
      {ti_inputs_set_int(in.get(), "text.0", 1), "nothing below a str"},
      {ti_inputs_set_string(in.get(), "pairs.0.0", "x", 1), "input 'pairs.0.0' (Tensor): a string where the type is not str"},
      {ti_inputs_set_tensor(in.get(), "by_id", t.get()), "input 'by_id' (Dict[int, Tensor]): a tensor where the type is not a Tensor"},
      {ti_inputs_set_none(in.get(), "text"), "input 'text' (str): None where the type is not Optional"},
      {ti_inputs_set_empty(in.get(), "k"), "input 'k' (int): an empty list or dict"},
      {ti_inputs_set_string(in.get(), "text", "\xff\xfe", 2), "input 'text' (str): the string is not valid UTF-8"},
      {ti_inputs_set_string(in.get(), "text", "\xc0\xaf", 2), "not valid UTF-8"},  // overlong
      {ti_inputs_set_float(in.get(), "k", 1.5), "input 'k' (int): a float where the type is not float"},
      {ti_inputs_set_bool(in.get(), "scale", 1), "a bool where the type is not bool"},
      {ti_inputs_set_tensor(in.get(), "words..0", t.get()), "malformed: empty segment"},
      {ti_inputs_set_tensor(in.get(), "words\\x", t.get()), "malformed: a backslash"},
      {ti_inputs_set_tensor(in.get(), "", t.get()), "malformed: the path is empty"},
      {ti_inputs_set_tensor(in.get(), nullptr, t.get()), "path is NULL"},
      {ti_inputs_set_tensor(in.get(), "maybe", nullptr), "t is NULL"},
      {ti_inputs_set_tensor(nullptr, "maybe", t.get()), "in is NULL"},
      {ti_inputs_set_string(in.get(), "text", nullptr, 3), "data is NULL"},
  };
  for (const auto& c : cases) EXPECT_TRUE(Fails(c.e, TI_ERR_INVALID_ARGUMENT, c.part));
  auto big = make_f32({1, 2}, {2});
  EXPECT_TRUE(Fails(ti_inputs_set_tensor(in.get(), "k", big.get()), TI_ERR_INVALID_ARGUMENT, "one-element tensor"));
  // After failed sets the object is unchanged and usable.
  const json* c = find_case("values_all");
  ASSERT_NE(c, nullptr);
  for (const auto& i : (*c)["inputs"]) set_input(in.get(), i);
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
  Outputs o(raw);
  expect_outputs(o.get(), (*c)["outputs"], 1e-5, 1e-6);
}

TEST_F(Values, RunTimeErrorsNameThePath) {
  auto m = load("values.pt");
  auto t = make_f32({1, 2}, {2});
  auto base = [&](ti_inputs_t* in) {
    ASSERT_TRUE(Ok(ti_inputs_set_empty(in, "by_id")));
    ASSERT_TRUE(Ok(ti_inputs_set_string(in, "text", "x", 1)));
    ASSERT_TRUE(Ok(ti_inputs_set_empty(in, "words")));
  };
  ti_outputs_t* raw = nullptr;
  {  // a gap in a list
    auto in = inputs_for(m.get());
    base(in.get());
    ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.0.0", t.get())));
    ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.0.1", t.get())));
    ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.2.0", t.get())));
    ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.2.1", t.get())));
    EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw), TI_ERR_INVALID_ARGUMENT,
                      "input 'pairs' (List[Tuple[Tensor, Tensor]]): the list has element 2 but not 1"));
    EXPECT_EQ(raw, nullptr);
  }
  {  // a tuple with a missing element
    auto in = inputs_for(m.get());
    base(in.get());
    ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "pairs.0.0", t.get())));
    EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw), TI_ERR_INVALID_ARGUMENT,
                      "input 'pairs.0' (Tuple[Tensor, Tensor]): the tuple has no element 1"));
  }
  {  // a required argument not set
    auto in = inputs_for(m.get());
    ASSERT_TRUE(Ok(ti_inputs_set_empty(in.get(), "pairs")));
    EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw), TI_ERR_INVALID_ARGUMENT,
                      "required argument 'by_id' (Dict[int, Tensor]) of method 'forward' is not set"));
  }
  {  // inputs made for another model, and NULL arguments
    auto other = load("values.pt");
    auto in = inputs_for(other.get());
    EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw), TI_ERR_INVALID_ARGUMENT, "another model"));
    EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), nullptr, nullptr, &raw), TI_ERR_INVALID_ARGUMENT, "in is NULL"));
    EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), nullptr, nullptr), TI_ERR_INVALID_ARGUMENT, "out is NULL"));
  }
  ti_inputs_t* in = nullptr;
  EXPECT_TRUE(Fails(ti_inputs_create(m.get(), "nope", &in), TI_ERR_NOT_FOUND, "no method 'nope'"));
  EXPECT_TRUE(Fails(ti_inputs_create(nullptr, nullptr, &in), TI_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(in, nullptr);
  ti_inputs_free(nullptr);
}

TEST_F(Values, DictInputAndRunOptions) {
  auto m = load("dict_input.pt");
  const json* c = find_case("dict_input");
  ASSERT_NE(c, nullptr);
  auto in = inputs_for(m.get());
  for (const auto& i : (*c)["inputs"]) set_input(in.get(), i);
  ti_run_options_t* opts = ti_run_options_create();
  ti_outputs_t* raw = nullptr;
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), opts, &raw)));
  Outputs o(raw);
  expect_outputs(o.get(), (*c)["outputs"], 1e-5, 1e-6);
  ti_run_options_cancel(opts);
  EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), opts, &raw), TI_ERR_CANCELLED));
  ti_run_options_free(opts);
}

// A method that writes to its argument in place gets private copies: the caller's data and the
// inputs object are unchanged, so running twice gives the same result.
TEST_F(Values, InPlaceMethodsNeverChangeTheCallersTensors) {
  auto m = load("inplace.pt");
  auto x = make_f32({1, 2, 3}, {3});
  auto in = inputs_for(m.get());
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "x", x.get())));
  for (int round = 0; round < 2; ++round) {
    ti_outputs_t* raw = nullptr;
    ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
    Outputs o(raw);
    EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{4, 6, 8}));
  }
  EXPECT_EQ(to_f32(x.get()), (std::vector<float>{1, 2, 3}));
}

TEST_F(Values, OneInputsObjectFromManyThreads) {
  auto m = load("values.pt");
  const json* c = find_case("values_all");
  ASSERT_NE(c, nullptr);
  auto in = inputs_for(m.get());
  for (const auto& i : (*c)["inputs"]) set_input(in.get(), i);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&] {
      for (int r = 0; r < 25; ++r) {
        ti_outputs_t* raw = nullptr;
        ti_error_t* e = ti_model_run_inputs(m.get(), in.get(), nullptr, &raw);
        if (e || ti_outputs_count(raw) != (*c)["outputs"].size()) failures++;
        ti_error_free(e);
        ti_outputs_free(raw);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace

namespace {

// A .pt2 exported with keyword arguments {"xs": [a, b], "d": {"p": c}}: its inputs are the
// pytree's leaves, set by the same paths; values fixed at export are not inputs.
TEST_F(Values, AotInductorPackageTakesItsPytreeLeavesByPath) {
  if (!std::ifstream(model_path("list_dict.pt2")).good()) GTEST_SKIP() << "no .pt2 fixtures on this LibTorch";
  auto m = load("list_dict.pt2");
  EXPECT_STREQ(ti_model_method_schema(m.get(), nullptr),
               "forward(Tensor(float32, [2]) xs.0, Tensor(float32, [2]) xs.1, Tensor(float32, [2]) d.p) -> (0)");
  auto a = make_f32({1, 2}, {2}), b = make_f32({3, 4}, {2}), c = make_f32({5, 6}, {2});
  auto in = inputs_for(m.get());
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "xs.0", a.get())));
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "xs.1", b.get())));
  EXPECT_TRUE(Fails(ti_inputs_set_tensor(in.get(), "xs.2", c.get()), TI_ERR_INVALID_ARGUMENT,
                    "has no input 'xs.2'; its inputs are: xs.0: "));
  EXPECT_TRUE(Fails(ti_inputs_set_int(in.get(), "d.p", 1), TI_ERR_INVALID_ARGUMENT, "an int where the type is not"));
  ti_outputs_t* raw = nullptr;
  EXPECT_TRUE(Fails(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw), TI_ERR_INVALID_ARGUMENT,
                    "required argument 'd.p'"));
  ASSERT_TRUE(Ok(ti_inputs_set_tensor(in.get(), "d.p", c.get())));
  ASSERT_TRUE(Ok(ti_model_run_inputs(m.get(), in.get(), nullptr, &raw)));
  Outputs o(raw);
  EXPECT_EQ(to_f32(output(o.get(), "0").get()), (std::vector<float>{10, 14}));  // a * 2 + b + c
}

}  // namespace
