// libFuzzer target for the CSV work-order import (SAP PM, Maximo, native exports). Besides
// "never crashes": a file is either refused whole with a reason or mapped row by row, each row
// numbered past the header in order, refused with a reason or carrying only text.
#include "http/csv.h"
#include "storage/storage.h"
#include "tests/fuzz_target.h"

namespace {

void Check(bool ok, const char* what) { foresight::testing::FuzzCheck(ok, "csv_fuzz", what); }

bool AllText(const boost::json::value& v) {
  if (v.is_string()) {
    return !foresight::storage::CheckText(v.get_string(), foresight::storage::TextKind::kMultiline);
  }
  if (v.is_object()) {
    for (const auto& [k, member] : v.get_object()) {
      if (!AllText(member)) return false;
    }
  }
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (!AllText(item)) return false;
    }
  }
  return true;
}

}  // namespace

FORESIGHT_FUZZ_TARGET(FuzzCsvImport) {
  std::string_view csv(reinterpret_cast<const char*>(data), size);
  foresight::http::WorkOrderImport result = foresight::http::ParseWorkOrders(csv);
  if (!result.error.empty()) {
    Check(result.orders.empty(), "a refused file with rows");
    return 0;
  }
  Check(result.format == "sap_pm" || result.format == "maximo" || result.format == "native",
        "an accepted file without a known format");
  size_t previous = 1;
  for (const auto& order : result.orders) {
    Check(order.row > previous, "rows out of order or numbered into the header");
    previous = order.row;
    if (order.error.empty()) {
      Check(AllText(boost::json::value(order.fields)),
            "a mapped row holds bytes that are not text");
      Check(!foresight::storage::CheckText(order.id), "a row id that is not text");
    }
  }
  return 0;
}

#ifndef FORESIGHT_LIBFUZZER
TEST(FuzzCorpus, CsvImportsKeepTheirInvariants) {
  foresight::testing::ReplayCorpus("tests/http/corpus/csv_import", FuzzCsvImport, 8);
}
#endif
