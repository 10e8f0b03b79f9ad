// Private to http/: CSV in (RFC 4180, work-order exports) and out (report exports).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::http {

// Splits CSV text into rows of fields: quoted fields with "" escapes and embedded newlines,
// LF or CRLF, a UTF-8 byte-order mark skipped, the delimiter (',', ';' or tab) taken from the
// header line. nullopt when a quote is never closed; `*error` says where.
std::optional<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                              std::string* error);

// One CSV line (with CRLF) quoting fields that need it.
std::string CsvLine(const std::vector<std::string>& fields);

// A work order mapped onto a maintenance record's fields, or the reason it could not be.
struct WorkOrder {
  size_t row = 0;  // line of the file, the header being 1
  std::string id;  // stable id for re-imports ("sap-<order>", "maximo-<wonum>"), or empty
  boost::json::object fields;
  std::string error;
};

struct WorkOrderImport {
  std::string format;  // "sap_pm", "maximo" or "native"
  std::vector<WorkOrder> orders;
  std::string error;  // the file as a whole is unusable
};

// Recognises the export by its header (documented in http/README.md) and maps every row.
WorkOrderImport ParseWorkOrders(std::string_view csv);

}  // namespace foresight::http
