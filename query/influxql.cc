// InfluxQL: a lexer, a recursive-descent parser into small statement structs, and an executor
// over storage. The grammar follows InfluxDB 1.x (influxql/parser.go) for the statements
// query/README.md lists; anything else is a parse error or a named "not supported" error.
//
// Regular expressions are RE2, the engine (and syntax) InfluxDB's Go regexp implements: linear
// time, no recursion, so a client's pattern cannot blow the stack or the clock.
#include "query/query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <re2/re2.h>
#include <set>

namespace foresight::query {
namespace {

using storage::SeriesInfo;
using Tags = std::vector<std::pair<std::string, std::string>>;

// --- Lexer ---------------------------------------------------------------------------------------

enum class Tok : uint8_t { kEnd, kIdent, kString, kNumber, kDuration, kRegex, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier (unquoted), string contents, number text, regex, operator
  bool quoted = false;
  int64_t duration_ns = 0;
  size_t pos = 0;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A duration unit's length in ns; 0 when `unit` is not one.
int64_t UnitNs(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "u" || unit == "\xC2\xB5") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  if (unit == "d") return 86'400'000'000'000;
  if (unit == "w") return 604'800'000'000'000;
  return 0;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Fails with the position and what was wrong.
  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ + 1 < text_.size() && text_[pos_] == '-' && text_[pos_ + 1] == '-') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;  // a comment
        continue;
      }
      Token t;
      t.pos = pos_;
      if (pos_ == text_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      const char c = text_[pos_];
      if (c == '"' || c == '\'') {
        auto body = Quoted(c);
        if (!body.ok()) return body.status();
        t.kind = c == '"' ? Tok::kIdent : Tok::kString;
        t.quoted = true;
        t.text = std::move(*body);
      } else if (c == '/' && RegexAllowed(out)) {
        auto body = RegexBody();
        if (!body.ok()) return body.status();
        t.kind = Tok::kRegex;
        t.text = std::move(*body);
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && pos_ + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
        size_t end = pos_;
        while (end < text_.size() &&
               (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.'))
          ++end;
        t.text = std::string(text_.substr(pos_, end - pos_));
        size_t unit_end = end;
        while (unit_end < text_.size() &&
               (std::isalpha(static_cast<unsigned char>(text_[unit_end])) ||
                static_cast<unsigned char>(text_[unit_end]) >= 0x80))
          ++unit_end;
        t.kind = Tok::kNumber;
        if (unit_end > end) {
          const int64_t unit = UnitNs(text_.substr(end, unit_end - end));
          int64_t n = 0;
          auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), n);
          if (unit == 0 || ec != std::errc() || p != t.text.data() + t.text.size()) {
            return Error("invalid duration " + std::string(text_.substr(pos_, unit_end - pos_)));
          }
          if (n > std::numeric_limits<int64_t>::max() / unit) return Error("duration out of range");
          t.kind = Tok::kDuration;
          t.duration_ns = n * unit;
          end = unit_end;
        }
        pos_ = end;
      } else if (IsIdentStart(c)) {
        size_t end = pos_;
        while (end < text_.size() && IsIdentChar(text_[end])) ++end;
        t.kind = Tok::kIdent;
        t.text = std::string(text_.substr(pos_, end - pos_));
        pos_ = end;
      } else {
        static constexpr std::string_view kTwo[] = {"=~", "!~", "!=", "<>", "<=", ">=", "::"};
        t.kind = Tok::kOp;
        for (std::string_view op : kTwo) {
          if (text_.substr(pos_, 2) == op) t.text = std::string(op);
        }
        if (t.text.empty()) {
          if (std::strchr("=<>(),;.*+-/", c) == nullptr) {
            return Error("unexpected character '" + std::string(1, c) + "'");
          }
          t.text = std::string(1, c);
        }
        pos_ += t.text.size();
      }
      out.push_back(std::move(t));
    }
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument(what + " at char " + std::to_string(pos_ + 1));
  }

  // A '/' starts a regex after =~, !~, FROM, a '(' or ',' of a call, and in a FROM list.
  static bool RegexAllowed(const std::vector<Token>& before) {
    if (before.empty()) return false;
    const Token& t = before.back();
    if (t.kind == Tok::kOp)
      return t.text == "=~" || t.text == "!~" || t.text == "(" || t.text == ",";
    return t.kind == Tok::kIdent && !t.quoted && EqualsNoCase(t.text, "FROM");
  }

  Result<std::string> Quoted(char quote) {
    std::string out;
    for (++pos_; pos_ < text_.size(); ++pos_) {
      char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size()) {
        char next = text_[++pos_];
        out.push_back(next == 'n' ? '\n' : next);
      } else if (c == quote) {
        ++pos_;
        return out;
      } else {
        out.push_back(c);
      }
    }
    return Error(quote == '"' ? "unterminated identifier" : "unterminated string");
  }

  Result<std::string> RegexBody() {
    std::string out;
    for (++pos_; pos_ < text_.size(); ++pos_) {
      char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        out.push_back('/');
        ++pos_;
      } else if (c == '/') {
        ++pos_;
        return out;
      } else {
        out.push_back(c);
      }
    }
    return Error("unterminated regex");
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// --- Statements ----------------------------------------------------------------------------------

// The right-hand side of a condition, or an argument.
struct Literal {
  enum Kind : uint8_t { kString, kNumber, kDuration, kRegex, kIdent, kTime } kind = kString;
  std::string text;
  double number = 0;
  int64_t ns = 0;  // kDuration, kTime
  bool integer = false;
};

struct Condition;
using ConditionPtr = std::shared_ptr<const Condition>;
struct Condition {
  enum Kind : uint8_t { kAnd, kOr, kCompare, kTrue } kind = kTrue;
  ConditionPtr left, right;  // kAnd, kOr
  int depth = 1;             // of the tree below and including this node
  std::string key;           // kCompare: a tag, a field or "time"
  std::string op;
  Literal value;
  std::shared_ptr<const RE2> regex;
};

struct Source {
  std::string measurement;  // empty with a regex
  std::shared_ptr<const RE2> regex;
  bool Matches(const std::string& name) const {
    return regex ? RE2::PartialMatch(name, *regex) : name == measurement;
  }
};

struct FieldExpr {
  std::string call;   // empty: a field reference
  std::string field;  // the field (or "*"), at the innermost level
  std::vector<FieldExpr> args;
  std::vector<Literal> params;  // further literal arguments (percentile's N, a unit)
  std::string alias;
};

struct Select {
  std::vector<FieldExpr> fields;
  std::vector<Source> sources;
  ConditionPtr where;
  int64_t interval_ns = 0;  // GROUP BY time(...); 0 without
  int64_t offset_ns = 0;
  std::vector<std::string> group_tags;
  bool group_all_tags = false;
  enum class Fill : uint8_t { kNull, kNone, kPrevious, kLinear, kNumber } fill = Fill::kNull;
  double fill_value = 0;
  bool descending = false;
  size_t limit = 0, offset = 0, slimit = 0, soffset = 0;
  std::string unsupported;  // what parsed but cannot be answered
};

struct Show {
  enum Kind : uint8_t {
    kDatabases,
    kRetentionPolicies,
    kMeasurements,
    kTagKeys,
    kTagValues,
    kFieldKeys,
    kSeries
  } kind = kDatabases;
  std::vector<Source> sources;  // FROM; empty: every measurement
  std::optional<Source> with_measurement;
  // WITH KEY: exactly these keys, or those matching (or not) a regex, or all but one.
  std::vector<std::string> keys;
  std::shared_ptr<const RE2> key_regex;
  bool key_negated = false;
  ConditionPtr where;
  size_t limit = 0, offset = 0;
};

using Statement = std::variant<Select, Show>;

// Deeper conditions, calls or parentheses are refused: parsing and evaluating recurse once per
// level.
constexpr int kMaxDepth = 128;

// --- Parser --------------------------------------------------------------------------------------

class Parser {
 public:
  Parser(std::vector<Token> tokens, int64_t now_ns) : t_(std::move(tokens)), now_ns_(now_ns) {}

  Result<std::vector<Statement>> Run() {
    std::vector<Statement> out;
    while (true) {
      while (IsOp(";")) ++i_;
      if (Peek().kind == Tok::kEnd) break;
      if (IsKeyword("SELECT")) {
        auto select = ParseSelect();
        if (!select.ok()) return select.status();
        out.emplace_back(std::move(*select));
      } else if (IsKeyword("SHOW")) {
        auto show = ParseShow();
        if (!show.ok()) return show.status();
        out.emplace_back(std::move(*show));
      } else {
        return Expected("SELECT, SHOW");
      }
      if (!IsOp(";") && Peek().kind != Tok::kEnd) return Expected(";");
    }
    if (out.empty()) return Status::InvalidArgument("empty query");
    return out;
  }

 private:
  const Token& Peek(size_t ahead = 0) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kOp && Peek(ahead).text == op;
  }
  bool IsKeyword(std::string_view word, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kIdent && !t.quoted && EqualsNoCase(t.text, word);
  }
  bool Accept(std::string_view word) {
    if (!IsKeyword(word)) return false;
    ++i_;
    return true;
  }
  bool AcceptOp(std::string_view op) {
    if (!IsOp(op)) return false;
    ++i_;
    return true;
  }
  Status Expected(std::string_view what) const {
    const Token& t = Peek();
    std::string found = t.kind == Tok::kEnd ? "EOF" : t.text;
    return Status::InvalidArgument("found " + found + ", expected " + std::string(what) +
                                   " at char " + std::to_string(t.pos + 1));
  }
  Status Keyword(std::string_view word) { return Accept(word) ? Status::OK() : Expected(word); }

  Result<std::string> Ident() {
    if (Peek().kind != Tok::kIdent) return Expected("identifier");
    std::string name = t_[i_++].text;
    // "key"::tag and "key"::field name the kind; the name is what counts here.
    if (AcceptOp("::")) {
      if (Peek().kind != Tok::kIdent) return Expected("tag or field");
      ++i_;
    }
    return name;
  }

  Result<size_t> Count() {
    if (Peek().kind != Tok::kNumber) return Expected("integer");
    size_t n = 0;
    const std::string& text = Peek().text;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size()) return Expected("integer");
    ++i_;
    return n;
  }

  Result<std::shared_ptr<const RE2>> Regex() {
    if (Peek().kind != Tok::kRegex) return Expected("regex");
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(t_[i_].text, options);
    if (!re->ok()) {
      return Status::InvalidArgument("invalid regex /" + t_[i_].text + "/: " + re->error());
    }
    ++i_;
    return std::shared_ptr<const RE2>(std::move(re));
  }

  // [db.][rp.]measurement or /regex/, comma-separated.
  Result<std::vector<Source>> Sources() {
    std::vector<Source> out;
    do {
      Source s;
      if (Peek().kind == Tok::kRegex) {
        auto re = Regex();
        if (!re.ok()) return re.status();
        s.regex = *re;
      } else {
        auto name = Ident();
        if (!name.ok()) return name.status();
        s.measurement = *name;
        while (AcceptOp(".")) {
          if (Peek().kind == Tok::kRegex) {
            auto re = Regex();
            if (!re.ok()) return re.status();
            s.regex = *re;
            s.measurement.clear();
            break;
          }
          auto next = Ident();
          if (!next.ok()) return next.status();
          s.measurement = *next;
        }
      }
      out.push_back(std::move(s));
    } while (AcceptOp(","));
    return out;
  }

  // now() [+|- duration]..., a number with or without a unit, or a string.
  Result<Literal> Operand() {
    Literal v;
    const Token& t = Peek();
    if (t.kind == Tok::kIdent && !t.quoted && EqualsNoCase(t.text, "now") && IsOp("(", 1) &&
        IsOp(")", 2)) {
      i_ += 3;
      v.kind = Literal::kTime;
      v.ns = now_ns_;
    } else if (t.kind == Tok::kString) {
      v.kind = Literal::kString;
      v.text = t.text;
      ++i_;
    } else if (t.kind == Tok::kRegex) {
      v.kind = Literal::kRegex;
      v.text = t.text;
      ++i_;
    } else if (t.kind == Tok::kDuration) {
      v.kind = Literal::kDuration;
      v.ns = t.duration_ns;
      ++i_;
    } else if (t.kind == Tok::kNumber || (IsOp("-") && Peek(1).kind == Tok::kNumber)) {
      const bool negative = AcceptOp("-");
      v.kind = Literal::kNumber;
      v.text = (negative ? "-" : "") + Peek().text;
      v.integer = v.text.find('.') == std::string::npos;
      v.number = std::strtod(v.text.c_str(), nullptr);
      if (v.integer) {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
        if (ec != std::errc()) return Expected("a number in range");
        v.ns = n;
      }
      ++i_;
    } else if (t.kind == Tok::kIdent) {
      auto name = Ident();
      if (!name.ok()) return name.status();
      v.kind = Literal::kIdent;
      v.text = *name;
      return v;
    } else {
      return Expected("identifier, string, number, duration or now()");
    }
    // Time arithmetic: now() - 6h, 1700000000000ms + 1m.
    while ((IsOp("+") || IsOp("-")) && Peek(1).kind == Tok::kDuration &&
           (v.kind == Literal::kTime || v.kind == Literal::kDuration ||
            (v.kind == Literal::kNumber && v.integer))) {
      const bool minus = t_[i_].text == "-";
      const int64_t d = Peek(1).duration_ns;
      if (v.kind == Literal::kDuration) v.kind = Literal::kTime;
      if (v.kind == Literal::kNumber) v.kind = Literal::kTime;
      v.ns = minus ? v.ns - d : v.ns + d;
      i_ += 2;
    }
    return v;
  }

  Result<ConditionPtr> Or() { return Joined("OR", Condition::kOr, &Parser::And); }
  Result<ConditionPtr> And() { return Joined("AND", Condition::kAnd, &Parser::Primary); }
  // Operands parsed by `operand`, joined left to right by `word`.
  Result<ConditionPtr> Joined(std::string_view word, Condition::Kind kind,
                              Result<ConditionPtr> (Parser::*operand)()) {
    auto left = (this->*operand)();
    if (!left.ok()) return left;
    while (Accept(word)) {
      auto right = (this->*operand)();
      if (!right.ok()) return right;
      auto node = std::make_shared<Condition>();
      node->kind = kind;
      node->left = *left;
      node->right = *right;
      node->depth = std::max((*left)->depth, (*right)->depth) + 1;
      if (node->depth > kMaxDepth)
        return Status::InvalidArgument("condition nested more than 128 deep");
      left = ConditionPtr(node);
    }
    return left;
  }

  Result<ConditionPtr> Primary() {
    if (AcceptOp("(")) {
      Nesting nesting(&nesting_);
      if (nesting_ > kMaxDepth)
        return Status::InvalidArgument("condition nested more than 128 deep");
      auto inner = Or();
      if (!inner.ok()) return inner;
      if (!AcceptOp(")")) return Expected(")");
      return inner;
    }
    auto node = std::make_shared<Condition>();
    node->kind = Condition::kCompare;
    auto key = Ident();
    if (!key.ok()) return key.status();
    node->key = *key;
    static constexpr std::string_view kOps[] = {"=", "!=", "<>", "<", "<=", ">", ">=", "=~", "!~"};
    for (std::string_view op : kOps) {
      if (IsOp(op)) node->op = std::string(op);
    }
    if (node->op.empty()) return Expected("=, !=, <>, <, <=, >, >=, =~, !~");
    ++i_;
    if (node->op == "<>") node->op = "!=";
    if (node->op == "=~" || node->op == "!~") {
      auto re = Regex();
      if (!re.ok()) return re.status();
      node->regex = *re;
      node->value.kind = Literal::kRegex;
    } else {
      auto value = Operand();
      if (!value.ok()) return value.status();
      node->value = std::move(*value);
    }
    return ConditionPtr(node);
  }

  Result<FieldExpr> Field() {
    Nesting nesting(&nesting_);
    if (nesting_ > kMaxDepth)
      return Status::InvalidArgument("function calls nested more than 128 deep");
    FieldExpr f;
    if (AcceptOp("*")) {
      f.field = "*";
    } else {
      auto name = Ident();
      if (!name.ok()) return name.status();
      if (AcceptOp("(")) {
        f.call = *name;
        std::transform(f.call.begin(), f.call.end(), f.call.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        do {
          if (Peek().kind == Tok::kNumber || Peek().kind == Tok::kDuration ||
              Peek().kind == Tok::kString) {
            auto literal = Operand();
            if (!literal.ok()) return literal.status();
            f.params.push_back(std::move(*literal));
          } else if (Peek().kind == Tok::kRegex) {
            return Status::InvalidArgument(
                "regular expressions as function arguments are not "
                "supported");
          } else {
            auto arg = Field();
            if (!arg.ok()) return arg.status();
            f.args.push_back(std::move(*arg));
          }
        } while (AcceptOp(","));
        if (!AcceptOp(")")) return Expected(")");
        if (f.args.size() != 1) {
          return Status::InvalidArgument("function " + f.call + " needs one field argument");
        }
        f.field = f.args[0].field;
      } else {
        f.field = *name;
      }
    }
    if (IsOp("+") || IsOp("-") || IsOp("*") || IsOp("/")) {
      return Status::InvalidArgument("arithmetic in SELECT is not supported");
    }
    if (Accept("AS")) {
      auto alias = Ident();
      if (!alias.ok()) return alias.status();
      f.alias = *alias;
    }
    return f;
  }

  Result<Select> ParseSelect() {
    Select s;
    ++i_;
    do {
      auto f = Field();
      if (!f.ok()) return f.status();
      s.fields.push_back(std::move(*f));
    } while (AcceptOp(","));
    if (Accept("INTO")) return Status::InvalidArgument("SELECT INTO is not supported");
    if (Status st = Keyword("FROM"); !st.ok()) return st;
    auto sources = Sources();
    if (!sources.ok()) return sources.status();
    s.sources = std::move(*sources);
    if (Accept("WHERE")) {
      auto where = Or();
      if (!where.ok()) return where.status();
      s.where = *where;
    }
    if (Accept("GROUP")) {
      if (Status st = Keyword("BY"); !st.ok()) return st;
      do {
        if (IsKeyword("time") && IsOp("(", 1)) {
          i_ += 2;
          if (Peek().kind != Tok::kDuration) return Expected("duration");
          s.interval_ns = t_[i_++].duration_ns;
          if (s.interval_ns <= 0)
            return Status::InvalidArgument("GROUP BY time needs an interval > 0");
          if (AcceptOp(",")) {
            const bool negative = AcceptOp("-");
            if (Peek().kind != Tok::kDuration) return Expected("duration");
            s.offset_ns = (negative ? -1 : 1) * t_[i_++].duration_ns;
          }
          if (!AcceptOp(")")) return Expected(")");
        } else if (AcceptOp("*")) {
          s.group_all_tags = true;
        } else if (Peek().kind == Tok::kRegex) {
          return Status::InvalidArgument("GROUP BY a regex is not supported");
        } else {
          auto tag = Ident();
          if (!tag.ok()) return tag.status();
          s.group_tags.push_back(*tag);
        }
      } while (AcceptOp(","));
    }
    if (Accept("fill")) {
      if (!AcceptOp("(")) return Expected("(");
      if (Accept("null")) {
        s.fill = Select::Fill::kNull;
      } else if (Accept("none")) {
        s.fill = Select::Fill::kNone;
      } else if (Accept("previous")) {
        s.fill = Select::Fill::kPrevious;
      } else if (Accept("linear")) {
        s.fill = Select::Fill::kLinear;
      } else {
        auto n = Operand();
        if (!n.ok() || n->kind != Literal::kNumber)
          return Expected("null, none, previous, linear or a number");
        s.fill = Select::Fill::kNumber;
        s.fill_value = n->number;
      }
      if (!AcceptOp(")")) return Expected(")");
    }
    if (Accept("ORDER")) {
      if (Status st = Keyword("BY"); !st.ok()) return st;
      if (Status st = Keyword("time"); !st.ok()) return st;
      if (Accept("DESC")) {
        s.descending = true;
      } else {
        Accept("ASC");
      }
    }
    for (bool more = true; more;) {
      more = false;
      for (auto [word, target] :
           {std::pair{"LIMIT", &s.limit}, std::pair{"OFFSET", &s.offset},
            std::pair{"SLIMIT", &s.slimit}, std::pair{"SOFFSET", &s.soffset}}) {
        if (Accept(word)) {
          auto n = Count();
          if (!n.ok()) return n.status();
          *target = *n;
          more = true;
        }
      }
    }
    if (Accept("tz")) {
      if (!AcceptOp("(") || Peek().kind != Tok::kString) return Expected("tz('zone')");
      const std::string zone = t_[i_++].text;
      if (!AcceptOp(")")) return Expected(")");
      if (zone != "UTC" && zone != "Etc/UTC" && zone != "Z") {
        s.unsupported = "tz('" + zone + "') is not supported: only UTC is";
      }
    }
    return s;
  }

  Result<Show> ParseShow() {
    Show s;
    ++i_;
    if (Accept("DATABASES")) {
      s.kind = Show::kDatabases;
      return s;
    }
    if (Accept("RETENTION")) {
      if (Status st = Keyword("POLICIES"); !st.ok()) return st;
      s.kind = Show::kRetentionPolicies;
      if (Accept("ON") && !Ident().ok()) return Expected("database");
      return s;
    }
    if (Accept("MEASUREMENTS")) {
      s.kind = Show::kMeasurements;
    } else if (Accept("TAG")) {
      if (Accept("KEYS")) {
        s.kind = Show::kTagKeys;
      } else if (Accept("VALUES")) {
        s.kind = Show::kTagValues;
      } else {
        return Expected("KEYS, VALUES");
      }
    } else if (Accept("FIELD")) {
      if (Status st = Keyword("KEYS"); !st.ok()) return st;
      s.kind = Show::kFieldKeys;
    } else if (Accept("SERIES")) {
      s.kind = Show::kSeries;
    } else {
      return Expected("DATABASES, RETENTION, MEASUREMENTS, TAG, FIELD, SERIES");
    }
    if (Accept("ON") && !Ident().ok()) return Expected("database");
    if (s.kind != Show::kMeasurements && Accept("FROM")) {
      auto sources = Sources();
      if (!sources.ok()) return sources.status();
      s.sources = std::move(*sources);
    }
    if (Accept("WITH")) {
      if (s.kind == Show::kMeasurements) {
        if (Status st = Keyword("MEASUREMENT"); !st.ok()) return st;
        Source m;
        if (AcceptOp("=~")) {
          auto re = Regex();
          if (!re.ok()) return re.status();
          m.regex = *re;
        } else if (AcceptOp("=")) {
          auto name = Ident();
          if (!name.ok()) return name.status();
          m.measurement = *name;
        } else {
          return Expected("=, =~");
        }
        s.with_measurement = std::move(m);
      } else if (s.kind == Show::kTagValues) {
        if (Status st = Keyword("KEY"); !st.ok()) return st;
        if (AcceptOp("=")) {
          auto key = Ident();
          if (!key.ok()) return key.status();
          s.keys.push_back(*key);
        } else if (AcceptOp("!=") || AcceptOp("<>")) {
          auto key = Ident();
          if (!key.ok()) return key.status();
          s.keys.push_back(*key);
          s.key_negated = true;
        } else if (IsOp("=~") || IsOp("!~")) {
          s.key_negated = t_[i_++].text == "!~";
          auto re = Regex();
          if (!re.ok()) return re.status();
          s.key_regex = *re;
        } else if (Accept("IN")) {
          if (!AcceptOp("(")) return Expected("(");
          do {
            auto key = Ident();
            if (!key.ok()) return key.status();
            s.keys.push_back(*key);
          } while (AcceptOp(","));
          if (!AcceptOp(")")) return Expected(")");
        } else {
          return Expected("=, !=, =~, !~, IN");
        }
      } else {
        return Expected("FROM, WHERE, LIMIT");
      }
    } else if (s.kind == Show::kTagValues) {
      return Expected("WITH KEY");
    }
    if (Accept("WHERE")) {
      auto where = Or();
      if (!where.ok()) return where.status();
      s.where = *where;
    }
    for (bool more = true; more;) {
      more = false;
      for (auto [word, target] : {std::pair{"LIMIT", &s.limit}, std::pair{"OFFSET", &s.offset}}) {
        if (Accept(word)) {
          auto n = Count();
          if (!n.ok()) return n.status();
          *target = *n;
          more = true;
        }
      }
    }
    return s;
  }

  // Counts the parser's own recursion.
  struct Nesting {
    explicit Nesting(int* d) : depth(d) { ++*depth; }
    ~Nesting() { --*depth; }
    int* depth;
  };

  std::vector<Token> t_;
  size_t i_ = 0;
  int64_t now_ns_;
  int nesting_ = 0;
};

// --- Conditions ----------------------------------------------------------------------------------

std::string_view TagOf(const Tags& tags, std::string_view key) {
  for (const auto& [k, v] : tags) {
    if (k == key) return v;
  }
  return {};  // InfluxDB: a missing tag equals ''
}

// The WHERE clause split: the time range it bounds and the rest, which may name tags only.
struct Plan {
  int64_t from_ns = storage::kMinTimestampNs;
  int64_t to_ns = storage::kMaxTimestampNs;  // exclusive
  bool from_given = false, to_given = false;
  ConditionPtr tags;  // null: every series
};

// A double as an int64, saturated (and NaN as 0): casting one out of range is undefined.
int64_t Saturate(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

Result<int64_t> TimeOf(const Literal& v) {
  switch (v.kind) {
    case Literal::kTime:
    case Literal::kDuration:
      return v.ns;
    case Literal::kNumber:
      if (v.integer) return v.ns;
      return Saturate(v.number);
    case Literal::kString:
      return storage::ParseRfc3339(v.text);
    default:
      return Status::InvalidArgument("time must be compared with a time");
  }
}

Status Split(const ConditionPtr& c, bool under_or, Plan* plan, ConditionPtr* rest) {
  if (!c) return Status::OK();
  if (c->kind == Condition::kAnd && !under_or) {
    ConditionPtr left, right;
    if (Status s = Split(c->left, false, plan, &left); !s.ok()) return s;
    if (Status s = Split(c->right, false, plan, &right); !s.ok()) return s;
    if (left && right) {
      auto node = std::make_shared<Condition>(*c);
      node->left = left;
      node->right = right;
      *rest = node;
    } else {
      *rest = left ? left : right;
    }
    return Status::OK();
  }
  if (c->kind == Condition::kAnd || c->kind == Condition::kOr) {
    ConditionPtr left, right;
    if (Status s = Split(c->left, true, plan, &left); !s.ok()) return s;
    if (Status s = Split(c->right, true, plan, &right); !s.ok()) return s;
    *rest = c;
    return Status::OK();
  }
  if (c->kind == Condition::kCompare && EqualsNoCase(c->key, "time")) {
    if (under_or) return Status::InvalidArgument("time conditions joined by OR are not supported");
    auto t = TimeOf(c->value);
    if (!t.ok())
      return Status::InvalidArgument("invalid time condition: " +
                                     std::string(t.status().message()));
    const int64_t v = std::clamp(*t, storage::kMinTimestampNs, storage::kMaxTimestampNs - 1);
    if (c->op == ">" || c->op == ">=" || c->op == "=") {
      plan->from_ns = std::max(plan->from_ns, c->op == ">" ? v + 1 : v);
      plan->from_given = true;
    }
    if (c->op == "<" || c->op == "<=" || c->op == "=") {
      plan->to_ns = std::min(plan->to_ns, c->op == "<" ? v : v + 1);
      plan->to_given = true;
    }
    if (c->op == "!=" || c->op == "=~" || c->op == "!~") {
      return Status::InvalidArgument("time " + c->op + " is not supported");
    }
    return Status::OK();
  }
  *rest = c;
  return Status::OK();
}

// Checks that every comparison names a tag (not a field) with a string or regex.
Status CheckTagCondition(const ConditionPtr& c, const std::set<std::string>& fields) {
  if (!c) return Status::OK();
  if (c->kind != Condition::kCompare) {
    if (Status s = CheckTagCondition(c->left, fields); !s.ok()) return s;
    return CheckTagCondition(c->right, fields);
  }
  if (EqualsNoCase(c->key, "time")) return Status::OK();
  if (fields.contains(c->key)) {
    return Status::InvalidArgument("conditions on field values (" + c->key + ") are not supported");
  }
  if (c->op != "=" && c->op != "!=" && c->op != "=~" && c->op != "!~") {
    return Status::InvalidArgument("tag " + c->key + " can only be compared with =, !=, =~, !~");
  }
  if (c->value.kind != Literal::kString && c->value.kind != Literal::kRegex) {
    return Status::InvalidArgument("tag " + c->key + " must be compared with a 'string'");
  }
  return Status::OK();
}

bool MatchTags(const ConditionPtr& c, const Tags& tags) {
  if (!c) return true;
  switch (c->kind) {
    case Condition::kTrue:
      return true;
    case Condition::kAnd:
      return MatchTags(c->left, tags) && MatchTags(c->right, tags);
    case Condition::kOr:
      return MatchTags(c->left, tags) || MatchTags(c->right, tags);
    case Condition::kCompare:
      break;
  }
  if (EqualsNoCase(c->key, "time")) return true;  // checked by the plan's range
  const std::string_view v = TagOf(tags, c->key);
  if (c->op == "=") return v == c->value.text;
  if (c->op == "!=") return v != c->value.text;
  const bool match = RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *c->regex);
  return c->op == "=~" ? match : !match;
}

// --- Execution -----------------------------------------------------------------------------------

class Budget {
 public:
  explicit Budget(const InfluxQlOptions& o)
      : options_(o), deadline_(std::chrono::steady_clock::now() + o.timeout) {}
  Status Points(size_t n) {
    points_ += n;
    if (points_ > options_.max_points) {
      return Status::InvalidArgument("the query would read more than " +
                                     std::to_string(options_.max_points) +
                                     " points (query.max_points): narrow the time range or the "
                                     "series");
    }
    if (std::chrono::steady_clock::now() > deadline_) {
      return Status::InvalidArgument("the query ran longer than " +
                                     std::to_string(options_.timeout.count()) +
                                     " ms (query.timeout) and was stopped");
    }
    return Status::OK();
  }

 private:
  const InfluxQlOptions& options_;
  std::chrono::steady_clock::time_point deadline_;
  size_t points_ = 0;
};

std::string TypeName(storage::ValueType type) {
  switch (type) {
    case storage::ValueType::kFloat:
      return "float";
    case storage::ValueType::kInt:
      return "integer";
    case storage::ValueType::kUint:
      return "unsigned";
    case storage::ValueType::kBool:
      return "boolean";
    case storage::ValueType::kString:
      return "string";
  }
  return "float";
}

InfluxCell CellOf(const storage::Points& p, size_t i) {
  switch (p.type) {
    case storage::ValueType::kString:
      return p.strings[i];
    case storage::ValueType::kBool:
      return p.bits[i] != 0;
    case storage::ValueType::kInt:
      return static_cast<int64_t>(p.bits[i]);
    case storage::ValueType::kUint:
      return static_cast<int64_t>(p.bits[i]);
    case storage::ValueType::kFloat:
      return p.AsDouble(i);
  }
  return std::monostate{};
}

enum class Fn : uint8_t {
  kRaw,
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kSpread,
  kStddev,
  kFirst,
  kLast,
  kMedian,
  kPercentile
};
std::optional<Fn> AggregateOf(std::string_view name) {
  static const std::map<std::string_view, Fn> kFns = {{"count", Fn::kCount},
                                                      {"sum", Fn::kSum},
                                                      {"mean", Fn::kMean},
                                                      {"min", Fn::kMin},
                                                      {"max", Fn::kMax},
                                                      {"spread", Fn::kSpread},
                                                      {"stddev", Fn::kStddev},
                                                      {"first", Fn::kFirst},
                                                      {"last", Fn::kLast},
                                                      {"median", Fn::kMedian},
                                                      {"percentile", Fn::kPercentile}};
  auto it = kFns.find(name);
  return it == kFns.end() ? std::nullopt : std::optional<Fn>(it->second);
}
enum class Transform : uint8_t {
  kNone,
  kDerivative,
  kNonNegativeDerivative,
  kDifference,
  kMovingAverage
};
std::optional<Transform> TransformOf(std::string_view name) {
  if (name == "derivative") return Transform::kDerivative;
  if (name == "non_negative_derivative") return Transform::kNonNegativeDerivative;
  if (name == "difference") return Transform::kDifference;
  if (name == "moving_average") return Transform::kMovingAverage;
  return std::nullopt;
}

// One output column: an aggregate (or raw field), optionally transformed.
struct Column {
  std::string name;
  std::string field;
  Fn fn = Fn::kRaw;
  double percentile = 50;
  Transform transform = Transform::kNone;
  int64_t unit_ns = 1'000'000'000;  // derivative
  size_t window = 2;                // moving_average
};

Result<Column> ColumnOf(const FieldExpr& f) {
  Column c;
  const FieldExpr* inner = &f;
  if (!f.call.empty()) {
    if (auto t = TransformOf(f.call)) {
      c.transform = *t;
      if (*t == Transform::kMovingAverage) {
        if (f.params.size() != 1 || f.params[0].kind != Literal::kNumber || f.params[0].ns < 1) {
          return Status::InvalidArgument("moving_average needs a window of at least 1 point");
        }
        c.window = static_cast<size_t>(f.params[0].ns);
      } else if (!f.params.empty()) {
        if (f.params[0].kind != Literal::kDuration || f.params[0].ns <= 0 ||
            *t == Transform::kDifference) {
          return Status::InvalidArgument(f.call + "'s second argument must be a duration");
        }
        c.unit_ns = f.params[0].ns;
      }
      inner = &f.args[0];
    }
  }
  if (!inner->call.empty()) {
    auto fn = AggregateOf(inner->call);
    if (!fn) return Status::InvalidArgument("function " + inner->call + "() is not supported");
    if (!inner->args.empty() && !inner->args[0].call.empty()) {
      return Status::InvalidArgument("nested function " + inner->args[0].call + "() inside " +
                                     inner->call + "() is not supported");
    }
    c.fn = *fn;
    if (c.fn == Fn::kPercentile) {
      if (inner->params.size() != 1 || inner->params[0].kind != Literal::kNumber ||
          inner->params[0].number < 0 || inner->params[0].number > 100) {
        return Status::InvalidArgument("percentile needs a number 0..100");
      }
      c.percentile = inner->params[0].number;
    } else if (!inner->params.empty()) {
      return Status::InvalidArgument(inner->call + "() takes one field");
    }
  }
  c.field = inner->field;
  c.name = !f.alias.empty() ? f.alias : !f.call.empty() ? f.call : f.field;
  return c;
}

// The values of one bucket of one column's series.
struct Acc {
  storage::Bucket merged;  // count, sum, min, max, sum of squares
  int64_t first_ts = 0, last_ts = 0;
  double first = 0, last = 0;
  std::vector<double> values;  // median, percentile
  void Add(int64_t ts, double v, bool keep) {
    if (merged.count == 0 || ts < first_ts) first_ts = ts, first = v;
    if (merged.count == 0 || ts >= last_ts) last_ts = ts, last = v;
    if (merged.count == 0) merged.min = merged.max = v;
    merged.min = std::min(merged.min, v);
    merged.max = std::max(merged.max, v);
    ++merged.count;
    merged.sum += v;
    merged.sum_squares += v * v;
    if (keep) values.push_back(v);
  }
  void Merge(const storage::Bucket& b, int64_t start_ns) {
    if (b.count == 0) return;
    if (merged.count == 0) merged.min = b.min, merged.max = b.max;
    // A rollup bucket's first and last carry no timestamp: its start stands for both, which
    // orders correctly only within one series (multi-series first/last read raw points).
    if (merged.count == 0 || start_ns < first_ts) first_ts = start_ns, first = b.first;
    if (merged.count == 0 || start_ns >= last_ts) last_ts = start_ns, last = b.last;
    merged.min = std::min(merged.min, b.min);
    merged.max = std::max(merged.max, b.max);
    merged.count += b.count;
    merged.sum += b.sum;
    merged.sum_squares += b.sum_squares;
  }
  // `integers`: the field holds integers, so selectors, sums and spreads are integers too, as
  // InfluxDB answers them.
  InfluxCell Result(const Column& c, bool integers) {
    const double n = static_cast<double>(merged.count);
    if (c.fn == Fn::kCount) return static_cast<int64_t>(merged.count);
    if (merged.count == 0) return std::monostate{};
    if (integers && (c.fn == Fn::kSum || c.fn == Fn::kMin || c.fn == Fn::kMax ||
                     c.fn == Fn::kSpread || c.fn == Fn::kFirst || c.fn == Fn::kLast)) {
      InfluxCell v = Result(c, false);
      return Saturate(std::get<double>(v));
    }
    switch (c.fn) {
      case Fn::kSum:
        return merged.sum;
      case Fn::kMean:
        return merged.sum / n;
      case Fn::kMin:
        return merged.min;
      case Fn::kMax:
        return merged.max;
      case Fn::kSpread:
        return merged.max - merged.min;
      case Fn::kStddev: {
        if (merged.count < 2) return std::monostate{};
        const double mean = merged.sum / n;
        return std::sqrt(std::max(0.0, (merged.sum_squares - n * mean * mean) / (n - 1)));
      }
      case Fn::kFirst:
        return first;
      case Fn::kLast:
        return last;
      case Fn::kMedian: {
        std::sort(values.begin(), values.end());
        const size_t m = values.size() / 2;
        return values.size() % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
      }
      case Fn::kPercentile: {
        std::sort(values.begin(), values.end());
        // InfluxDB's nearest rank.
        int64_t i = static_cast<int64_t>(std::floor(n * c.percentile / 100 + 0.5)) - 1;
        if (i < 0) return std::monostate{};
        return values[static_cast<size_t>(
            std::min<int64_t>(i, static_cast<int64_t>(values.size()) - 1))];
      }
      default:
        return std::monostate{};
    }
  }
};

std::optional<double> AsNumber(const InfluxCell& c) {
  if (auto d = std::get_if<double>(&c)) return *d;
  if (auto i = std::get_if<int64_t>(&c)) return static_cast<double>(*i);
  if (auto b = std::get_if<bool>(&c)) return *b ? 1.0 : 0.0;
  return std::nullopt;
}

// Applies a column's transformation in place, over its non-null cells in row order; rows the
// transformation yields nothing for become null.
void ApplyTransform(const Column& c, const std::vector<int64_t>& times,
                    std::vector<InfluxCell>* cells) {
  if (c.transform == Transform::kNone) return;
  std::optional<size_t> prev;
  std::vector<double> window;
  double window_sum = 0;
  std::vector<InfluxCell> out(cells->size());
  for (size_t i = 0; i < cells->size(); ++i) {
    std::optional<double> v = AsNumber((*cells)[i]);
    if (!v) continue;
    if (c.transform == Transform::kMovingAverage) {
      window.push_back(*v);
      window_sum += *v;
      if (window.size() > c.window) {
        window_sum -= window[window.size() - c.window - 1];
      }
      if (window.size() >= c.window) out[i] = window_sum / static_cast<double>(c.window);
      continue;
    }
    if (prev) {
      const double before = *AsNumber((*cells)[*prev]);
      const double diff = *v - before;
      if (c.transform == Transform::kDifference) {
        out[i] = diff;
      } else {
        const double elapsed = static_cast<double>(times[i] - times[*prev]);
        const double rate = elapsed > 0 ? diff / (elapsed / static_cast<double>(c.unit_ns)) : 0;
        if (c.transform == Transform::kDerivative || rate >= 0) out[i] = rate;
      }
    }
    prev = i;
  }
  *cells = std::move(out);
}

struct Group {
  Tags tags;  // the GROUP BY tag values
  std::vector<const SeriesInfo*> series;
};

class Executor {
 public:
  Executor(const storage::Storage& storage, storage::TenantId tenant,
           const InfluxQlOptions& options, const std::vector<SeriesInfo>& all)
      : storage_(storage), tenant_(tenant), options_(options), all_(all) {}

  Result<InfluxStatement> Run(const Select& s);
  Result<InfluxStatement> Run(const Show& s);

 private:
  Status Rows(const Select& s, const std::vector<Column>& columns, const Plan& plan,
              const Group& group, InfluxSeries* out, Budget* budget);
  Status Buckets(const Select& s, const std::vector<Column>& columns, const Plan& plan,
                 const Group& group, InfluxSeries* out, Budget* budget);

  const storage::Storage& storage_;
  storage::TenantId tenant_;
  const InfluxQlOptions& options_;
  const std::vector<SeriesInfo>& all_;
};

Result<InfluxStatement> Executor::Run(const Select& s) {
  if (!s.unsupported.empty()) return Status::InvalidArgument(s.unsupported);
  InfluxStatement st;
  std::vector<Column> columns;
  bool aggregates = false, raw = false;
  for (const FieldExpr& f : s.fields) {
    auto c = ColumnOf(f);
    if (!c.ok()) return c.status();
    (c->fn == Fn::kRaw ? raw : aggregates) = true;
    columns.push_back(std::move(*c));
  }
  if (aggregates && raw) {
    return Status::InvalidArgument("mixing aggregate and non-aggregate queries is not supported");
  }
  if (s.interval_ns && !aggregates) {
    return Status::InvalidArgument("GROUP BY requires at least one aggregate function");
  }
  Plan plan;
  if (Status split = Split(s.where, false, &plan, &plan.tags); !split.ok()) return split;
  if (s.interval_ns) {
    if (!plan.from_given) {
      return Status::InvalidArgument("a GROUP BY time query needs a lower time bound in WHERE");
    }
    if (!plan.to_given) plan.to_ns = options_.now_ns + 1;
  }
  if (plan.from_ns >= plan.to_ns) return st;  // an empty time range: no series

  // Measurements in name order, each with its series.
  std::map<std::string, std::vector<const SeriesInfo*>> measurements;
  for (const SeriesInfo& info : all_) {
    for (const Source& source : s.sources) {
      if (source.Matches(info.key.measurement)) {
        measurements[info.key.measurement].push_back(&info);
        break;
      }
    }
  }
  size_t series_read = 0;
  for (auto& [name, series] : measurements) {
    std::set<std::string> fields, tag_keys;
    for (const SeriesInfo* info : series) {
      fields.insert(info->key.field);
      for (const auto& [k, v] : info->key.tags) tag_keys.insert(k);
    }
    if (Status check = CheckTagCondition(plan.tags, fields); !check.ok()) return check;
    // SELECT *: every field, and for raw points every tag not grouped by.
    std::vector<Column> cols;
    for (const Column& c : columns) {
      if (c.field != "*") {
        cols.push_back(c);
        continue;
      }
      for (const std::string& field : fields) {
        Column each = c;
        each.field = field;
        each.name = c.fn == Fn::kRaw ? field : c.name + "_" + field;
        cols.push_back(std::move(each));
      }
    }
    std::vector<std::string> group_tags =
        s.group_all_tags ? std::vector<std::string>(tag_keys.begin(), tag_keys.end())
                         : s.group_tags;
    std::sort(group_tags.begin(), group_tags.end());
    group_tags.erase(std::unique(group_tags.begin(), group_tags.end()), group_tags.end());
    if (raw && columns.size() == 1 && columns[0].field == "*") {
      for (const std::string& tag : tag_keys) {
        if (std::find(group_tags.begin(), group_tags.end(), tag) != group_tags.end()) continue;
        Column c;
        c.name = c.field = tag;
        c.fn = Fn::kRaw;
        c.transform = Transform::kNone;
        c.percentile = -1;  // marks a tag column
        cols.push_back(std::move(c));
      }
      // InfluxDB orders the columns of SELECT * by name, fields and tags together.
      std::stable_sort(cols.begin(), cols.end(),
                       [](const Column& a, const Column& b) { return a.name < b.name; });
    }
    std::map<Tags, Group> groups;
    for (const SeriesInfo* info : series) {
      if (!MatchTags(plan.tags, info->key.tags)) continue;
      bool wanted = false;
      for (const Column& c : cols)
        wanted = wanted || c.field == info->key.field || c.percentile < 0;
      if (!wanted) continue;
      Tags key;
      for (const std::string& tag : group_tags) {
        key.emplace_back(tag, std::string(TagOf(info->key.tags, tag)));
      }
      Group& g = groups[key];
      g.tags = key;
      g.series.push_back(info);
      if (++series_read > options_.max_series) {
        return Status::InvalidArgument("the query would read more than " +
                                       std::to_string(options_.max_series) +
                                       " series (query.max_series): narrow it with WHERE");
      }
    }
    Budget budget(options_);
    for (auto& [key, group] : groups) {
      InfluxSeries out;
      out.name = name;
      out.tags = key;
      out.time_first = true;
      out.columns.push_back("time");
      for (const Column& c : cols) out.columns.push_back(c.name);
      Status done = aggregates ? Buckets(s, cols, plan, group, &out, &budget)
                               : Rows(s, cols, plan, group, &out, &budget);
      if (!done.ok()) return done;
      if (s.descending) std::reverse(out.values.begin(), out.values.end());
      if (s.offset)
        out.values.erase(
            out.values.begin(),
            out.values.begin() + static_cast<ptrdiff_t>(std::min(s.offset, out.values.size())));
      if (s.limit && out.values.size() > s.limit) out.values.resize(s.limit);
      if (!out.values.empty()) st.series.push_back(std::move(out));
    }
  }
  if (s.soffset)
    st.series.erase(st.series.begin(), st.series.begin() + static_cast<ptrdiff_t>(std::min(
                                                               s.soffset, st.series.size())));
  if (s.slimit && st.series.size() > s.slimit) st.series.resize(s.slimit);
  return st;
}

// Raw points: one row per timestamp and series (its tags without the field), in time order.
Status Executor::Rows(const Select& s, const std::vector<Column>& columns, const Plan& plan,
                      const Group& group, InfluxSeries* out, Budget* budget) {
  (void)s;
  std::map<std::pair<int64_t, const Tags*>, std::vector<InfluxCell>> rows;
  std::map<Tags, const Tags*> identities;  // one pointer per tag set, ordering rows stably
  for (const SeriesInfo* info : group.series) {
    const Tags* identity = identities.emplace(info->key.tags, &info->key.tags).first->second;
    std::vector<size_t> targets;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].field == info->key.field && columns[c].percentile >= 0) targets.push_back(c);
    }
    if (targets.empty()) continue;
    auto points = storage_.ReadRaw(tenant_, info->id, plan.from_ns, plan.to_ns);
    if (!points.ok()) return points.status();
    if (Status b = budget->Points(points->size()); !b.ok()) return b;
    for (size_t i = 0; i < points->size(); ++i) {
      auto& row = rows[{points->ts_ns[i], identity}];
      if (row.empty()) {
        row.resize(columns.size());
        for (size_t c = 0; c < columns.size(); ++c) {
          if (columns[c].percentile < 0)
            row[c] = std::string(TagOf(info->key.tags, columns[c].field));
        }
      }
      for (size_t c : targets) row[c] = CellOf(*points, i);
    }
  }
  std::vector<int64_t> times;
  std::vector<std::vector<InfluxCell>> cells(columns.size());
  for (auto& [key, row] : rows) {
    times.push_back(key.first);
    for (size_t c = 0; c < columns.size(); ++c) cells[c].push_back(std::move(row[c]));
  }
  bool transformed = false;
  for (size_t c = 0; c < columns.size(); ++c) {
    ApplyTransform(columns[c], times, &cells[c]);
    transformed = transformed || columns[c].transform != Transform::kNone;
  }
  for (size_t r = 0; r < times.size(); ++r) {
    std::vector<InfluxCell> row{times[r]};
    bool any = false;
    for (size_t c = 0; c < columns.size(); ++c) {
      any = any ||
            (columns[c].percentile >= 0 && !std::holds_alternative<std::monostate>(cells[c][r]));
      row.push_back(std::move(cells[c][r]));
    }
    if (any || !transformed) out->values.push_back(std::move(row));
  }
  return Status::OK();
}

// Aggregates per GROUP BY time bucket (one bucket for the whole range without).
Status Executor::Buckets(const Select& s, const std::vector<Column>& columns, const Plan& plan,
                         const Group& group, InfluxSeries* out, Budget* budget) {
  const int64_t interval = s.interval_ns;
  // Bucket b covers [origin + b * interval, origin + (b + 1) * interval).
  int64_t origin = 0;
  size_t count = 1;
  if (interval) {
    const int64_t offset = ((s.offset_ns % interval) + interval) % interval;
    int64_t rel = plan.from_ns - offset;
    int64_t floor = rel / interval * interval;
    if (floor > rel) floor -= interval;
    origin = floor + offset;
    const long double n = (static_cast<long double>(plan.to_ns) - origin) / interval;
    if (n > static_cast<long double>(options_.max_buckets)) {
      return Status::InvalidArgument("the query would answer more than " +
                                     std::to_string(options_.max_buckets) +
                                     " GROUP BY time buckets (query.max_buckets): use a longer "
                                     "interval or a shorter range");
    }
    count = static_cast<size_t>(std::ceil(n));
  }
  if (count * columns.size() > options_.max_buckets) {
    return Status::InvalidArgument("the query would answer more than " +
                                   std::to_string(options_.max_buckets) +
                                   " cells of GROUP BY time buckets (query.max_buckets): use a "
                                   "longer interval, a shorter range or fewer columns");
  }
  auto index = [&](int64_t ts) -> size_t {
    return interval ? static_cast<size_t>((ts - origin) / interval) : 0;
  };
  std::vector<std::vector<Acc>> acc(columns.size(), std::vector<Acc>(count));
  std::vector<bool> integers(columns.size(), true);
  for (size_t c = 0; c < columns.size(); ++c) {
    const Column& col = columns[c];
    std::vector<const SeriesInfo*> series;
    for (const SeriesInfo* info : group.series) {
      if (info->key.field != col.field) continue;
      series.push_back(info);
      integers[c] = integers[c] && (info->type == storage::ValueType::kInt ||
                                    info->type == storage::ValueType::kUint);
    }
    const bool selector_time = !interval && (col.fn == Fn::kFirst || col.fn == Fn::kLast);
    const bool needs_values = col.fn == Fn::kMedian || col.fn == Fn::kPercentile;
    const bool first_last_many = (col.fn == Fn::kFirst || col.fn == Fn::kLast) && series.size() > 1;
    // Rollups answer buckets whose edges lie on the interval's multiples since the epoch; the
    // partial bucket at the start of the range reads raw points.
    const bool rollups = options_.use_rollups && interval && !needs_values && !first_last_many &&
                         !selector_time && origin % interval == 0;
    for (const SeriesInfo* info : series) {
      if (info->type == storage::ValueType::kString && col.fn != Fn::kCount) {
        return Status::InvalidArgument("only count() is supported on string field " +
                                       info->key.field);
      }
    }
    // Rollups answer whole buckets, of every numeric series at once; the partial buckets at
    // either end, and string series, read raw points.
    int64_t whole_from = plan.to_ns, whole_to = plan.to_ns;
    if (rollups) {
      whole_from = plan.from_ns == origin ? origin : origin + interval;
      whole_to = origin + (plan.to_ns - origin) / interval * interval;
    }
    if (whole_from >= whole_to) whole_from = whole_to = plan.to_ns;
    std::vector<storage::SeriesId> rolled;
    for (const SeriesInfo* info : series) {
      if (info->type != storage::ValueType::kString) rolled.push_back(info->id);
    }
    std::vector<std::vector<storage::Bucket>> rolled_buckets(rolled.size());
    if (whole_from < whole_to && !rolled.empty()) {
      auto read = storage_.ReadDownsampledMany(tenant_, rolled, whole_from, whole_to,
                                               std::chrono::nanoseconds(interval));
      if (!read.ok()) return read.status();
      rolled_buckets = std::move(*read);
    }
    size_t next_rolled = 0;
    for (const SeriesInfo* info : series) {
      const bool strings = info->type == storage::ValueType::kString;
      const std::vector<storage::Bucket>* buckets =
          strings ? nullptr : &rolled_buckets[next_rolled++];
      // last() over the whole range is the series' newest point whenever that lies in range.
      if (col.fn == Fn::kLast && !interval && !strings) {
        auto latest = storage_.ReadLatest(tenant_, info->id);
        if (!latest.ok() && latest.status().code() != Status::Code::kNotFound) {
          return latest.status();
        }
        if (!latest.ok()) continue;  // an empty series
        if (latest->ts_ns[0] >= plan.from_ns && latest->ts_ns[0] < plan.to_ns) {
          if (Status b = budget->Points(1); !b.ok()) return b;
          acc[c][0].Add(latest->ts_ns[0], latest->AsDouble(0), false);
          continue;
        }
      }
      if (buckets) {
        if (Status b = budget->Points(buckets->size()); !b.ok()) return b;
        for (const storage::Bucket& bucket : *buckets) {
          if (bucket.start_ns < whole_from || bucket.start_ns >= whole_to) continue;
          acc[c][index(bucket.start_ns)].Merge(bucket, bucket.start_ns);
        }
      }
      const int64_t raw_to = strings ? plan.to_ns : whole_from;
      const int64_t raw_from = strings ? plan.to_ns : whole_to;
      for (auto [from, to] : {std::pair{plan.from_ns, raw_to}, std::pair{raw_from, plan.to_ns}}) {
        if (from >= to) continue;
        auto points = storage_.ReadRaw(tenant_, info->id, from, to);
        if (!points.ok()) return points.status();
        if (Status b = budget->Points(points->size()); !b.ok()) return b;
        for (size_t i = 0; i < points->size(); ++i) {
          acc[c][index(points->ts_ns[i])].Add(points->ts_ns[i], strings ? 0 : points->AsDouble(i),
                                              needs_values);
        }
      }
    }
  }
  // Cells by column, then fill and transformations.
  std::vector<int64_t> times(count);
  for (size_t b = 0; b < count; ++b) {
    times[b] = interval ? origin + static_cast<int64_t>(b) * interval
                        : (plan.from_given ? plan.from_ns : 0);
  }
  if (!interval && columns.size() == 1 &&
      (columns[0].fn == Fn::kFirst || columns[0].fn == Fn::kLast) && acc[0][0].merged.count) {
    times[0] = columns[0].fn == Fn::kFirst ? acc[0][0].first_ts : acc[0][0].last_ts;
  }
  std::vector<std::vector<InfluxCell>> cells(columns.size(), std::vector<InfluxCell>(count));
  std::vector<bool> empty(count, true);
  for (size_t c = 0; c < columns.size(); ++c) {
    for (size_t b = 0; b < count; ++b) {
      if (acc[c][b].merged.count) empty[b] = false;
      cells[c][b] = acc[c][b].Result(columns[c], integers[c]);
    }
  }
  if (!interval && empty[0]) return Status::OK();  // no point: no series
  for (size_t c = 0; c < columns.size(); ++c) {
    auto& col = cells[c];
    const bool counts = columns[c].fn == Fn::kCount;
    auto is_null = [&](size_t b) {
      return std::holds_alternative<std::monostate>(col[b]) ||
             (counts && acc[c][b].merged.count == 0);
    };
    if (counts && s.fill == Select::Fill::kNull) {
      for (size_t b = 0; b < count; ++b)
        if (acc[c][b].merged.count == 0) col[b] = std::monostate{};
    }
    switch (s.fill) {
      case Select::Fill::kNull:
      case Select::Fill::kNone:
        break;
      case Select::Fill::kNumber:
        for (size_t b = 0; b < count; ++b) {
          if (is_null(b)) {
            col[b] = counts ? InfluxCell(Saturate(s.fill_value)) : InfluxCell(s.fill_value);
          }
        }
        break;
      case Select::Fill::kPrevious: {
        std::optional<InfluxCell> last;
        for (size_t b = 0; b < count; ++b) {
          if (!is_null(b)) {
            last = col[b];
          } else if (last) {
            col[b] = *last;
          }
        }
        break;
      }
      case Select::Fill::kLinear: {
        std::optional<size_t> prev;
        for (size_t b = 0; b < count; ++b) {
          if (is_null(b)) continue;
          if (prev && b > *prev + 1) {
            const double a = *AsNumber(col[*prev]), z = *AsNumber(col[b]);
            for (size_t k = *prev + 1; k < b; ++k) {
              col[k] =
                  a + (z - a) * static_cast<double>(k - *prev) / static_cast<double>(b - *prev);
            }
          }
          prev = b;
        }
        break;
      }
    }
    ApplyTransform(columns[c], times, &col);
  }
  bool transformed = false;
  for (const Column& c : columns) transformed = transformed || c.transform != Transform::kNone;
  for (size_t b = 0; b < count; ++b) {
    std::vector<InfluxCell> row{times[b]};
    bool any = false;
    for (size_t c = 0; c < columns.size(); ++c) {
      any = any || !std::holds_alternative<std::monostate>(cells[c][b]);
      row.push_back(std::move(cells[c][b]));
    }
    if (!any && (s.fill == Select::Fill::kNone || transformed)) continue;
    out->values.push_back(std::move(row));
  }
  return Status::OK();
}

// A Go duration as InfluxDB prints it: "168h0m0s", "0s".
std::string GoDuration(int64_t ns) {
  if (ns <= 0) return "0s";
  const int64_t s = ns / 1'000'000'000;
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m" +
         std::to_string(s % 60) + "s";
}

Result<InfluxStatement> Executor::Run(const Show& s) {
  InfluxStatement st;
  auto single = [&](std::string name, std::vector<std::string> columns) -> InfluxSeries& {
    InfluxSeries& out = st.series.emplace_back();
    out.name = std::move(name);
    out.columns = std::move(columns);
    return out;
  };
  auto page = [&](std::vector<std::vector<InfluxCell>>* values) {
    if (s.offset)
      values->erase(values->begin(),
                    values->begin() + static_cast<ptrdiff_t>(std::min(s.offset, values->size())));
    if (s.limit && values->size() > s.limit) values->resize(s.limit);
  };
  if (s.kind == Show::kDatabases) {
    single("databases", {"name"}).values.push_back({options_.database});
    return st;
  }
  if (s.kind == Show::kRetentionPolicies) {
    auto retention = storage_.GetRetention(tenant_);
    if (!retention.ok()) return retention.status();
    int64_t raw_ns = 0;
    if (retention->applied.raw) {
      raw_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(*retention->applied.raw).count();
    }
    single("", {"name", "duration", "shardGroupDuration", "replicaN", "default"})
        .values.push_back(
            {std::string("autogen"), GoDuration(raw_ns), std::string("24h0m0s"), int64_t{1}, true});
    return st;
  }
  Plan plan;
  if (Status split = Split(s.where, false, &plan, &plan.tags); !split.ok()) return split;
  auto wanted = [&](const SeriesInfo& info) {
    if (!s.sources.empty() &&
        std::none_of(s.sources.begin(), s.sources.end(),
                     [&](const Source& src) { return src.Matches(info.key.measurement); }))
      return false;
    if (s.with_measurement && !s.with_measurement->Matches(info.key.measurement)) return false;
    return MatchTags(plan.tags, info.key.tags);
  };
  std::map<std::string, std::set<std::vector<std::string>>> by_measurement;
  std::set<std::string> names;
  for (const SeriesInfo& info : all_) {
    if (!wanted(info)) continue;
    const std::string& m = info.key.measurement;
    switch (s.kind) {
      case Show::kMeasurements:
        names.insert(m);
        break;
      case Show::kTagKeys:
        for (const auto& [k, v] : info.key.tags) by_measurement[m].insert({k});
        break;
      case Show::kTagValues:
        for (const auto& [k, v] : info.key.tags) {
          bool match = s.key_regex ? RE2::PartialMatch(k, *s.key_regex)
                                   : std::find(s.keys.begin(), s.keys.end(), k) != s.keys.end();
          if (match != s.key_negated) by_measurement[m].insert({k, v});
        }
        break;
      case Show::kFieldKeys:
        by_measurement[m].insert({info.key.field, TypeName(info.type)});
        break;
      case Show::kSeries: {
        std::string key = m;
        for (const auto& [k, v] : info.key.tags) key += "," + k + "=" + v;
        names.insert(std::move(key));
        break;
      }
      default:
        break;
    }
  }
  if (s.kind == Show::kMeasurements || s.kind == Show::kSeries) {
    if (names.empty()) return st;
    InfluxSeries& out = single(s.kind == Show::kMeasurements ? "measurements" : "",
                               {s.kind == Show::kMeasurements ? "name" : "key"});
    for (const std::string& n : names) out.values.push_back({n});
    page(&out.values);
    return st;
  }
  std::vector<std::string> columns = s.kind == Show::kTagKeys ? std::vector<std::string>{"tagKey"}
                                     : s.kind == Show::kTagValues
                                         ? std::vector<std::string>{"key", "value"}
                                         : std::vector<std::string>{"fieldKey", "fieldType"};
  for (const auto& [m, rows] : by_measurement) {
    InfluxSeries& out = single(m, columns);
    for (const auto& row : rows) {
      std::vector<InfluxCell> cells(row.begin(), row.end());
      out.values.push_back(std::move(cells));
    }
    page(&out.values);
  }
  return st;
}

}  // namespace

Result<std::vector<InfluxStatement>> RunInfluxQl(const storage::Storage& storage,
                                                 storage::TenantId tenant, std::string_view text,
                                                 const InfluxQlOptions& options) {
  auto tokens = Lexer(text).Run();
  if (!tokens.ok()) {
    return Status::InvalidArgument("error parsing query: " +
                                   std::string(tokens.status().message()));
  }
  auto statements = Parser(std::move(*tokens), options.now_ns).Run();
  if (!statements.ok()) {
    return Status::InvalidArgument("error parsing query: " +
                                   std::string(statements.status().message()));
  }
  const auto all = storage.SeriesSnapshot(tenant);
  Executor executor(storage, tenant, options, *all);
  std::vector<InfluxStatement> out;
  for (const Statement& statement : *statements) {
    auto result = std::visit([&](const auto& s) { return executor.Run(s); }, statement);
    if (result.ok()) {
      out.push_back(std::move(*result));
    } else if (result.status().code() == Status::Code::kInvalidArgument) {
      out.push_back({.series = {}, .error = std::string(result.status().message())});
    } else {
      return result.status();
    }
  }
  return out;
}

}  // namespace foresight::query
