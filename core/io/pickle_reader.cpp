#include "core/io/pickle_reader.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "core/common/error.h"

namespace respo::io {
namespace {

using Kind = PickleValue::Kind;

// Every opcode of pickle protocols 0-5, for messages about the ones we refuse.
std::string opcodeName(std::uint8_t code) {
  static const std::unordered_map<std::uint8_t, const char*> names = {
      {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'F', "FLOAT"},
      {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"}, {'M', "BININT2"}, {'N', "NONE"},
      {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"}, {'S', "STRING"}, {'T', "BINSTRING"},
      {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"},
      {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"},
      {'i', "INST"}, {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"},
      {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"},
      {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"}, {0x82, "EXT1"}, {0x83, "EXT2"},
      {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"},
      {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"},
      {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"},
      {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"},
      {0x94, "MEMOIZE"}, {0x95, "FRAME"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"}};
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", code);
  const auto found = names.find(code);
  return found == names.end() ? std::string("unknown opcode ") + hex : std::string(found->second) + " (" + hex + ")";
}

const char* const kRefused = "; the file is refused because unpickling it could run code";

// The globals a torch.save dict of tensors needs; everything else is refused.
bool allowedGlobal(const std::string& module, const std::string& name) {
  if (module == "torch._utils") return name == "_rebuild_tensor_v2" || name == "_rebuild_parameter";
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch")
    for (const char* type : {"FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage",
                             "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"})
      if (name == type) return true;
  return false;
}

class Interpreter {
 public:
  Interpreter(std::span<const std::byte> bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}

  Pickle run() {
    while (true) {
      opcodeAt_ = pos_;
      const std::uint8_t op = u8();
      switch (op) {
        case 0x80: if (const int v = u8(); v < 2 || v > 5) fail("unsupported pickle protocol " + std::to_string(v)); break;
        case 0x95: take(8); break;  // FRAME: only a buffering hint
        case '(': marks_.push_back(stack_.size()); break;
        case '}': push(make(Kind::Dict)); break;
        case ']': push(make(Kind::List)); break;
        case ')': push(make(Kind::Tuple)); break;
        case 'N': push(make(Kind::None)); break;
        case 0x88: case 0x89: { auto v = make(Kind::Bool); v->boolean = op == 0x88; push(v); break; }
        case 'J': pushInt(static_cast<std::int32_t>(le(4))); break;
        case 'K': pushInt(static_cast<std::int64_t>(le(1))); break;
        case 'M': pushInt(static_cast<std::int64_t>(le(2))); break;
        case 0x8a: pushInt(long1()); break;
        case 'G': { auto v = make(Kind::Float); v->real = std::bit_cast<double>(be64()); push(v); break; }
        case 'X': pushString(text(le(4))); break;
        case 0x8c: pushString(text(le(1))); break;
        case 't': { auto v = make(Kind::Tuple); v->items = popMark(); push(v); break; }
        case 0x85: case 0x86: case 0x87: {
          auto v = make(Kind::Tuple);
          v->items.resize(op - 0x84);
          for (auto it = v->items.rbegin(); it != v->items.rend(); ++it) *it = pop();
          push(v);
          break;
        }
        case 'c': { std::string module = line(); resolveGlobal(module, line()); break; }
        case 0x93: {
          const PickleRef name = pop(), module = pop();
          if (name->kind != Kind::String || module->kind != Kind::String) fail("STACK_GLOBAL needs two strings");
          resolveGlobal(module->text, name->text);
          break;
        }
        case 'Q': push(persistentId(pop())); break;
        case 'R': { const PickleRef args = pop(); push(reduce(pop(), args)); break; }
        case 'b': build(); break;
        case 'h': push(memoGet(le(1))); break;
        case 'j': push(memoGet(le(4))); break;
        case 'q': memo_[static_cast<std::uint32_t>(le(1))] = top(); break;
        case 'r': memo_[static_cast<std::uint32_t>(le(4))] = top(); break;
        case 0x94: memo_[static_cast<std::uint32_t>(memo_.size())] = top(); break;
        case 's': { const PickleRef value = pop(), key = pop(); dictOn(top(), "SETITEM").push_back({key, value}); break; }
        case 'u': {
          auto items = popMark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
          auto& dict = dictOn(top(), "SETITEMS");
          for (std::size_t i = 0; i < items.size(); i += 2) dict.push_back({items[i], items[i + 1]});
          break;
        }
        case 'a': case 'e': {
          auto items = op == 'a' ? std::vector<PickleRef>{pop()} : popMark();
          if (top()->kind != Kind::List) fail(opcodeName(op) + " on " + describe(*top()) + ", not a list");
          for (auto& item : items) top()->items.push_back(item);
          break;
        }
        case '.': {
          if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return {std::move(values_), stack_.back()};
        }
        default:
          fail("pickle opcode " + opcodeName(op) + " is not one torch.save writes for a dict of tensors" + kRefused);
      }
    }
  }

 private:
  PickleRef make(Kind kind) {
    values_.push_back(std::make_unique<PickleValue>());
    values_.back()->kind = kind;
    return values_.back().get();
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw FormatError(where_ + ": " + message + " (at byte " + std::to_string(opcodeAt_) + ")");
  }
  const std::byte* take(std::uint64_t count) {
    if (count > bytes_.size() - pos_) fail("the pickle is truncated (it ends without STOP)");
    const std::byte* at = bytes_.data() + pos_;
    pos_ += count;
    return at;
  }
  std::uint8_t u8() { return std::to_integer<std::uint8_t>(*take(1)); }
  std::uint64_t le(int width) {
    const std::byte* at = take(width);
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint8_t>(at[i]);
    return value;
  }
  std::uint64_t be64() {
    const std::byte* at = take(8);
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | std::to_integer<std::uint8_t>(at[i]);
    return value;
  }
  std::int64_t long1() {
    const int width = u8();
    if (width > 8) fail("an integer wider than 64 bits");
    if (width == 0) return 0;
    std::uint64_t value = le(width);
    if (width < 8 && (value >> (8 * width - 1)) & 1u) value |= ~std::uint64_t{0} << (8 * width);  // sign-extend
    return static_cast<std::int64_t>(value);
  }
  std::string text(std::uint64_t length) { return std::string(reinterpret_cast<const char*>(take(length)), length); }
  std::string line() {
    std::string out;
    while (true) {
      const char c = static_cast<char>(u8());
      if (c == '\n') return out;
      out += c;
    }
  }

  void push(PickleRef value) { stack_.push_back(std::move(value)); }
  void pushInt(std::int64_t n) { auto v = make(Kind::Int); v->integer = n; push(v); }
  void pushString(std::string s) { auto v = make(Kind::String); v->text = std::move(s); push(v); }
  PickleRef top() {
    if (stack_.empty() || (!marks_.empty() && marks_.back() == stack_.size())) fail("the pickle stack is empty");
    return stack_.back();
  }
  PickleRef pop() {
    PickleRef value = top();
    stack_.pop_back();
    return value;
  }
  std::vector<PickleRef> popMark() {
    if (marks_.empty()) fail("a MARK is missing");
    std::vector<PickleRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PickleRef memoGet(std::uint64_t index) {
    const auto found = memo_.find(static_cast<std::uint32_t>(index));
    if (found == memo_.end()) fail("memo entry " + std::to_string(index) + " is read before it is written");
    return found->second;
  }
  std::vector<std::pair<PickleRef, PickleRef>>& dictOn(PickleRef target, const char* op) {
    if (target->kind != Kind::Dict) fail(std::string(op) + " on " + describe(*target) + ", not a dict");
    return target->dict;
  }

  void resolveGlobal(const std::string& module, const std::string& name) {
    if (!allowedGlobal(module, name))
      fail("refers to the Python global '" + module + "." + name +
           "', which is not one of torch's tensor rebuilders, OrderedDict or a storage type" + kRefused);
    auto v = make(Kind::Global);
    v->text = module + "." + name;
    push(v);
  }

  PickleRef persistentId(PickleRef id) {
    const auto& f = id->items;
    if (id->kind != Kind::Tuple || f.size() != 5 || f[0]->kind != Kind::String || f[0]->text != "storage" ||
        f[1]->kind != Kind::Global || f[1]->text.rfind("torch.", 0) != 0 ||
        !f[1]->text.ends_with("Storage") || f[2]->kind != Kind::String ||
        f[3]->kind != Kind::String || f[4]->kind != Kind::Int || f[4]->integer < 0)
      fail("a persistent id that is not ('storage', type, key, location, numel)");
    auto v = make(Kind::Storage);
    v->storage = {f[1]->text.substr(6), f[2]->text, f[3]->text, f[4]->integer};
    return v;
  }

  static bool isIntTuple(PickleRef v) {
    if (v->kind != Kind::Tuple) return false;
    for (const auto& item : v->items)
      if (item->kind != Kind::Int) return false;
    return true;
  }

  PickleRef reduce(PickleRef callable, PickleRef args) {
    if (callable->kind != Kind::Global || args->kind != Kind::Tuple)
      fail("REDUCE calls " + describe(*callable) + kRefused);
    const auto& a = args->items;
    const std::string& name = callable->text;
    if (name == "collections.OrderedDict") {
      if (!a.empty()) fail("OrderedDict built from arguments");
      return make(Kind::Dict);
    }
    if (name == "torch._utils._rebuild_tensor_v2") {
      if (a.size() < 6 || a.size() > 7 || a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int ||
          !isIntTuple(a[2]) || !isIntTuple(a[3]) || a[2]->items.size() != a[3]->items.size() ||
          a[4]->kind != Kind::Bool || a[5]->kind != Kind::Dict)
        fail("_rebuild_tensor_v2 with arguments other than (storage, offset, size, stride, requires_grad, hooks)");
      if (!a[5]->dict.empty()) fail("a tensor with backward hooks");
      // torch tensors have at most 64 dimensions; more would let a small pickle describe huge records.
      if (a[2]->items.size() > 64) fail("a tensor with " + std::to_string(a[2]->items.size()) + " dimensions");
      if (a.size() == 7 && (a[6]->kind != Kind::Dict || !a[6]->dict.empty()))
        fail("a tensor with extra metadata (" + describe(*a[6]) + "), which this reader does not support");
      auto v = make(Kind::Tensor);
      v->tensor.storage = a[0]->storage;
      v->tensor.offset = a[1]->integer;
      for (const auto& n : a[2]->items) v->tensor.size.push_back(n->integer);
      for (const auto& n : a[3]->items) v->tensor.stride.push_back(n->integer);
      return v;
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (a.size() != 3 || a[0]->kind != Kind::Tensor || a[1]->kind != Kind::Bool || a[2]->kind != Kind::Dict)
        fail("_rebuild_parameter with arguments other than (tensor, requires_grad, hooks)");
      auto v = make(Kind::Tensor);
      v->tensor = a[0]->tensor;
      v->tensor.parameter = true;
      return v;
    }
    fail("REDUCE calls " + name + ", which is not a function torch.save uses" + kRefused);
  }

  // BUILD sets the state of the object below it. torch state dicts are OrderedDicts carrying a
  // `_metadata` attribute (module versions); that state is inert and dropped. Nothing else is built.
  void build() {
    const PickleRef state = pop();
    const PickleRef target = top();
    if (target->kind != Kind::Dict || state->kind != Kind::Dict)
      fail("BUILD sets the state of " + describe(*target) + kRefused);
  }

  std::span<const std::byte> bytes_;
  std::string where_;
  std::uint64_t pos_ = 0, opcodeAt_ = 0;
  std::vector<PickleRef> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, PickleRef> memo_;
  std::vector<std::unique_ptr<PickleValue>> values_;
};

}  // namespace

std::string describe(const PickleValue& value) {
  switch (value.kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int (" + std::to_string(value.integer) + ")";
    case Kind::Float: return "a float";
    case Kind::String: return "a string ('" + value.text.substr(0, 40) + "')";
    case Kind::Tuple: return "a tuple of " + std::to_string(value.items.size());
    case Kind::List: return "a list of " + std::to_string(value.items.size());
    case Kind::Dict: return "a dict of " + std::to_string(value.dict.size());
    case Kind::Global: return "the global " + value.text;
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
  }
  return "an unknown value";
}

Pickle readTorchPickle(std::span<const std::byte> bytes, const std::string& where) {
  return Interpreter(bytes, where).run();
}

}  // namespace respo::io
