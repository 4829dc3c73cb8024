// How a kernel family joins the addon, and the argument checks every binding shares.
//
// Each native/cpu/<family>.cc defines its N-API functions and registers them:
//
//   static void InitSpmm(Napi::Env env, Napi::Object exports) {
//     exports.Set("spmm", Napi::Function::New(env, Spmm, "spmm"));
//   }
//   TESSERA_REGISTER_FAMILY(spmm, InitSpmm);
//
// addon.cc calls every registered init when the module loads, so adding a family needs no
// edit elsewhere. Bindings validate every argument before touching memory and report
// problems by throwing std::invalid_argument (through fail()): the addon is built with
// NODE_ADDON_API_CPP_EXCEPTIONS_ALL, so any std::exception (also one thrown inside a
// parallel_for worker) reaches JavaScript as an Error instead of crashing the process.
#pragma once
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <type_traits>
#include <vector>

#include "kernels/schema.h"

namespace tessera {

using FamilyInit = void (*)(Napi::Env env, Napi::Object exports);

inline std::vector<std::pair<const char*, FamilyInit>>& family_registry() {
  static std::vector<std::pair<const char*, FamilyInit>> registry;
  return registry;
}

struct FamilyRegistration {
  FamilyRegistration(const char* name, FamilyInit init) { family_registry().emplace_back(name, init); }
};

#define TESSERA_REGISTER_FAMILY(family, init) \
  static const ::tessera::FamilyRegistration tessera_family_registration_##family(#family, init)

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

/** Elements of a typed array handed in from JavaScript (byte offset already applied). */
template <class T>
struct Span {
  T* data = nullptr;
  int64_t size = 0;
};

namespace detail {
template <class T> struct TypedArrayKind;
template <> struct TypedArrayKind<float> {
  static constexpr napi_typedarray_type type = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <> struct TypedArrayKind<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
}  // namespace detail

/** Argument i as a Float32Array / Int32Array; `kernel` and `what` name it in errors. */
template <class T>
Span<T> array_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  using Kind = detail::TypedArrayKind<T>;
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != Kind::type) {
    fail(std::string(kernel) + ": " + what + " must be a " + Kind::name + " (cpu backend)");
  }
  auto arr = info[i].As<Napi::TypedArrayOf<T>>();
  return Span<T>{arr.Data(), static_cast<int64_t>(arr.ElementLength())};
}
inline Span<float> f32_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  return array_arg<float>(info, i, kernel, what);
}
inline Span<int32_t> i32_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  return array_arg<int32_t>(info, i, kernel, what);
}
/** Like f32_arg, but undefined / null give an empty span (data == nullptr). */
inline Span<float> optional_f32_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  if (i >= info.Length() || info[i].IsUndefined() || info[i].IsNull()) return {};
  return f32_arg(info, i, kernel, what);
}

inline double number_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber()) fail(std::string(kernel) + ": " + what + " must be a number (cpu backend)");
  return info[i].As<Napi::Number>().DoubleValue();
}

namespace detail {
inline int64_t to_int(double v, const char* kernel, const char* what, bool non_negative) {
  // 2^53 bounds every exactly representable JS integer and keeps products of two sizes checkable.
  if (!(v == static_cast<double>(static_cast<int64_t>(v))) || v > 9007199254740992.0 || v < -9007199254740992.0 ||
      (non_negative && v < 0)) {
    fail(std::string(kernel) + ": " + what + " must be " + (non_negative ? "a non-negative" : "an") +
         " integer, got " + std::to_string(v) + " (cpu backend)");
  }
  return static_cast<int64_t>(v);
}
}  // namespace detail

/** An integer argument (strides, offsets; may be negative). */
inline int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  return detail::to_int(number_arg(info, i, kernel, what), kernel, what, false);
}
/** A size or count: an integer >= 0. */
inline int64_t size_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* what) {
  return detail::to_int(number_arg(info, i, kernel, what), kernel, what, true);
}
/** A JavaScript array of integers (a shape or strides). */
inline std::vector<int64_t> int_list_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel,
                                         const char* what) {
  if (i >= info.Length() || !info[i].IsArray()) fail(std::string(kernel) + ": " + what + " must be an array (cpu backend)");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) fail(std::string(kernel) + ": " + what + " must hold numbers (cpu backend)");
    out[k] = detail::to_int(v.As<Napi::Number>().DoubleValue(), kernel, what, false);
  }
  return out;
}

/** Product of sizes, failing instead of overflowing. */
inline int64_t checked_product(std::initializer_list<int64_t> sizes, const char* kernel) {
  int64_t p = 1;
  for (int64_t s : sizes) {
    if (s < 0) fail(std::string(kernel) + ": negative size " + std::to_string(s) + " (cpu backend)");
    if (s != 0 && p > INT64_MAX / s) fail(std::string(kernel) + ": sizes overflow (cpu backend)");
    p *= s;
  }
  return p;
}

/** Fails unless a buffer holds at least `need` elements. */
inline void require_length(const char* kernel, const char* what, int64_t have, int64_t need) {
  if (have < need) {
    fail(std::string(kernel) + ": " + what + " has " + std::to_string(have) + " elements, needs " +
         std::to_string(need) + " (cpu backend)");
  }
}

/** The slot layout string of each record struct of kernels/schema.h. */
template <class Record> struct RecordSlots;
#define TESSERA_RECORD_SLOTS(key, type, slots) \
  template <> struct RecordSlots<type> { static constexpr const char* value = slots; };
TSR_RECORDS(TESSERA_RECORD_SLOTS)
#undef TESSERA_RECORD_SLOTS

/** Argument i: a record packed by packSlots (src/schema.ts), a Float64Array with one number per 8-byte
 *  slot of the struct, unpacked into the struct. Pointer slots stay null: buffers travel as arguments
 *  of their own. Integer slots must hold integers; what they mean is the kernel's to check. */
template <class Record>
Record record_arg(const Napi::CallbackInfo& info, size_t i, const char* kernel) {
  static_assert(std::is_trivially_copyable_v<Record>, "records are plain C structs");
  const char* slots = RecordSlots<Record>::value;
  const size_t n = std::strlen(slots);
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    fail(std::string(kernel) + ": the parameter record must be a Float64Array (cpu backend)");
  }
  auto values = info[i].As<Napi::Float64Array>();
  if (values.ElementLength() != n) {
    fail(std::string(kernel) + ": the parameter record holds " + std::to_string(values.ElementLength()) +
         " numbers, kernels/schema.h has " + std::to_string(n) + " (rebuild the addon: npm run build:native)");
  }
  Record record{};
  char* bytes = reinterpret_cast<char*>(&record);
  for (size_t k = 0; k < n; k++) {
    const double v = values[k];
    if (slots[k] == 'i') {
      const int64_t integer = detail::to_int(v, kernel, "an integer field of the parameter record", false);
      std::memcpy(bytes + 8 * k, &integer, 8);
    } else if (slots[k] == 'f') {
      std::memcpy(bytes + 8 * k, &v, 8);
    }
  }
  return record;
}

/** A JavaScript array of strings (op name lists exported next to the kernels that use the codes). */
inline Napi::Array string_array(Napi::Env env, const char* const* list, int count) {
  Napi::Array arr = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) arr.Set(static_cast<uint32_t>(i), Napi::String::New(env, list[i]));
  return arr;
}

}  // namespace tessera
