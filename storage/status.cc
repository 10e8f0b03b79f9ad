#include "storage/storage.h"

#include <bit>
#include <string>

namespace foresight {

std::string Status::ToString() const {
  static constexpr std::string_view kNames[] = {"OK",
                                                "Invalid argument",
                                                "Not found",
                                                "Already exists",
                                                "IO error",
                                                "Corruption",
                                                "Busy",
                                                "Resource exhausted",
                                                "Failed precondition",
                                                "Internal"};
  std::string out(kNames[static_cast<size_t>(code_)]);
  if (msg_) {
    out += ": ";
    out += *msg_;
  }
  return out;
}

namespace storage {

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kFloat:
      return "float";
    case ValueType::kInt:
      return "integer";
    case ValueType::kUint:
      return "unsigned";
    case ValueType::kBool:
      return "boolean";
    case ValueType::kString:
      return "string";
  }
  return "unknown";
}

std::string_view TierName(Tier tier) {
  switch (tier) {
    case Tier::kRaw:
      return "raw";
    case Tier::kMinute:
      return "1m";
    case Tier::kHour:
      return "1h";
    case Tier::kDay:
      return "1d";
  }
  return "unknown";
}

Value Value::Float(double v) { return {ValueType::kFloat, std::bit_cast<uint64_t>(v), {}}; }

double Value::AsDouble() const {
  switch (type) {
    case ValueType::kFloat:
      return std::bit_cast<double>(bits);
    case ValueType::kInt:
      return static_cast<double>(static_cast<int64_t>(bits));
    case ValueType::kUint:
    case ValueType::kBool:
      return static_cast<double>(bits);
    case ValueType::kString:
      break;
  }
  return 0;
}

double Points::AsDouble(size_t i) const { return Value{type, bits[i], {}}.AsDouble(); }

Result<FsyncPolicy> ParseFsyncPolicy(std::string_view text) {
  if (text == "always") return FsyncPolicy::kAlways;
  if (text == "interval") return FsyncPolicy::kInterval;
  if (text == "never") return FsyncPolicy::kNever;
  return Status::InvalidArgument("fsync policy must be always, interval or never, not '" +
                                 std::string(text) + "'");
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "unknown";
}

}  // namespace storage
}  // namespace foresight
