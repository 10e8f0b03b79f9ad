// CSV and the work-order export shapes of SAP PM and IBM Maximo / Asset Suite.
#include "http/csv.h"

#include "storage/storage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

namespace foresight::http {
namespace {

namespace json = boost::json;

std::string Normalize(std::string_view header) {
  std::string out;
  for (char c : header) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Amounts as exports write them: "1234.5", "1,234.50", "1.234,50", "1234,5".
std::optional<double> ParseAmount(std::string_view text) {
  std::string s;
  for (char c : Trim(text)) {
    if (c != ' ' && c != '\'') s.push_back(c);
  }
  if (s.empty()) return std::nullopt;
  size_t comma = s.rfind(','), dot = s.rfind('.');
  if (comma != std::string::npos && dot != std::string::npos) {
    char thousands = comma > dot ? '.' : ',';
    std::erase(s, thousands);
    std::replace(s.begin(), s.end(), ',', '.');
  } else if (comma != std::string::npos) {
    bool decimal = s.size() - comma - 1 <= 2 && std::count(s.begin(), s.end(), ',') == 1;
    if (decimal) {
      s[comma] = '.';
    } else {
      std::erase(s, ',');
    }
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Dates as exports write them: ISO (2024-03-05, with an optional time), SAP's 05.03.2024, and
// US 3/5/2024 or 3/5/24, each with an optional "hh:mm[:ss]". Returns RFC 3339 UTC.
std::optional<std::string> ParseDate(std::string_view text) {
  std::string s(Trim(text));
  if (s.empty()) return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  const char* rest = nullptr;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3) {
    rest = s.c_str() + n;
  } else if (std::sscanf(s.c_str(), "%2d.%2d.%4d%n", &d, &mo, &y, &n) == 3) {
    rest = s.c_str() + n;
  } else if (std::sscanf(s.c_str(), "%2d/%2d/%4d%n", &mo, &d, &y, &n) == 3) {
    rest = s.c_str() + n;
    if (n <= 8 && y < 100) y += 2000;
  } else {
    return std::nullopt;
  }
  std::string_view tail = Trim(rest);
  if (!tail.empty() && (tail[0] == 'T' || tail[0] == 't')) tail.remove_prefix(1);
  if (!tail.empty()) {
    std::string t(tail);
    int m = 0;
    if (std::sscanf(t.c_str(), "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3) {
      sec = 0;
      if (std::sscanf(t.c_str(), "%2d:%2d%n", &h, &mi, &m) != 2) return std::nullopt;
    }
    std::string_view zone = Trim(std::string_view(t).substr(m));
    if (!zone.empty() && zone != "Z" && zone != "z" && zone != "UTC") return std::nullopt;
  }
  if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60) {
    return std::nullopt;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
  return std::string(buf);
}

struct Columns {
  std::map<std::string, size_t> index;  // normalized header -> column
  // The first of `names` (normalized) present in the row and non-empty.
  std::string_view Get(const std::vector<std::string>& row,
                       std::initializer_list<std::string_view> names) const {
    for (std::string_view name : names) {
      auto it = index.find(std::string(name));
      if (it != index.end() && it->second < row.size()) {
        std::string_view v = Trim(row[it->second]);
        if (!v.empty()) return v;
      }
    }
    return {};
  }
  bool Has(std::string_view name) const { return index.contains(std::string(name)); }
};

// Maps the common fields; kind and id are the format's own.
void MapCommon(const Columns& c, const std::vector<std::string>& row,
               std::initializer_list<std::string_view> asset,
               std::initializer_list<std::string_view> when,
               std::initializer_list<std::string_view> cost,
               std::initializer_list<std::string_view> downtime,
               std::initializer_list<std::string_view> notes, WorkOrder* w) {
  std::string_view a = c.Get(row, asset);
  if (a.empty()) {
    w->error = "no asset (equipment) column value";
    return;
  }
  w->fields["asset_id"] = a;
  std::string_view date = c.Get(row, when);
  std::optional<std::string> at = ParseDate(date);
  if (!at) {
    w->error = date.empty() ? "no date" : "unreadable date '" + std::string(date) + "'";
    return;
  }
  w->fields["performed_at"] = *at;
  if (std::string_view v = c.Get(row, cost); !v.empty()) {
    std::optional<double> amount = ParseAmount(v);
    if (!amount) {
      w->error = "unreadable cost '" + std::string(v) + "'";
      return;
    }
    w->fields["cost"] = *amount;
  }
  if (std::string_view v = c.Get(row, downtime); !v.empty()) {
    std::optional<double> hours = ParseAmount(v);
    if (!hours) {
      w->error = "unreadable downtime '" + std::string(v) + "'";
      return;
    }
    w->fields["downtime_hours"] = *hours;
  }
  if (std::string_view v = c.Get(row, notes); !v.empty()) w->fields["notes"] = v;
}

void MapSap(const Columns& c, const std::vector<std::string>& row, WorkOrder* w) {
  std::string_view order = c.Get(row, {"order"});
  if (order.empty()) {
    w->error = "no Order number";
    return;
  }
  w->id = "sap-" + std::string(order);
  w->fields["external_id"] = order;
  std::string type = Normalize(c.Get(row, {"ordertype", "type"}));
  std::string breakdown = Normalize(c.Get(row, {"breakdown", "breakdownindicator"}));
  if (breakdown == "x" || breakdown == "yes" || breakdown == "true") {
    w->fields["kind"] = "failure";
  } else if (type == "pm01") {
    w->fields["kind"] = "corrective";
  } else if (type == "pm02") {
    w->fields["kind"] = "preventive";
  } else if (type == "pm03") {
    w->fields["kind"] = "inspection";
  } else if (type == "pm04" || type == "pm05") {
    w->fields["kind"] = "corrective";
  } else {
    w->error = "unknown Order Type '" + type +
               "' (PM01 corrective, PM02 preventive, PM03 "
               "inspection, PM04/PM05 corrective; Breakdown = X for a failure)";
    return;
  }
  MapCommon(c, row, {"equipment", "functionalloc", "functionallocation"},
            {"actualfinishdate", "actualfinish", "actualstartdate", "basicfinishdate",
             "basicstartdate", "createdon"},
            {"totalactualcosts", "totalactcosts", "actualcosts", "totactcosts"},
            {"breakdownduration", "downtime", "downtimehours"},
            {"description", "shorttext", "ordertext"}, w);
}

void MapMaximo(const Columns& c, const std::vector<std::string>& row, WorkOrder* w) {
  std::string_view wonum = c.Get(row, {"wonum"});
  if (wonum.empty()) {
    w->error = "no WONUM";
    return;
  }
  w->id = "maximo-" + std::string(wonum);
  w->fields["external_id"] = wonum;
  std::string type = Normalize(c.Get(row, {"worktype"}));
  bool failure_code = !c.Get(row, {"failurecode", "problemcode"}).empty();
  if (type == "em" || (type == "cm" && failure_code)) {
    w->fields["kind"] = "failure";
  } else if (type == "cm" || type == "cp") {
    w->fields["kind"] = "corrective";
  } else if (type == "pm" || type == "pdm" || type == "cal") {
    w->fields["kind"] = "preventive";
  } else if (type == "insp" || type == "in" || type == "ins") {
    w->fields["kind"] = "inspection";
  } else {
    w->error = "unknown WORKTYPE '" + type +
               "' (PM/PDM/CAL preventive, CM/CP corrective, EM "
               "failure, INSP inspection; CM with a FAILURECODE is a failure)";
    return;
  }
  MapCommon(c, row, {"assetnum", "location"},
            {"actfinish", "actstart", "reportdate", "schedfinish"}, {"acttotalcost", "actcost"},
            {"downtime", "downtimehours"}, {"description"}, w);
}

void MapNative(const Columns& c, const std::vector<std::string>& row, WorkOrder* w) {
  if (std::string_view id = c.Get(row, {"id"}); !id.empty()) w->id = id;
  std::string_view kind = c.Get(row, {"kind"});
  if (kind.empty()) {
    w->error = "no kind";
    return;
  }
  w->fields["kind"] = kind;
  if (std::string_view e = c.Get(row, {"externalid"}); !e.empty()) w->fields["external_id"] = e;
  MapCommon(c, row, {"assetid"}, {"performedat"}, {"cost"}, {"downtimehours"}, {"notes"}, w);
}

// "column <name>: <why>" for the first cell of `row` that is not text.
std::optional<std::string> NonText(const std::vector<std::string>& row,
                                   const std::vector<std::string>& header) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (auto bad = storage::CheckText(row[i], storage::TextKind::kMultiline)) {
      std::string name =
          i < header.size() && !storage::CheckText(header[i]) ? header[i] : std::to_string(i + 1);
      return "column " + name + ": " + bad->reason;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                              std::string* error) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::string_view first_line = text.substr(0, text.find('\n'));
  char delimiter = ',';
  size_t best = std::count(first_line.begin(), first_line.end(), ',');
  for (char d : {';', '\t'}) {
    size_t n = std::count(first_line.begin(), first_line.end(), d);
    if (n > best) {
      best = n;
      delimiter = d;
    }
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  size_t line = 1, quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      quote_line = line;
      any = true;
    } else if (c == delimiter) {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
      ++line;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (quoted) {
    *error = "a quoted field opened on line " + std::to_string(quote_line) + " is never closed";
    return std::nullopt;
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out.push_back('"');
    for (char c : f) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out += "\r\n";
  return out;
}

WorkOrderImport ParseWorkOrders(std::string_view csv) {
  WorkOrderImport result;
  auto rows = ParseCsv(csv, &result.error);
  if (!rows) return result;
  if (rows->empty() || (rows->size() == 1 && rows->front().size() <= 1 &&
                        Trim(rows->front().empty() ? "" : rows->front()[0]).empty())) {
    result.error = "the file is empty";
    return result;
  }
  if (auto bad = NonText((*rows)[0], (*rows)[0])) {
    result.error = "the header: " + *bad;
    return result;
  }
  Columns c;
  for (size_t i = 0; i < (*rows)[0].size(); ++i) c.index.emplace(Normalize((*rows)[0][i]), i);
  void (*map)(const Columns&, const std::vector<std::string>&, WorkOrder*) = nullptr;
  if (c.Has("wonum") && c.Has("assetnum")) {
    result.format = "maximo";
    map = MapMaximo;
  } else if (c.Has("order") && (c.Has("equipment") || c.Has("functionalloc"))) {
    result.format = "sap_pm";
    map = MapSap;
  } else if (c.Has("assetid") && c.Has("kind") && c.Has("performedat")) {
    result.format = "native";
    map = MapNative;
  } else {
    result.error =
        "unrecognised header: expected SAP PM (Order, Order Type, Equipment, ...), Maximo "
        "(WONUM, WORKTYPE, ASSETNUM, ...) or native (asset_id, kind, performed_at, ...) columns";
    return result;
  }
  for (size_t r = 1; r < rows->size(); ++r) {
    const std::vector<std::string>& row = (*rows)[r];
    if (std::all_of(row.begin(), row.end(), [](const std::string& f) { return Trim(f).empty(); })) {
      continue;  // blank line
    }
    WorkOrder w;
    w.row = r + 1;
    if (auto bad = NonText(row, (*rows)[0])) {
      w.error = *bad;
      result.orders.push_back(std::move(w));
      continue;
    }
    map(c, row, &w);
    // A cell may hold line breaks (a quoted note); the id it gives a record may not (found by
    // csv_fuzz: an order number quoted across two lines).
    if (auto bad = storage::CheckText(w.id); bad && w.error.empty()) {
      w.error = "the row's id is not one line of text: " + bad->reason;
    }
    result.orders.push_back(std::move(w));
  }
  return result;
}

}  // namespace foresight::http
