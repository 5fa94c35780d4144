#include "core/torchscript/pickle_check.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ti::core::torchscript {
namespace {

// What the walk knows about a value: enough to follow storages into _rebuild_tensor_v2.
struct Value {
  enum Kind : uint8_t { Opaque, Int, Str, Global, Storage, Tuple };
  Kind kind = Opaque;
  uint32_t depth = 0;        // nesting of containers and objects below (and including) it
  int64_t i = 0;             // Int; Storage: numel
  uint64_t itemsize = 0;     // Storage
  std::string s;             // Str, Global ("module.name"), Storage key; only short ones
  std::shared_ptr<const std::vector<Value>> items;  // Tuple, when it has at most kKeptItems
};

constexpr size_t kKeptString = 256;
constexpr size_t kKeptItems = 64;

uint64_t storage_itemsize(const std::string& type) {
  static const std::pair<const char*, uint64_t> kTypes[] = {
      {"torch.FloatStorage", 4},          {"torch.DoubleStorage", 8},
      {"torch.HalfStorage", 2},           {"torch.BFloat16Storage", 2},
      {"torch.LongStorage", 8},           {"torch.IntStorage", 4},
      {"torch.ShortStorage", 2},          {"torch.CharStorage", 1},
      {"torch.ByteStorage", 1},           {"torch.BoolStorage", 1},
      {"torch.ComplexHalfStorage", 4},    {"torch.ComplexFloatStorage", 8},
      {"torch.ComplexDoubleStorage", 16}, {"torch.QInt8Storage", 1},
      {"torch.QUInt8Storage", 1},         {"torch.QInt32Storage", 4},
      {"torch.QUInt4x2Storage", 1},       {"torch.QUInt2x4Storage", 1},
      {"torch.UntypedStorage", 1},        {"torch.UInt16Storage", 2},
      {"torch.UInt32Storage", 4},         {"torch.UInt64Storage", 8},
      {"torch.Float8_e5m2Storage", 1},    {"torch.Float8_e4m3fnStorage", 1},
      {"torch.Float8_e5m2fnuzStorage", 1}, {"torch.Float8_e4m3fnuzStorage", 1},
  };
  for (const auto& [name, size] : kTypes) {
    if (type == name) return size;
  }
  return 0;
}

class Walker {
 public:
  Walker(std::string_view bytes, const RecordSize& record_size) : b_(bytes), record_size_(record_size) {}

  std::string run() {
    while (error_.empty()) {
      if (pos_ >= b_.size()) return "the pickle ends without a STOP opcode";
      const auto op = static_cast<unsigned char>(b_[pos_++]);
      if (op == '.') {  // STOP
        if (stack_.empty()) return "STOP on an empty stack";
        return error_;
      }
      step(op);
    }
    return error_;
  }

 private:
  // ---- reading operands -------------------------------------------------------------------
  bool need(uint64_t n) {
    if (n > b_.size() - pos_) {
      fail("an operand runs past the end of the pickle");
      return false;
    }
    return true;
  }
  uint64_t le(size_t n) {
    if (!need(n)) return 0;
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<unsigned char>(b_[pos_ + k])) << (8 * k);
    pos_ += n;
    return v;
  }
  std::string_view take(uint64_t n) {
    if (!need(n)) return {};
    auto v = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return v;
  }
  std::string_view line() {
    const size_t end = b_.find('\n', pos_);
    if (end == std::string_view::npos) {
      fail("GLOBAL without its newline-terminated names");
      return {};
    }
    auto v = b_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return v;
  }

  // ---- the stack ----------------------------------------------------------------------------
  void fail(std::string message) {
    if (error_.empty()) error_ = message + " (at byte " + std::to_string(pos_) + ")";
  }
  bool has(size_t n) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) {
      fail("stack underflow");
      return false;
    }
    return true;
  }
  Value pop() {
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  void push(Value v) {
    if (v.depth > kMaxPickleDepth) {
      fail("values nested deeper than " + std::to_string(kMaxPickleDepth) + " levels");
      return;
    }
    stack_.push_back(std::move(v));
  }
  // Pops everything above the innermost MARK (and the mark).
  bool pop_mark(std::vector<Value>& out) {
    if (marks_.empty()) {
      fail("an opcode needs a MARK and there is none");
      return false;
    }
    const size_t at = marks_.back();
    marks_.pop_back();
    out.assign(std::make_move_iterator(stack_.begin() + static_cast<long>(at)),
               std::make_move_iterator(stack_.end()));
    stack_.resize(at);
    return true;
  }
  static uint32_t deepest(const std::vector<Value>& values) {
    uint32_t d = 0;
    for (const auto& v : values) d = std::max(d, v.depth);
    return d;
  }
  static Value container(uint32_t child_depth) {
    Value v;
    v.depth = child_depth + 1;
    return v;
  }
  static Value tuple(std::vector<Value> items) {
    Value v = container(deepest(items));
    v.kind = Value::Tuple;
    if (items.size() <= kKeptItems) v.items = std::make_shared<const std::vector<Value>>(std::move(items));
    return v;
  }
  static Value string(std::string_view text, Value::Kind kind = Value::Str) {
    Value v;
    if (text.size() <= kKeptString) {
      v.kind = kind;
      v.s.assign(text.data(), text.size());
    }
    return v;
  }
  // Adds children to the container on top of the stack (APPEND, SETITEM, BUILD, ...).
  void grow_top(uint32_t child_depth) {
    if (!has(1)) return;
    Value& top = stack_.back();
    top = container(std::max(top.depth - (top.depth ? 1 : 0), child_depth));
    if (top.depth > kMaxPickleDepth) fail("values nested deeper than " + std::to_string(kMaxPickleDepth) + " levels");
  }
  void memo_put(uint64_t index) {
    if (!has(1)) return;
    // Picklers number memo slots in order; LibTorch sizes its memo table by the largest index.
    if (index > memo_.size()) {
      fail("memo slot " + std::to_string(index) + " skips ahead of the " + std::to_string(memo_.size()) +
           " slots written");
      return;
    }
    memo_[index] = stack_.back();
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) {
      fail("a memo read of slot " + std::to_string(index) + ", which was never written");
      return;
    }
    push(it->second);
  }

  // ---- what LibTorch trusts -----------------------------------------------------------------
  Value persistent(const Value& pid) {
    Value opaque;
    opaque.depth = pid.depth;
    if (pid.kind != Value::Tuple || !pid.items || pid.items->size() < 5) return opaque;
    const auto& t = *pid.items;
    if (t[0].kind != Value::Str || t[0].s != "storage") return opaque;
    if (t[1].kind != Value::Global || t[2].kind != Value::Str || t[4].kind != Value::Int) {
      fail("a storage reference that is not ('storage', type, key, location, numel)");
      return opaque;
    }
    const uint64_t itemsize = storage_itemsize(t[1].s);
    if (itemsize == 0) {
      fail("unknown storage type '" + t[1].s + "'");
      return opaque;
    }
    if (t[4].i < 0) {
      fail("storage '" + t[2].s + "' has a negative size");
      return opaque;
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t[4].i), itemsize, &bytes)) {
      fail("storage '" + t[2].s + "' is too large");
      return opaque;
    }
    if (bytes > 0) {
      const auto have = record_size_(t[2].s);
      if (!have) {
        fail("storage '" + t[2].s + "' has no record in the archive");
        return opaque;
      }
      if (*have < bytes) {
        fail("storage '" + t[2].s + "' claims " + std::to_string(bytes) + " bytes but its record has " +
             std::to_string(*have));
        return opaque;
      }
    }
    Value v;
    v.kind = Value::Storage;
    v.s = t[2].s;
    v.i = t[4].i;
    v.itemsize = itemsize;
    return v;
  }

  static bool ints(const Value& v, std::vector<int64_t>& out) {
    if (v.kind != Value::Tuple || !v.items) return false;
    out.clear();
    for (const auto& x : *v.items) {
      if (x.kind != Value::Int) return false;
      out.push_back(x.i);
    }
    return true;
  }

  // torch._utils._rebuild_tensor_v2(storage, offset, sizes, strides, ...): every element the
  // sizes and strides address must lie inside the storage.
  void check_rebuild(const Value& args) {
    if (args.kind != Value::Tuple || !args.items || args.items->size() < 4) return;
    const auto& a = *args.items;
    std::vector<int64_t> sizes, strides;
    if (a[0].kind != Value::Storage || a[1].kind != Value::Int || !ints(a[2], sizes) || !ints(a[3], strides)) return;
    const std::string& key = a[0].s;
    if (sizes.size() != strides.size()) {
      fail("a tensor of storage '" + key + "' has " + std::to_string(sizes.size()) + " sizes and " +
           std::to_string(strides.size()) + " strides");
      return;
    }
    if (a[1].i < 0) {
      fail("a tensor of storage '" + key + "' has a negative offset");
      return;
    }
    int64_t last = a[1].i;  // the highest element index addressed
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] < 0 || strides[d] < 0) {
        fail("a tensor of storage '" + key + "' has a negative size or stride");
        return;
      }
      if (sizes[d] == 0) return;  // addresses nothing
    }
    for (size_t d = 0; d < sizes.size(); ++d) {
      int64_t span = 0;
      if (__builtin_mul_overflow(sizes[d] - 1, strides[d], &span) || __builtin_add_overflow(last, span, &last)) {
        fail("a tensor of storage '" + key + "' addresses past any storage (overflow)");
        return;
      }
    }
    if (last >= a[0].i) {
      fail("a tensor of storage '" + key + "' addresses element " + std::to_string(last) +
           " of a storage of " + std::to_string(a[0].i));
    }
  }

  // ---- one opcode ---------------------------------------------------------------------------
  void step(unsigned char op) {
    switch (op) {
      case 0x80: le(1); return;  // PROTO
      case 0x95: le(8); return;  // FRAME: a length hint only
      case '(': marks_.push_back(stack_.size()); return;  // MARK
      case '0': if (has(1)) pop(); return;  // POP
      case '1': { std::vector<Value> v; pop_mark(v); return; }  // POP_MARK
      case '2': if (has(1)) push(stack_.back()); return;  // DUP
      case 'N': case 0x88: case 0x89: push(Value{}); return;  // NONE, NEWTRUE, NEWFALSE
      case 'J': { Value v; v.kind = Value::Int; v.i = static_cast<int32_t>(le(4)); push(v); return; }
      case 'K': { Value v; v.kind = Value::Int; v.i = static_cast<int64_t>(le(1)); push(v); return; }
      case 'M': { Value v; v.kind = Value::Int; v.i = static_cast<int64_t>(le(2)); push(v); return; }
      case 0x8a: case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        const uint64_t n = le(op == 0x8a ? 1 : 4);
        auto digits = take(n);
        Value v;
        if (error_.empty() && n <= 8) {
          uint64_t u = 0;
          for (size_t k = 0; k < digits.size(); ++k) u |= static_cast<uint64_t>(static_cast<unsigned char>(digits[k])) << (8 * k);
          if (n > 0 && n < 8 && (static_cast<unsigned char>(digits[n - 1]) & 0x80)) u |= ~uint64_t{0} << (8 * n);
          v.kind = Value::Int;
          v.i = static_cast<int64_t>(u);
        }
        push(v);
        return;
      }
      case 'G': le(8); push(Value{}); return;  // BINFLOAT
      case 'X': push(string(take(le(4)))); return;     // BINUNICODE
      case 0x8c: push(string(take(le(1)))); return;    // SHORT_BINUNICODE
      case 0x8d: push(string(take(le(8)))); return;    // BINUNICODE8
      case 'T': case 'B': take(le(4)); push(Value{}); return;          // BINSTRING, BINBYTES
      case 'U': case 'C': take(le(1)); push(Value{}); return;          // SHORT_BINSTRING, SHORT_BINBYTES
      case 0x8e: case 0x96: take(le(8)); push(Value{}); return;        // BINBYTES8, BYTEARRAY8
      case ')': push(tuple({})); return;                                // EMPTY_TUPLE
      case 't': { std::vector<Value> v; if (pop_mark(v)) push(tuple(std::move(v))); return; }  // TUPLE
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        const size_t n = op - 0x84u;
        if (!has(n)) return;
        std::vector<Value> v(std::make_move_iterator(stack_.end() - static_cast<long>(n)),
                             std::make_move_iterator(stack_.end()));
        stack_.resize(stack_.size() - n);
        push(tuple(std::move(v)));
        return;
      }
      case ']': case '}': case 0x8f: push(container(0)); return;  // EMPTY_LIST, EMPTY_DICT, EMPTY_SET
      case 'l': case 'd': case 0x91: {  // LIST, DICT, FROZENSET
        std::vector<Value> v;
        if (!pop_mark(v)) return;
        if (op == 'd' && v.size() % 2) return fail("DICT with an odd number of items");
        push(container(deepest(v)));
        return;
      }
      case 'a': { if (!has(2)) return; Value v = pop(); grow_top(v.depth); return; }  // APPEND
      case 's': {  // SETITEM
        if (!has(3)) return;
        Value v = pop(), k = pop();
        grow_top(std::max(k.depth, v.depth));
        return;
      }
      case 'e': case 'u': case 0x90: {  // APPENDS, SETITEMS, ADDITEMS
        std::vector<Value> v;
        if (!pop_mark(v)) return;
        if (op == 'u' && v.size() % 2) return fail("SETITEMS with an odd number of items");
        grow_top(deepest(v));
        return;
      }
      case 'c': {  // GLOBAL
        auto module = line();
        auto name = line();
        if (error_.empty()) push(string(std::string(module) + "." + std::string(name), Value::Global));
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        if (!has(2)) return;
        Value name = pop(), module = pop();
        Value g;
        if (module.kind == Value::Str && name.kind == Value::Str) g = string(module.s + "." + name.s, Value::Global);
        push(g);
        return;
      }
      case 'Q': {  // BINPERSID
        if (!has(1)) return;
        Value pid = pop();
        push(persistent(pid));
        return;
      }
      case 'R': {  // REDUCE
        if (!has(2)) return;
        Value args = pop(), callable = pop();
        if (callable.kind == Value::Global && callable.s == "torch._utils._rebuild_tensor_v2") check_rebuild(args);
        push(container(args.depth));
        return;
      }
      case 0x81: {  // NEWOBJ
        if (!has(2)) return;
        Value args = pop();
        pop();
        push(container(args.depth));
        return;
      }
      case 0x92: {  // NEWOBJ_EX
        if (!has(3)) return;
        Value kwargs = pop(), args = pop();
        pop();
        push(container(std::max(args.depth, kwargs.depth)));
        return;
      }
      case 'b': { if (!has(2)) return; Value state = pop(); grow_top(state.depth); return; }  // BUILD
      case 'q': memo_put(le(1)); return;     // BINPUT
      case 'r': memo_put(le(4)); return;     // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); return;  // MEMOIZE
      case 'h': memo_get(le(1)); return;     // BINGET
      case 'j': memo_get(le(4)); return;     // LONG_BINGET
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("opcode ") + hex + " is not one LibTorch reads");
        return;
      }
    }
  }

  std::string_view b_;
  const RecordSize& record_size_;
  size_t pos_ = 0;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value> memo_;
  std::string error_;
};

}  // namespace

std::string check_pickle(std::string_view bytes, const RecordSize& record_size) {
  return Walker(bytes, record_size).run();
}

}  // namespace ti::core::torchscript
